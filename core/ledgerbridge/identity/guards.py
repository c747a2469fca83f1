"""Route guards: a first line at the door. Services check permissions again regardless
(`ledgerbridge.identity.permissions`), so a page or a script reaching a service directly is held
to the same rules."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ledgerbridge.identity.callers import caller_of, refusal
from ledgerbridge.identity.permissions import require_owner, require_person


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a person with a session, or an app with a valid API key."""
    if caller_of(connection) is None:
        raise refusal(connection)


def person_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a signed-in person (a session, not an API key)."""
    caller = caller_of(connection)
    if caller is None:
        raise refusal(connection)
    require_person(caller)


def owner_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: an owner of the current workspace, signed in as a person."""
    caller = caller_of(connection)
    if caller is None:
        raise refusal(connection)
    require_owner(caller)
