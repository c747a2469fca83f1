"""The dashboard: how each integration is doing, what needs attention, and what ran lately."""

from __future__ import annotations

from typing import Any

from ledgerbridge.identity.callers import caller_of
from ledgerbridge.tables import RunState, SyncIssue, SyncRun
from litestar import Response, get
from piccolo.query.functions.aggregate import Count

from ledgerbridge_web import chart
from ledgerbridge_web.common import AnyRequest, fragment, page, person, workspace_of
from ledgerbridge_web.integrations import busy_connections, connection_views
from ledgerbridge_web.runs import recent_runs
from ledgerbridge_web.webhooks import open_notices

RECENT_RUNS = 10


async def open_issue_counts(workspace_id: int) -> dict[int | None, int]:
    rows = (
        await SyncIssue.select(SyncIssue.connection, Count(alias="count"))
        .where((SyncIssue.workspace == workspace_id) & SyncIssue.resolved_at.is_null())
        .group_by(SyncIssue.connection)
    )
    return {row["connection"]: row["count"] for row in rows}


async def _recent(workspace_id: int) -> dict[str, Any]:
    """People's own runs (signed in or by API key) first: scheduled polls would push them off the list."""
    manual = SyncRun.trigger.like("user:%") | SyncRun.trigger.like("api_key:%")
    automatic = SyncRun.trigger.not_like("user:%") & SyncRun.trigger.not_like("api_key:%")
    running = (SyncRun.workspace == workspace_id) & SyncRun.state.is_in([RunState.queued, RunState.running])
    return {"runs": await recent_runs(workspace_id, where=manual, limit=RECENT_RUNS),
            "automatic_running": await SyncRun.count().where(running & automatic)}


@get("/")
async def dashboard(request: AnyRequest) -> Response[Any]:
    me = caller_of(request)
    if me is not None and me.user_id is not None and me.workspace_id is None:
        return page(request, "dashboard.html", no_workspace=True)
    me = person(request)
    ws = workspace_of(me)
    issues = await open_issue_counts(ws)
    days = await chart.daily_counts(ws)
    return page(
        request,
        "dashboard.html",
        no_workspace=False,
        views=await connection_views(ws),
        busy=await busy_connections(ws),
        issues=issues,
        issues_total=sum(issues.values()),
        **await _recent(ws),
        days=days,
        bars=chart.bars(days),
        exported_total=sum(d.exported for d in days),
        failed_total=sum(d.failed for d in days),
        notices=await open_notices(me),
    )


@get("/dashboard/runs")
async def dashboard_runs(request: AnyRequest) -> Response[Any]:
    """The recent-runs table alone, for htmx to refresh in place."""
    me = person(request)
    return fragment("_recent_runs.html", me=me, **await _recent(workspace_of(me)))


HANDLERS = [dashboard, dashboard_runs]
