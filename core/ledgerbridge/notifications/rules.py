"""Which events owe people a notice, and who gets it: the workspace's owners.

A notice is a row written in the same transaction as the event that caused it, so a rolled-back
change tells nobody. It is always shown in the admin UI; it is also emailed when SMTP is set and
the person has not opted out of its kind (`preferences`).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Membership, Notice, NotificationOptOut, OutboxEvent, Role, utcnow

# Rules only read `Event`'s attributes; typing it would make this package import the events one.
EventLike = Any

REPEATED_FAILURES = 3  # export failures in a day before owners are told
QUIET_HOURS = 24  # at most one "exports keep failing" notice a day per workspace


class NoticeKind(StrEnum):
    connection_needs_reconnect = "connection_needs_reconnect"
    exports_failing = "exports_failing"
    endpoint_disabled = "endpoint_disabled"


KIND_LABELS = {
    NoticeKind.connection_needs_reconnect: "A connection needs reconnecting",
    NoticeKind.exports_failing: "Exports keep failing",
    NoticeKind.endpoint_disabled: "A webhook endpoint was disabled",
}


async def notify_owners(workspace_id: int, kind: NoticeKind, subject: str, body: str, link: str = "") -> int:
    """Write a notice for each owner (inside the caller's transaction); returns how many are to be emailed."""
    owners = await Membership.select(Membership.user).where(
        (Membership.workspace == workspace_id) & (Membership.role == Role.owner)
    )
    user_ids = [row["user"] for row in owners]
    opted_out = set()
    if user_ids:
        rows = await NotificationOptOut.select(NotificationOptOut.user).where(
            NotificationOptOut.user.is_in(user_ids) & (NotificationOptOut.kind == kind)
        )
        opted_out = {row["user"] for row in rows}
    mail_on = bool(get_settings().smtp_url)
    due = 0
    now = utcnow()
    for user_id in user_ids or [None]:
        email_due = mail_on and user_id is not None and user_id not in opted_out
        due += email_due
        await Notice(workspace=workspace_id, user=user_id, kind=kind, subject=subject, body=body, link=link,
                     created_at=now, email_due=email_due).save()
    return due


async def notices_for_event(event: EventLike, outbox_id: int) -> int:
    """The notices `event` owes; returns how many are to be emailed."""
    kind = str(event.type)
    data = event.data
    if kind == "connection.needs_reconnect":
        return await notify_owners(
            event.workspace_id, NoticeKind.connection_needs_reconnect,
            f"Reconnect {data.provider} ({data.tenant_name or data.tenant_id})",
            f"{data.provider} refused LedgerBridge's access to {data.tenant_name or data.tenant_id}: {data.reason}\n\n"
            f"Nothing syncs with it until an owner reconnects it. Reconnect here: {data.reconnect_url}",
            data.reconnect_url,
        )
    if kind == "invoice.export_failed":
        return await _exports_failing(event)
    return 0


async def _exports_failing(event: EventLike) -> int:
    since = utcnow() - timedelta(hours=QUIET_HOURS)
    failures = await OutboxEvent.count().where(
        (OutboxEvent.workspace == event.workspace_id) & (OutboxEvent.type == "invoice.export_failed")
        & (OutboxEvent.occurred_at >= since)
    )
    if failures < REPEATED_FAILURES:
        return 0
    told = await Notice.exists().where(
        (Notice.workspace == event.workspace_id) & (Notice.kind == NoticeKind.exports_failing)
        & (Notice.created_at >= since)
    )
    if told:
        return 0
    link = f"{get_settings().base_url}/issues"
    return await notify_owners(
        event.workspace_id, NoticeKind.exports_failing, f"{failures} invoice exports failed today",
        f"The books refused {failures} invoices in the last day; the latest: {event.data.message}\n"
        f"Fix: {event.data.fix}\n\nSee every open problem here: {link}", link,
    )
