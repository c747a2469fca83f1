"""Sync history: every run with its counts, progress, the records it touched and its issues."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK
from piccolo.columns.combination import Combinable

from ledgerbridge import jobs
from ledgerbridge.api.errors import Conflict
from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset, page_of
from ledgerbridge.api.schemas import RunRecordOut, SyncRunDetailOut, SyncRunOut, SyncRunPage, error_responses
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.api.sync_state import issue_out, run_out
from ledgerbridge.auth import Caller, CallerDep
from ledgerbridge.tables import ACTIVE_RUN_STATES, RunKind, RunRecord, RunState, SyncIssue, SyncRun

RECORDS_SHOWN = 500


async def retry_run(caller: Caller, run: SyncRun) -> SyncRun:
    """A new run with the same kind, connection and parameters; the failed one stays in history."""
    assert caller.workspace_id is not None
    async with jobs.transaction() as tx:
        return await tx.record(
            RunKind(run.kind),
            workspace_id=caller.workspace_id,
            connection_id=run.connection,
            params=jobs.loads(run.params),
            trigger=caller.trigger,
            progress_total=run.progress_total,
        )


class SyncRunController(Controller):
    path = "/sync-runs"
    tags = ["sync runs"]

    @get("/", summary="List sync runs, newest first", responses=error_responses())
    async def list_runs(
        self,
        caller: CallerDep,
        connection_id: FromQuery[int | None] = None,
        run_state: Annotated[RunState | None, QueryParameter(name="state")] = None,
        kind: FromQuery[RunKind | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> SyncRunPage:
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
        return SyncRunPage(items=[run_out(row) for row in rows], total=total, limit=limit, offset=offset)

    @get("/{run_id:int}", summary="A run with the records it touched and its issues", responses=error_responses(404))
    async def get_run(self, caller: CallerDep, run_id: FromPath[int]) -> SyncRunDetailOut:
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

    @post(
        "/{run_id:int}/retry",
        status_code=HTTP_200_OK,
        summary="Run a failed or cancelled run again (as a new run)",
        responses=error_responses(404, 409),
    )
    async def retry(self, caller: CallerDep, run_id: FromPath[int]) -> SyncRunOut:
        assert caller.workspace_id is not None
        run = await in_workspace(SyncRun, run_id, caller.workspace_id, "sync run")
        if run.state in ACTIVE_RUN_STATES or run.state == RunState.done:
            raise Conflict(
                f"Run {run.id} is {run.state}; only failed or cancelled runs are retried.",
                fix="Wait for it to finish." if run.state in ACTIVE_RUN_STATES else "Start a new sync instead.",
            )
        return run_out(await retry_run(caller, run))

    @post(
        "/{run_id:int}/cancel",
        status_code=HTTP_200_OK,
        summary="Cancel a queued run, or stop a running one at its next checkpoint",
        responses=error_responses(404, 409),
    )
    async def cancel(self, caller: CallerDep, run_id: FromPath[int]) -> SyncRunOut:
        assert caller.workspace_id is not None
        run = await in_workspace(SyncRun, run_id, caller.workspace_id, "sync run")
        if not await jobs.cancel(run.id):
            raise Conflict(
                f"Run {run.id} is {run.state}; only queued or running runs can be cancelled.", fix="Nothing to do."
            )
        return run_out(await in_workspace(SyncRun, run_id, caller.workspace_id, "sync run"))
