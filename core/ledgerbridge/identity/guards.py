"""Route guards: a first line at the door. Services check permissions again regardless
(`ledgerbridge.identity.permissions`), so a page or a script reaching a service directly is held
to the same rules."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from ledgerbridge.identity.callers import caller_of, refusal
from ledgerbridge.identity.errors import Forbidden, PasswordChangeRequired
from ledgerbridge.identity.permissions import (
    FIRST_PASSWORD_OPT,
    PERMISSION_OPT,
    Permission,
    require,
    require_owner,
    require_person,
)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


def permitted(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard on the whole app: the permission the route declares in `opt` (see
    `permissions.needs`), checked before the request body is read. A state-changing route that
    declares none is refused outright, so a forgotten declaration fails closed (and the route-table
    test names it).

    A person whose password someone else chose (`Caller.must_change_password`) may use only the
    routes marked `open_before_password_change`; API keys are never affected."""
    caller = caller_of(connection)
    if caller is not None and caller.must_change_password and not handler.opt.get(FIRST_PASSWORD_OPT):
        raise PasswordChangeRequired()
    declared = handler.opt.get(PERMISSION_OPT)
    methods: set[str] = set(getattr(handler, "http_methods", set()))
    if declared is None or (declared == Permission.read and methods & STATE_CHANGING):
        if methods & STATE_CHANGING:
            raise Forbidden(
                "This route declares no permission, so nobody may use it.",
                fix="Report it: every state-changing route must declare a permission.",
            )
        return
    permission = Permission(declared)
    if permission is Permission.public:
        return
    if caller is None:
        raise refusal(connection)
    require(caller, permission)
