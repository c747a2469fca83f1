"""Turning invoice actions into sync runs, inside the same transaction as the action.

Export, send (with auto-export), revert to draft and void each change the invoice and record the
runs that carry the change to the providers in one `jobs.transaction()`: either both happen or
neither, so an invoice is never marked exported without a run on its way, nor the reverse.
"""

from __future__ import annotations

from ledgerbridge import books
from ledgerbridge.api.errors import NotFound
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller
from ledgerbridge.invoicing import retract_action
from ledgerbridge.jobs import JobTransaction, loads
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import Capabilities
from ledgerbridge.sync import withdrawal
from ledgerbridge.tables import (
    Connection,
    ConnectionStatus,
    ExternalLink,
    Invoice,
    RecordType,
    RunKind,
    RunState,
    SyncIssue,
    SyncRun,
    utcnow,
)


class NotConnected(LedgerBridgeError):
    code = "not_connected"


def export_key(connection_id: int, invoice_id: int, action: str | None = None) -> str:
    """The dedupe key of an invoice's export run: a double click queues one run, not two."""
    key = f"export_invoice:{connection_id}:{invoice_id}"
    return f"{key}:{action}" if action else key


async def target_connections(workspace_id: int, connection_id: int | None) -> list[Connection]:
    """Where an export goes: the workspace's books connection, and nowhere else (`ledgerbridge.books`).

    Naming a connection is still accepted, but only the books one: the others are read-only."""
    if connection_id is not None:
        connection = (
            await Connection.objects()
            .where((Connection.id == connection_id) & (Connection.workspace == workspace_id))
            .first()
        )
        if connection is None:
            raise NotFound("connection", connection_id)
        books.require_books(connection)
        if connection.status != ConnectionStatus.connected:
            raise NotConnected(
                f"The {connection.provider} connection {connection.tenant_name or connection.id} is "
                f"{connection.status.replace('_', ' ')}.",
                fix="Reconnect it from Integrations, then export again.",
            )
        return [connection]
    return [await books.connected_books(workspace_id)]


async def record_exports(
    tx: JobTransaction, caller: Caller, invoice_id: int, connections: list[Connection]
) -> list[SyncRun]:
    assert caller.workspace_id is not None
    runs = []
    for connection in connections:
        runs.append(
            await tx.record(
                RunKind.export_invoice,
                workspace_id=caller.workspace_id,
                connection_id=connection.id,
                params={"invoice_id": invoice_id},
                trigger=caller.trigger,
                dedupe_key=export_key(connection.id, invoice_id),
                progress_total=1,
            )
        )
    await Invoice.update({Invoice.locked: True, Invoice.updated_at: utcnow()}).where(Invoice.id == invoice_id)
    return runs


async def record_bulk_export(
    tx: JobTransaction, caller: Caller, invoice_ids: list[int], connections: list[Connection]
) -> list[SyncRun]:
    """One `export_invoices` run per connection, so providers with batch endpoints can use them."""
    assert caller.workspace_id is not None
    runs = []
    for connection in connections:
        runs.append(
            await tx.record(
                RunKind.export_invoices,
                workspace_id=caller.workspace_id,
                connection_id=connection.id,
                params={"invoice_ids": invoice_ids},
                trigger=caller.trigger,
                progress_total=len(invoice_ids),
            )
        )
    await Invoice.update({Invoice.locked: True, Invoice.updated_at: utcnow()}).where(Invoice.id.is_in(invoice_ids))
    return runs


async def record_auto_exports(tx: JobTransaction, caller: Caller, invoice_id: int) -> list[SyncRun]:
    """On send: export to the books connection when its settings ask for it."""
    assert caller.workspace_id is not None
    target = await books.books_connection(caller.workspace_id)
    if target is None or target.status != ConnectionStatus.connected or not target.auto_export_on_send:
        return []
    return await record_exports(tx, caller, invoice_id, [target])


async def cancel_queued_exports(workspace_id: int, invoice_id: int) -> None:
    """An export still waiting would send a stale (or void) invoice: drop it with the change."""
    connection_ids = [
        row["id"] for row in await Connection.select(Connection.id).where(Connection.workspace == workspace_id)
    ]
    if not connection_ids:
        return
    await SyncRun.update(
        {SyncRun.state: RunState.cancelled, SyncRun.finished_at: utcnow(), SyncRun.dedupe_key: None}
    ).where(
        SyncRun.dedupe_key.is_in([export_key(cid, invoice_id) for cid in connection_ids])
        & (SyncRun.state == RunState.queued)
    )


def _capabilities(provider: str) -> Capabilities:
    info = get_registry().providers.get(provider)
    return info.capabilities if info is not None else Capabilities()


async def retract_provider_copies(tx: JobTransaction, caller: Caller, invoice: Invoice) -> list[SyncRun]:
    """Queue the void (or delete) of the invoice's copy in the books, as the provider allows.

    Copies in read-only connections (an earlier books) are history: they are kept and shown, and
    nothing is written there.

    Runs are `export_invoice` runs with `params["action"]` set to "void" or "delete"; a provider
    that can do neither gets an issue on the invoice asking a person to do it there.
    """
    assert caller.workspace_id is not None
    await cancel_queued_exports(caller.workspace_id, invoice.id)
    links = await ExternalLink.objects(ExternalLink.connection).where(
        (ExternalLink.workspace == caller.workspace_id)
        & (ExternalLink.record_type == RecordType.invoice)
        & (ExternalLink.record_id == invoice.id)
        & ExternalLink.remote_id.is_not_null()
        & ExternalLink.connection.is_books.eq(True)
    )
    runs = []
    now = utcnow()
    for link in links:
        connection = link.connection
        caps = _capabilities(connection.provider)
        remote_status = loads(link.remote_data).get("status")
        action = retract_action(caps.void_invoices, caps.delete_invoices, remote_status, connection.revert_action)
        if action is None:
            await SyncIssue(
                workspace=caller.workspace_id,
                connection=connection.id,
                record_type=RecordType.invoice,
                record_id=invoice.id,
                code="not_supported",
                message=f"{connection.provider} cannot void or delete invoice {invoice.number} through its API.",
                fix=f"Void or delete invoice {invoice.number} in {connection.provider} by hand, then resolve this "
                    "issue.",
                first_seen_at=now,
                last_seen_at=now,
            ).save()
            continue
        link.connection = connection.id
        copy = await withdrawal.retire(link, action)
        runs.append(
            await tx.record(
                RunKind.export_invoice,
                workspace_id=caller.workspace_id,
                connection_id=connection.id,
                params={"invoice_id": invoice.id, "action": action, "withdrawn_id": copy.id},
                trigger=caller.trigger,
                dedupe_key=export_key(connection.id, invoice.id, action),
                progress_total=1,
            )
        )
    return runs
