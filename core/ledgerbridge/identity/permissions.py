"""What a caller's role allows, decided here and only here.

Services call these before they act, for people and API keys alike; route guards and pages only
repeat them or show their refusal. API keys act with member rights: a leaked key must not be able
to mint more keys or manage members.
"""

from __future__ import annotations

from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.tables import Role


def may_manage_workspace(caller: Caller) -> bool:
    """Owners of the current workspace, signed in as people (never API keys), manage its members and
    API keys; pages ask this to decide which forms to show, services through `require_owner`."""
    return caller.user_id is not None and caller.role == Role.owner


def require_person(caller: Caller, *, why: str | None = None, fix: str | None = None) -> None:
    """Refuse API keys: the action needs someone in a browser (consent, switching workspace)."""
    if caller.user_id is None:
        raise Forbidden(why or "This action needs a signed-in person, not an API key.", fix=fix or "Sign in to do it.")


def require_owner(caller: Caller) -> None:
    """Refuse anyone but an owner of the current workspace."""
    if not may_manage_workspace(caller):
        raise Forbidden(
            "Only owners of this workspace can do this.",
            fix="Ask an owner of the workspace to do it, or to make you an owner.",
        )
