"""Sync runs as lists show them: one query with the provider joined, never a query per row."""

from __future__ import annotations

from typing import Any

from ledgerbridge.jobs import loads
from ledgerbridge.tables import ACTIVE_RUN_STATES, RecordType, RunKind, RunRecord, SyncRun
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


ACTIVE_RUNS_READ = 100  # a workspace's active runs looked through for one record's; beyond it, the newest
RUNS_SHOWN = 5


def _touches_invoice(run: dict[str, Any], invoice_id: int, copies: dict[int, str]) -> bool:
    """Whether an active run works on this invoice: exports it (alone or in a batch), exports its payment,
    or reads back statuses from a connection that holds a copy of it (all of them, or its remote id)."""
    params = loads(run["params"])
    params = params if isinstance(params, dict) else {}
    kind = run["kind"]
    if kind in (RunKind.export_invoice, RunKind.export_payment):
        return params.get("invoice_id") == invoice_id
    if kind == RunKind.export_invoices:
        return invoice_id in (params.get("invoice_ids") or [])
    if kind == RunKind.poll_status and run["connection"] in copies:
        wanted = params.get("remote_ids")
        return not wanted or copies[run["connection"]] in wanted
    return False


async def runs_touching_invoice(workspace_id: int, invoice_id: int, copies: dict[int, str]) -> list[dict[str, Any]]:
    """The active runs that can change what the invoice page shows, oldest first.

    `copies` maps each connection holding a copy of the invoice to the copy's id there. The page polls
    only while this is not empty, so another invoice's export or a customer import does not keep it
    asking. Any other active run that has already recorded this invoice counts too. The active runs
    are read bare first (one query, no joins); only the few that touch the invoice are described.
    """
    active = await SyncRun.select(SyncRun.id, SyncRun.kind, SyncRun.connection, SyncRun.params).where(
        (SyncRun.workspace == workspace_id) & SyncRun.state.is_in(list(ACTIVE_RUN_STATES))
    ).order_by(SyncRun.id, ascending=False).limit(ACTIVE_RUNS_READ)
    touching = {run["id"] for run in active if _touches_invoice(run, invoice_id, copies)}
    others = [run["id"] for run in active if run["id"] not in touching]
    if others:
        touching |= {row["run"] for row in await RunRecord.select(RunRecord.run).where(
            RunRecord.run.is_in(others) & (RunRecord.record_type == RecordType.invoice)
            & (RunRecord.record_id == invoice_id)
        )}
    if not touching:
        return []
    shown = sorted(touching)[:RUNS_SHOWN]
    runs = await recent_runs(workspace_id, where=SyncRun.id.is_in(shown), limit=RUNS_SHOWN)
    return sorted(runs, key=lambda run: run["id"])
