"""Sync history: every run, live progress while it runs, the records it touched and its issues."""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.sync_runs import services as sync_runs_services
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import RunKind, RunRecord, RunState, SyncIssue, SyncRun
from litestar import Response, get, post
from litestar.params import FromPath
from piccolo.columns.combination import Combinable

from ledgerbridge_web.common import (
    PAGE_SIZE,
    AnyRequest,
    Paging,
    capped_count,
    failed,
    fragment,
    page,
    page_number,
    person,
    safe_next,
    see_other,
    workspace_of,
)
from ledgerbridge_web.names import records as records_named
from ledgerbridge_web.runs import one_run, recent_runs

RECORDS_SHOWN = 200


@get("/sync-history")
async def history(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    query = request.query_params
    where: Combinable = SyncRun.workspace == ws
    state = str(query.get("state") or "")
    if state == RunState.failed:
        # "Failed" finds every run where something failed, including one that finished with failed records.
        where = where & ((SyncRun.state == RunState.failed) | (SyncRun.failed > 0))
    elif state in set(RunState):
        where = where & (SyncRun.state == state)
    kind = str(query.get("kind") or "")
    if kind in set(RunKind):
        where = where & (SyncRun.kind == kind)
    origin = str(query.get("origin") or "")
    manual = SyncRun.trigger.like("user:%") | SyncRun.trigger.like("api_key:%")
    if origin == "manual":
        where = where & manual
    elif origin == "automatic":
        where = where & SyncRun.trigger.not_like("user:%") & SyncRun.trigger.not_like("api_key:%")
    connection = str(query.get("connection_id") or "")
    if connection.isdigit():
        where = where & (SyncRun.connection == int(connection))
    paging = Paging(page_number(request), await capped_count(SyncRun, where, page_number(request)))
    runs = await recent_runs(ws, where=where, limit=PAGE_SIZE, offset=paging.offset)
    active = [run["id"] for run in runs if run["active"]]
    return page(
        request,
        "sync_history.html",
        runs=runs,
        active=active,
        paging=paging,
        link=lambda number: paging.link(request, number),
        states=list(RunState),
        kinds=sorted(RunKind, key=str),
        chosen_state=state,
        chosen_kind=kind,
        chosen_origin=origin,
        filtered=bool(state or kind or origin or connection),
    )


@get("/sync-history/progress")
async def progress(request: AnyRequest) -> Response[Any]:
    """Progress bars of some runs; polled by htmx until every one has finished."""
    me = person(request)
    ids = [int(value) for value in str(request.query_params.get("ids") or "").split(",") if value.isdigit()][:20]
    runs = await recent_runs(workspace_of(me), where=SyncRun.id.is_in(ids), limit=len(ids)) if ids else []
    runs.sort(key=lambda run: run["id"])
    return fragment("_progress.html", runs=runs, ids=[run["id"] for run in runs])


async def _run_detail(workspace_id: int, run_id: int) -> dict[str, Any]:
    """What the run page and its live fragment show: the run, the records it touched so far, its issues."""
    run = await _run_or_not_found(workspace_id, run_id)
    records = await RunRecord.select().where(RunRecord.run == run_id).order_by(RunRecord.id).limit(RECORDS_SHOWN)
    records_total = await RunRecord.count().where(RunRecord.run == run_id)
    issues = await SyncIssue.select().where(SyncIssue.run == run_id).order_by(SyncIssue.id)
    refs = [(row["record_type"], row["record_id"]) for row in [*records, *issues]]
    names = await records_named(workspace_id, refs)
    return {"run": run, "records": records, "records_total": records_total, "issues": issues, "names": names}


@get("/sync-history/{run_id:int}")
async def run_page(request: AnyRequest, run_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    return page(request, "sync_run.html", **await _run_detail(workspace_of(me), run_id))


@get("/sync-history/{run_id:int}/live")
async def run_live(request: AnyRequest, run_id: FromPath[int]) -> Response[Any]:
    """The run page's changing part, polled by htmx while the run is active: records appear as they land,
    and the answer once it has finished carries no poll, so the page stops asking."""
    me = person(request)
    return fragment("_run_live.html", me=me, **await _run_detail(workspace_of(me), run_id))


@post("/sync-history/{run_id:int}/retry", opt=needs(Permission.exports_run))
async def retry(request: AnyRequest, run_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    try:
        new = await sync_runs_services.retry(me, run_id=run_id)
    except LedgerBridgeError as exc:
        return failed(f"/sync-history/{run_id}", exc)
    return see_other(f"/sync-history/{new.id}", notice=f"Retrying run #{run_id} as run #{new.id}.")


async def _run_or_not_found(workspace_id: int, run_id: int) -> dict[str, Any]:
    run = await one_run(workspace_id, run_id)
    if run is None:
        raise LedgerBridgeError(f"There is no sync run {run_id} in this workspace.", code="not_found",
                                fix="Open Sync history and pick one from the list.")
    return run


@get("/sync-history/{run_id:int}/cancel", opt=needs(Permission.exports_run))
async def confirm_cancel(request: AnyRequest, run_id: FromPath[int]) -> Response[Any]:
    """The confirmation as its own page, so cancelling takes two deliberate steps without JavaScript."""
    me = person(request)
    run = await _run_or_not_found(workspace_of(me), run_id)
    back = safe_next(request.query_params.get("next"), f"/sync-history/{run_id}")
    if not run["active"]:
        return see_other(back, notice=f"Run #{run_id} is already {run['state']}; there is nothing to cancel.")
    return page(request, "confirm_cancel_run.html", run=run, back=back)


@post("/sync-history/{run_id:int}/cancel", opt=needs(Permission.exports_run))
async def cancel(request: AnyRequest, run_id: FromPath[int]) -> Response[Any]:
    """Cancel through the API's handler; a running run is marked at once and its worker stops at its next checkpoint."""
    me = person(request)
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), f"/sync-history/{run_id}")
    before = await _run_or_not_found(workspace_of(me), run_id)
    try:
        await sync_runs_services.cancel(me, run_id=run_id)
    except LedgerBridgeError as exc:
        return failed(back, exc)
    if before["state"] == RunState.running:
        notice = f"Run #{run_id} cancelled. It was running: it stops at its next checkpoint; what it did stays done."
    else:
        notice = f"Run #{run_id} cancelled before it started."
    return see_other(back, notice=notice)


@post("/sync-history/retry-failed", opt=needs(Permission.exports_run))
async def retry_failed(request: AnyRequest) -> Response[Any]:
    """Retry every failed run on this page's selection (or all failed runs when none is ticked)."""
    me = person(request)
    ws = workspace_of(me)
    form = await request.form()
    ids = [int(value) for value in form.getall("ids", []) if str(value).isdigit()]
    where = (SyncRun.workspace == ws) & (SyncRun.state == RunState.failed)
    if ids:
        where = where & SyncRun.id.is_in(ids)
    failed_ids = [row["id"] for row in await SyncRun.select(SyncRun.id).where(where).limit(PAGE_SIZE)]
    new_ids = []
    for run_id in failed_ids:
        try:
            new_ids.append((await sync_runs_services.retry(me, run_id=run_id)).id)
        except LedgerBridgeError:
            continue
    return see_other("/sync-history", notice=f"Retrying {len(new_ids)} failed run{'s' if len(new_ids) != 1 else ''}.")


HANDLERS = [history, progress, run_page, run_live, retry, confirm_cancel, cancel, retry_failed]
