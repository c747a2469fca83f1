"""The HTTP face of sync runs: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import SyncRunOut, error_responses
from ledgerbridge.domain.sync_runs import services
from ledgerbridge.domain.sync_runs.schemas import SyncRunDetailOut, SyncRunPage
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import RunKind, RunState


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
        return await services.list_runs(
            caller, connection_id=connection_id, run_state=run_state, kind=kind, limit=limit, offset=offset
        )

    @get("/{run_id:int}", summary="A run with the records it touched and its issues", responses=error_responses(404))
    async def get_run(self, caller: CallerDep, run_id: FromPath[int]) -> SyncRunDetailOut:
        return await services.get_run(caller, run_id=run_id)

    @post(
        "/{run_id:int}/retry",
        opt=needs(Permission.exports_run),
        status_code=HTTP_200_OK,
        summary="Run a failed or cancelled run again (as a new run)",
        responses=error_responses(404, 409),
    )
    async def retry(self, caller: CallerDep, run_id: FromPath[int]) -> SyncRunOut:
        return await services.retry(caller, run_id=run_id)

    @post(
        "/{run_id:int}/cancel",
        opt=needs(Permission.exports_run),
        status_code=HTTP_200_OK,
        summary="Cancel a queued run, or stop a running one at its next checkpoint",
        responses=error_responses(404, 409),
    )
    async def cancel(self, caller: CallerDep, run_id: FromPath[int]) -> SyncRunOut:
        return await services.cancel(caller, run_id=run_id)
