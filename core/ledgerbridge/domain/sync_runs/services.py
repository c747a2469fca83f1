"""Sync history: every run with its counts, progress, the records it touched and its issues."""

from __future__ import annotations

from piccolo.columns.combination import Combinable

from ledgerbridge import audit, jobs
from ledgerbridge.api.errors import Conflict
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.schemas import SyncRunOut
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.api.sync_state import issue_out, run_out
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.sync_runs.schemas import RunRecordOut, SyncRunDetailOut, SyncRunPage
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.tables import ACTIVE_RUN_STATES, RunKind, RunRecord, RunState, SyncIssue, SyncRun

RECORDS_SHOWN = 500


async def retry_run(caller: Caller, run: SyncRun) -> SyncRun:
    """A new run with the same kind, connection and parameters; the failed one stays in history."""
    assert caller.workspace_id is not None
    async with jobs.transaction() as tx:
        new = await tx.record(
            RunKind(run.kind),
            workspace_id=caller.workspace_id,
            connection_id=run.connection,
            params=jobs.loads(run.params),
            trigger=caller.trigger,
            progress_total=run.progress_total,
        )
        await audit.record(caller, "sync_run.retry", target_type="sync_run", target_id=run.id,
                           before={"state": run.state}, after={"run_id": new.id, "kind": run.kind})
        return new


async def list_runs(
    caller: Caller,
    *,
    connection_id: int | None = None,
    run_state: RunState | None = None,
    kind: RunKind | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> SyncRunPage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where: Combinable = SyncRun.workspace == caller.workspace_id
    if connection_id is not None:
        where = where & (SyncRun.connection == connection_id)
    if run_state is not None:
        where = where & (SyncRun.state == run_state)
    if kind is not None:
        where = where & (SyncRun.kind == kind)
    rows, total = await page_of(
        SyncRun, where, limit=limit, offset=offset, order_by=SyncRun.created_at, ascending=False
    )
    return Page(items=[run_out(row) for row in rows], total=total, limit=limit, offset=offset)


async def get_run(caller: Caller, *, run_id: int) -> SyncRunDetailOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    run = await in_workspace(SyncRun, run_id, caller.workspace_id, "sync run")
    records = await RunRecord.objects().where(RunRecord.run == run.id).order_by(RunRecord.id).limit(RECORDS_SHOWN)
    total = await RunRecord.count().where(RunRecord.run == run.id)
    issues = await SyncIssue.objects().where(SyncIssue.run == run.id).order_by(SyncIssue.id)
    return SyncRunDetailOut(
        run=run_out(run),
        records=[
            RunRecordOut(
                id=record.id,
                record_type=record.record_type,
                record_id=record.record_id,
                remote_id=record.remote_id,
                outcome=record.outcome,
                message=record.message,
                created_at=record.created_at,
            )
            for record in records
        ],
        records_total=total,
        issues=[issue_out(issue) for issue in issues],
    )


async def retry(caller: Caller, *, run_id: int) -> SyncRunOut:
    require(caller, Permission.exports_run)
    assert caller.workspace_id is not None
    run = await in_workspace(SyncRun, run_id, caller.workspace_id, "sync run")
    if run.state in ACTIVE_RUN_STATES or run.state == RunState.done:
        raise Conflict(
            f"Run {run.id} is {run.state}; only failed or cancelled runs are retried.",
            fix="Wait for it to finish." if run.state in ACTIVE_RUN_STATES else "Start a new sync instead.",
        )
    return run_out(await retry_run(caller, run))


async def cancel(caller: Caller, *, run_id: int) -> SyncRunOut:
    require(caller, Permission.exports_run)
    assert caller.workspace_id is not None
    run = await in_workspace(SyncRun, run_id, caller.workspace_id, "sync run")
    async with write_transaction():  # jobs.cancel's own transaction joins this one
        if not await jobs.cancel(run.id):
            raise Conflict(
                f"Run {run.id} is {run.state}; only queued or running runs can be cancelled.", fix="Nothing to do."
            )
        await audit.record(caller, "sync_run.cancel", target_type="sync_run", target_id=run.id,
                           before={"state": run.state, "kind": run.kind}, after={"state": RunState.cancelled})
    return run_out(await in_workspace(SyncRun, run_id, caller.workspace_id, "sync run"))
