"""Sync issues: a failure becomes one open issue on the record it concerns, never a lost record.

The same problem seen again bumps `times` and `last_seen_at` on the open issue instead of adding
rows, so a run retried all night shows one issue "seen 40 times", not forty.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.db import fetch_raw, marks, write_transaction
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.tables import SyncIssue, SyncRun, utcnow


async def raise_issue(
    *,
    workspace_id: int,
    code: str,
    message: str,
    fix: str = "",
    connection_id: int | None = None,
    record_type: str | None = None,
    record_id: int | None = None,
    run_id: int | None = None,
) -> SyncIssue:
    now = utcnow()
    async with write_transaction():
        query = SyncIssue.objects().where(
            (SyncIssue.workspace == workspace_id)
            & (SyncIssue.code == code)
            & SyncIssue.resolved_at.is_null()
            & (SyncIssue.record_type.is_null() if record_type is None else SyncIssue.record_type == record_type)
            & (SyncIssue.record_id.is_null() if record_id is None else SyncIssue.record_id == record_id)
            & (SyncIssue.connection.is_null() if connection_id is None else SyncIssue.connection == connection_id)
        )
        issue = await query.first()
        if issue is not None:
            issue.times += 1
            issue.last_seen_at = now
            issue.message, issue.fix = message, fix or issue.fix
            issue.run = run_id or issue.run
            await issue.save()
            return issue
        issue = SyncIssue(
            workspace=workspace_id, connection=connection_id, run=run_id, record_type=record_type,
            record_id=record_id, code=code, message=message, fix=fix, first_seen_at=now, last_seen_at=now,
        )
        await issue.save()
        await emit(records.issue_changed(True, issue))
        return issue


async def issue_from_error(
    error: LedgerBridgeError, *, workspace_id: int, connection_id: int | None, record_type: str | None = None,
    record_id: int | None = None, run_id: int | None = None,
) -> SyncIssue:
    return await raise_issue(
        workspace_id=workspace_id, code=error.code, message=error.message, fix=error.fix,
        connection_id=connection_id, record_type=record_type, record_id=record_id, run_id=run_id,
    )


async def resolve(*, workspace_id: int, record_type: str, record_id: int, connection_id: int | None = None,
                  codes: list[str] | None = None) -> int:
    """Close a record's open issues once the record synced; returns how many were closed."""
    condition = (
        (SyncIssue.workspace == workspace_id)
        & (SyncIssue.record_type == record_type)
        & (SyncIssue.record_id == record_id)
        & SyncIssue.resolved_at.is_null()
    )
    if connection_id is not None:
        condition &= SyncIssue.connection == connection_id
    if codes:
        condition &= SyncIssue.code.is_in(codes)
    return await _close(condition)


async def resolve_many(*, workspace_id: int, record_type: str, record_ids: list[int], connection_id: int) -> int:
    """`resolve` for many records of one connection in one statement (a batch just exported); the
    closed issues' events are emitted as `resolve` does. Returns how many were closed."""
    if not record_ids:
        return 0
    async with write_transaction():  # raw: on every exported batch, Piccolo built the `IN` list a value at a time
        closed = await fetch_raw(
            f"UPDATE {SyncIssue._meta.tablename} SET resolved_at = ? WHERE workspace = ? AND record_type = ? "
            f'AND record_id IN ({marks(record_ids)}) AND resolved_at IS NULL AND "connection" = ? '
            "RETURNING id", utcnow(), workspace_id, record_type, *record_ids, connection_id)
        await _announce([row["id"] for row in closed])
    return len(closed)


async def _close(condition: Any) -> int:
    """Close the open issues `condition` selects, each announced (`issue.changed`) with the change."""
    async with write_transaction():
        closed = await SyncIssue.update({SyncIssue.resolved_at: utcnow()}).where(condition).returning(SyncIssue.id)
        await _announce([row["id"] for row in closed])
    return len(closed)


async def _announce(closed: list[int]) -> None:
    if closed:
        for issue in await SyncIssue.objects().where(SyncIssue.id.is_in(closed)):
            await emit(records.issue_changed(False, issue))


async def record_run_failure(run: SyncRun, error: LedgerBridgeError) -> SyncIssue:
    """A whole run failed: the issue sits on the connection (or workspace) with the run attached."""
    return await issue_from_error(error, workspace_id=run.workspace, connection_id=run.connection, run_id=run.id)
