"""Reading the audit trail: owners and accountants, and keys with the `audit:read` scope.

Newest first, filtered by action (exact, or a prefix ending in `.` such as `invoice.`), actor,
target and time; the trail itself is written by `ledgerbridge.audit`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from piccolo.columns.combination import Combinable

from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, contains, page_of
from ledgerbridge.domain.audit.schemas import AuditEntryOut, AuditPage
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.tables import AuditEntry


def _json(stored: Any) -> dict[str, Any]:
    value = json.loads(stored) if isinstance(stored, str) else stored
    return value if isinstance(value, dict) else {}


def entry_out(row: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        actor_user_id=row.actor_user,
        actor_api_key_id=row.actor_api_key,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        ip=row.ip,
        user_agent=row.user_agent,
        before=_json(row.before),
        after=_json(row.after),
    )


async def list_entries(
    caller: Caller,
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    count_up_to: int | None = None,
) -> AuditPage:
    """`count_up_to` caps `total` (the admin page says "more than 1,000" rather than count a trail of
    tens of thousands of entries on every view); the API counts them all."""
    require(caller, Permission.audit_read)
    assert caller.workspace_id is not None
    where: Combinable = AuditEntry.workspace == caller.workspace_id
    if action:
        where = where & (AuditEntry.action.like(f"{action}%") if action.endswith(".") else AuditEntry.action == action)
    if actor:
        where = where & contains(AuditEntry.actor, actor)
    if target_type:
        where = where & (AuditEntry.target_type == target_type)
    if target_id:
        where = where & (AuditEntry.target_id == target_id)
    if since is not None:
        where = where & (AuditEntry.occurred_at >= since)
    if until is not None:
        where = where & (AuditEntry.occurred_at < until)
    rows, total = await page_of(
        AuditEntry, where, limit=limit, offset=offset, order_by=AuditEntry.occurred_at, ascending=False,
        count_up_to=count_up_to,
    )
    return Page(items=[entry_out(row) for row in rows], total=total, limit=limit, offset=offset)
