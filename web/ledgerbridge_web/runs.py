"""Sync runs as lists show them: one query with the provider joined, never a query per row."""

from __future__ import annotations

from typing import Any

from ledgerbridge.jobs import loads
from ledgerbridge.tables import SyncRun
from piccolo.columns.combination import Combinable

from ledgerbridge_web.names import is_manual, triggers

RUN_COLUMNS = (
    SyncRun.id,
    SyncRun.kind,
    SyncRun.state,
    SyncRun.trigger,
    SyncRun.connection,
    SyncRun.created_at,
    SyncRun.started_at,
    SyncRun.finished_at,
    SyncRun.progress_done,
    SyncRun.progress_total,
    SyncRun.seen,
    SyncRun.created,
    SyncRun.updated,
    SyncRun.linked,
    SyncRun.skipped,
    SyncRun.failed,
    SyncRun.error,
    SyncRun.params,
    SyncRun.connection.provider.as_alias("provider"),
    SyncRun.connection.tenant_name.as_alias("tenant_name"),
)


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """Add what templates need: readable kind, duration in seconds, parsed params."""
    row["params"] = loads(row["params"])
    row["kind_label"] = str(row["kind"]).replace("_", " ")
    started, finished = row.get("started_at"), row.get("finished_at")
    row["duration"] = (finished - started).total_seconds() if started and finished else None
    row["active"] = row["state"] in ("queued", "running")
    row["manual"] = is_manual(str(row["trigger"] or ""))
    # "done" with failed records is not a success: lists say "done with N failed" in the warning colour.
    row["state_label"] = (f"done with {row['failed']} failed" if row["state"] == "done" and row.get("failed")
                          else str(row["state"]).replace("_", " "))
    return row


async def recent_runs(
    workspace_id: int, *, where: Combinable | None = None, limit: int = 10, offset: int = 0
) -> list[dict[str, Any]]:
    condition: Combinable = SyncRun.workspace == workspace_id
    if where is not None:
        condition = condition & where
    rows = (
        await SyncRun.select(*RUN_COLUMNS)
        .where(condition)
        .order_by(SyncRun.created_at, ascending=False)
        .order_by(SyncRun.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    described = [describe(row) for row in rows]
    people = await triggers(workspace_id, (str(row["trigger"] or "") for row in described))
    for row in described:
        row["started_by"] = people.get(str(row["trigger"] or ""), "")
    return described


async def one_run(workspace_id: int, run_id: int) -> dict[str, Any] | None:
    rows = await recent_runs(workspace_id, where=SyncRun.id == run_id, limit=1)
    return rows[0] if rows else None
