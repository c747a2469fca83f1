"""Time entries synced on their own: "sync the times, invoice them in the books".

Besides following the invoice that bills them (`followers.export_time_entries`, sent as already
billed), selected time entries can go to the books by themselves, as billable time for the
bookkeeper to invoice there. Each entry keeps one link, so editing a synced entry re-sends it as an
update of the same remote record, never a second one. A provider that keeps no time records
(`Capabilities.time_activities` false, e.g. Xero) is refused before anything is queued.

Time an invoice no longer bills (voided here, or deleted in the books) is free again, here and
there: `queue_freed_time` sends the entries' copies again as billable (QuickBooks `BillableStatus`
`HasBeenBilled` back to `Billable`, FreshBooks and Acme `billed` false), so the bookkeeper may
invoice them in the books and nothing shows billed there that is free here.
"""

from __future__ import annotations

from ledgerbridge import connections
from ledgerbridge.errors import LedgerBridgeError, NotSupported, ProviderError
from ledgerbridge.jobs import JobTransaction, RunContext
from ledgerbridge.plugins import get_registry
from ledgerbridge.sync.followers import export_time_entry
from ledgerbridge.sync.refusals import refusals_become_issues
from ledgerbridge.tables import (
    Connection,
    ConnectionStatus,
    ExternalLink,
    Invoice,
    RecordType,
    RunKind,
    SyncRun,
    TimeEntry,
)


def keeps_time(connection: Connection) -> bool:
    """Whether the connection's provider takes time entries from us at all."""
    registry = get_registry()
    return (registry.provider(connection.provider).capabilities.time_activities
            and registry.implements(connection.provider, "export_time_entry"))


def refuse_unless_time(connection: Connection) -> None:
    """The clear refusal for a provider without time records, before anything is queued."""
    if not keeps_time(connection):
        name = get_registry().provider(connection.provider).name
        raise NotSupported(
            f"{name} keeps no time records, so time entries cannot be synced to it.",
            fix="Bill the time on an invoice here and export the invoice; or keep the books in a provider "
                "with time tracking.", code="time_not_supported",
        )


async def queue_time_sync(tx: JobTransaction, connection: Connection, entry_ids: list[int], trigger: str) -> int:
    """Record the run that sends `entry_ids`, inside the caller's transaction (its cause)."""
    refuse_unless_time(connection)
    run = await tx.record(RunKind.export_time_entries, workspace_id=connection.workspace,
                          connection_id=connection.id, params={"time_entry_ids": entry_ids}, trigger=trigger,
                          progress_total=len(entry_ids))
    return run.id


async def queue_freed_time(tx: JobTransaction, workspace_id: int, entry_ids: list[int], trigger: str) -> list[SyncRun]:
    """Record, in the caller's transaction (the void or read-back that freed them), one run per books
    connection holding copies of `entry_ids`, which sends each as billable again.

    Exactly once: each send is an update of the entry's one link through the write-ahead record
    (`ensure_exported`), and a copy already saying "not billed" has the fingerprint of what is sent,
    so a resumed or repeated run sends nothing. A provider that keeps no time records holds no
    copies and gets no run; a read-only connection gets none either (writes go to the books only).
    """
    if not entry_ids:
        return []
    rows = await ExternalLink.select(ExternalLink.connection, ExternalLink.record_id).where(
        (ExternalLink.workspace == workspace_id) & (ExternalLink.record_type == RecordType.time_entry)
        & ExternalLink.record_id.is_in(entry_ids) & ExternalLink.remote_id.is_not_null()
    )
    held: dict[int, list[int]] = {}
    for row in rows:
        held.setdefault(row["connection"], []).append(row["record_id"])
    if not held:
        return []
    books = await Connection.objects().where(
        Connection.id.is_in(list(held)) & Connection.is_books.eq(True)
        & (Connection.status != ConnectionStatus.disconnected)
    )
    runs = []
    for connection in books:
        if keeps_time(connection):
            ids = sorted(held[connection.id])
            runs.append(await tx.record(RunKind.export_time_entries, workspace_id=workspace_id,
                                        connection_id=connection.id, params={"time_entry_ids": ids},
                                        trigger=trigger, progress_total=len(ids)))
    return runs


async def linked_connections(workspace_id: int, entry_id: int) -> list[Connection]:
    """The connections holding a copy of the entry: an edit here must update each of them."""
    rows = await ExternalLink.select(ExternalLink.connection).where(
        (ExternalLink.workspace == workspace_id) & (ExternalLink.record_type == RecordType.time_entry)
        & (ExternalLink.record_id == entry_id) & ExternalLink.remote_id.is_not_null()
    )
    ids = [row["connection"] for row in rows]
    if not ids:
        return []
    return list(await Connection.objects().where(Connection.id.is_in(ids)))


async def run_export_time_entries(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    ids: list[int] = ctx.params["time_entry_ids"]
    done: list[int] = ctx.checkpoint.get("done", [])
    for entry_id in ids:
        if entry_id in done:
            continue
        entry = await TimeEntry.objects().where(TimeEntry.id == entry_id).first()
        if entry is not None and entry.workspace == connection.workspace:
            invoice = None
            if entry.invoice is not None:
                invoice = await Invoice.objects().where(Invoice.id == entry.invoice).first()
            about = f"Time entry of {entry.person} on {entry.worked_on}"
            async with refusals_become_issues(ctx, connection, RecordType.time_entry, entry.id,
                                              catch=LedgerBridgeError, about=about) as refusal:
                if not keeps_time(connection):
                    refuse_unless_time(connection)
                await export_time_entry(ctx, connection, entry, invoice)
            if isinstance(refusal.error, ProviderError) and refusal.error.code == "plan_limit":
                return  # the others would be refused for the same reason
        done.append(entry_id)
        await ctx.save(checkpoint={"done": done}, progress_done=len(done), progress_total=len(ids))
