"""Each person chooses which kinds of notice reach them by email; the admin UI shows them all."""

from __future__ import annotations

from ledgerbridge.db import write_transaction
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require, require_person
from ledgerbridge.notifications.rules import KIND_LABELS, NoticeKind
from ledgerbridge.tables import NotificationOptOut, utcnow


async def opted_out(user_id: int) -> set[str]:
    rows = await NotificationOptOut.select(NotificationOptOut.kind).where(NotificationOptOut.user == user_id)
    return {row["kind"] for row in rows}


async def set_opt_outs(user_id: int, kinds: set[str]) -> set[str]:
    """Replace the person's opt-outs with `kinds` (unknown kinds are ignored)."""
    wanted = {kind for kind in kinds if kind in NoticeKind.__members__.values()}
    async with write_transaction():
        await NotificationOptOut.delete().where(NotificationOptOut.user == user_id)
        for kind in sorted(wanted):
            await NotificationOptOut(user=user_id, kind=kind, created_at=utcnow()).save()
    return wanted


async def choose_emails(caller: Caller, wanted: set[str]) -> set[str]:
    """The person's own choice of which notices reach them by email; returns the kinds now opted out of.

    A person's own preference, so `own_account` is what it needs (an API key has no person to choose for).
    """
    require(caller, Permission.own_account)
    require_person(caller, why="Email choices belong to a signed-in person, not an API key.")
    assert caller.user_id is not None
    return await set_opt_outs(caller.user_id, {str(kind) for kind in KIND_LABELS} - wanted)
