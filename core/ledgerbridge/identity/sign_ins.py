"""What every successful sign-in does, however the person proved who they are.

The password form, the JSON login and "Sign in with <issuer>" all end here, so they behave alike: any
session the browser still had is closed (a fresh id at every sign-in: no session fixation), a new one
opens, and the audit trail records `account.sign_in` with how (`signed_in_with`: "password" or the
issuer's name) and from where, in the workspace the session starts in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ledgerbridge import audit
from ledgerbridge.db import write_transaction
from ledgerbridge.identity.callers import USER_AGENT_KEPT, session_caller
from ledgerbridge.identity.sessions import close_session, open_session

PASSWORD = "password"


async def open_signed_in_session(user_id: int, *, signed_in_with: str, client: str, user_agent: str = "",
                                 old_session: str | None = None, workspace_id: int | None = None,
                                 details: dict[str, Any] | None = None) -> str:
    """Close `old_session`, open a session for `user_id` (in `workspace_id`, else their first
    workspace), record the sign-in, and return the new session's secret for the cookie."""
    if old_session:
        await close_session(old_session)
    token = await open_session(user_id, workspace_id)
    caller = await session_caller(token)
    assert caller is not None
    async with write_transaction():
        await audit.record(replace(caller, ip=client[:64], user_agent=user_agent[:USER_AGENT_KEPT]),
                           "account.sign_in", target_type="user", target_id=user_id,
                           after={"signed_in_with": signed_in_with, **(details or {})})
    return token
