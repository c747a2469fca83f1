"""What a signed-in person does with their own identity, for the API and the pages alike."""

from __future__ import annotations

from ledgerbridge import audit
from ledgerbridge.api.errors import Invalid
from ledgerbridge.db import write_transaction
from ledgerbridge.identity.callers import Caller, session_caller
from ledgerbridge.identity.errors import BadCredentials
from ledgerbridge.identity.passwords import authenticate, check_password_rules, hash_password, run_hashing
from ledgerbridge.identity.permissions import require_person
from ledgerbridge.identity.sessions import close_sessions_of, switch_workspace
from ledgerbridge.tables import User


async def switch_to(caller: Caller, workspace_id: int) -> Caller:
    """Make `workspace_id` the caller's current workspace; a person's session only, and a member's."""
    require_person(caller)
    assert caller.user_id is not None and caller.session_token is not None
    await switch_workspace(caller.session_token, caller.user_id, workspace_id)
    updated = await session_caller(caller.session_token)
    assert updated is not None
    return updated


async def change_own_password(caller: Caller, current: str, new: str, *, client: str) -> None:
    """A person sets their own password, proving the current one first.

    The proof goes through `authenticate`, so guessing the current password here meets the same
    throttle as the sign-in form. Every other session of theirs ends: whoever learnt the old
    password is signed out everywhere, and the person stays signed in where they changed it. A
    password someone else chose (`first_passwords`) is proved the same way, and choosing one's own
    clears that mark.
    """
    require_person(caller, why="Only a signed-in person can change their password, not an API key.")
    assert caller.user_id is not None
    check_password_rules(new, "new_password")
    if new == current:
        raise Invalid("new_password", "must differ from the current password")
    try:
        await authenticate(caller.email, current, client=client)
    except BadCredentials:
        raise Invalid("current_password", "is not right", fix="Type your current password again.") from None
    new_hash = await run_hashing(hash_password, new)
    async with write_transaction():
        await User.update({User.password_hash: new_hash, User.must_change_password: False}).where(
            User.id == caller.user_id
        )
        await close_sessions_of(caller.user_id, keep=caller.session_token)
        await audit.record(caller, "account.password_change", target_type="user", target_id=caller.user_id)
