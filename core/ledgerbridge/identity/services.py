"""What a signed-in person does with their own identity, for the API and the pages alike."""

from __future__ import annotations

from ledgerbridge.identity.callers import Caller, session_caller
from ledgerbridge.identity.permissions import require_person
from ledgerbridge.identity.sessions import switch_workspace


async def switch_to(caller: Caller, workspace_id: int) -> Caller:
    """Make `workspace_id` the caller's current workspace; a person's session only, and a member's."""
    require_person(caller)
    assert caller.user_id is not None and caller.session_token is not None
    await switch_workspace(caller.session_token, caller.user_id, workspace_id)
    updated = await session_caller(caller.session_token)
    assert updated is not None
    return updated
