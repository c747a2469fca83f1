"""Each person chooses which kinds of notice reach them by email; the admin UI shows them all."""

from __future__ import annotations

from ledgerbridge.db import write_transaction
from ledgerbridge.notifications.rules import NoticeKind
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
