"""A person's notices on the dashboard: dismissing one is their own business, checked like any action."""

from __future__ import annotations

from ledgerbridge.db import write_transaction
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require, require_person
from ledgerbridge.tables import Notice, utcnow


async def dismiss_notice(caller: Caller, *, notice_id: int) -> bool:
    """Hide a notice from the caller's dashboard; False when it is not one of theirs (or already gone).

    Notices addressed to the whole workspace (no user) are dismissed for it; another person's, or
    another workspace's, are left alone, so a guessed id changes nothing.
    """
    require(caller, Permission.own_account)
    require_person(caller, why="Notices belong to signed-in people, not API keys.")
    async with write_transaction():
        dismissed = await Notice.update({Notice.dismissed_at: utcnow()}).where(
            (Notice.id == notice_id) & (Notice.workspace == caller.workspace_id) & Notice.dismissed_at.is_null()
            & ((Notice.user == caller.user_id) | Notice.user.is_null())
        ).returning(Notice.id)
    return bool(dismissed)
