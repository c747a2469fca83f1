"""Reading back exported invoices: status, number, dates, total, balance and payments.

What the provider reports is kept on the invoice's link (`remote_data`) and shown beside ours.
Paid, voided and deleted show as such; an amount or number edited in the provider raises a
warning with both values, because the two systems now disagree and a person must decide.
Payments recorded in the provider are mirrored here, linked, so they are never counted twice; a
payment the bookkeeper deleted or voided there is voided here (`payment_removals`).
An invoice the bookkeeper deletes in the books gives its time entries back: they are free to bill
again here (the invoice itself stays, shown as deleted there, for a person to void or re-export).
"""

from __future__ import annotations

from contextlib import aclosing
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerbridge import connections
from ledgerbridge.db import write_transaction
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.invoicing import paid_here
from ledgerbridge.jobs import RunContext, loads, transaction
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemoteInvoice
from ledgerbridge.sync.exporting import remote_summary
from ledgerbridge.sync.links import link_by_remote, save_link
from ledgerbridge.sync.paging import chunks, read_pages, save_change_cursor
from ledgerbridge.sync.payment_edits import follow_amount_change
from ledgerbridge.sync.payment_removals import notice_removed_payments
from ledgerbridge.sync.run_records import note
from ledgerbridge.sync.shared_payments import mirrored
from ledgerbridge.sync.time_sync import queue_freed_time
from ledgerbridge.tables import (
    Connection,
    ExternalLink,
    Invoice,
    LinkState,
    Payment,
    RecordType,
    TimeEntry,
    utcnow,
)


async def apply_remote_invoice(ctx: RunContext, connection: Connection, remote: RemoteInvoice,
                               read_after: datetime | None = None) -> dict[str, Any] | None:
    """Mirror one invoice's provider state; returns the status-change event to announce once committed.

    `read_after`, a moment before the provider was asked, lets the read judge which payments the
    books dropped (`payment_removals`); without it, payments are only added."""
    link = await link_by_remote(connection.id, RecordType.invoice, remote.remote_id)
    if link is None:
        ctx.count("skipped")
        return None
    invoice = await Invoice.objects().where(Invoice.id == link.record_id).first()
    assert invoice is not None, "an exported invoice is locked, never deleted"
    old_status = loads(link.remote_data).get("status", "")
    new_status = "deleted" if remote.deleted else remote.status
    warnings = []
    state = LinkState.synced
    if new_status in ("void", "deleted"):
        state = LinkState.deleted_remote
    else:
        if remote.total != invoice.total:
            warnings.append(f"Amount differs: {remote.total} in the provider, {invoice.total} here.")
        if remote.number and link.remote_number and remote.number != link.remote_number:
            warnings.append(f"Number differs: {remote.number} in the provider, {link.remote_number} when exported.")
        if remote.currency and remote.currency != invoice.currency:
            warnings.append(f"Currency differs: {remote.currency} in the provider, {invoice.currency} here; "
                            "payments there are not counted as paid here.")
        if warnings:
            state = LinkState.warning
    summary = remote_summary(remote) | {"status": new_status}
    await save_link(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.invoice,
        record_id=invoice.id, remote_id=remote.remote_id, state=state, version=remote.version,
        remote_data=summary, message=" ".join(warnings),
    )
    same_currency = not remote.currency or remote.currency == invoice.currency
    if same_currency and read_after is not None:
        for payment_id in await notice_removed_payments(connection, invoice, remote, read_after):
            await note(ctx, RecordType.payment, payment_id, None, "archived",
                       f"Deleted or voided in the books (invoice {invoice.number}): voided here.", seen=False)
    paid = await _mirror_payments(connection, invoice, remote, read_after) if same_currency else invoice.amount_paid
    async with write_transaction():
        values: dict[Any, Any] = {Invoice.amount_paid: paid, Invoice.updated_at: utcnow()}
        if paid > 0 and paid >= invoice.total:
            values[Invoice.locked] = True  # paid in full in the books: closed here too
        await Invoice.update(values).where(Invoice.id == invoice.id)
        if remote.deleted and old_status != "deleted" and connection.is_books:
            await _free_time_entries(ctx, connection, invoice, remote.remote_id)
        # The caller's chunk transaction commits these with the state they describe.
        if warnings and " ".join(warnings) != link.message:
            await emit(records.invoice_warning(connection, invoice, remote.remote_id, warnings))
        if old_status != new_status:
            await emit(records.invoice_status_changed(connection, invoice, remote, old_status, new_status, paid))
    ctx.count("seen")
    if old_status != new_status:
        await note(ctx, RecordType.invoice, invoice.id, remote.remote_id, "updated",
                   f"{old_status or 'unknown'} → {new_status}", seen=False)
        return {"workspace_id": connection.workspace, "connection_id": connection.id, "invoice_id": invoice.id,
                "old": old_status, "new": new_status, "remote": remote}
    return None


async def _free_time_entries(ctx: RunContext, connection: Connection, invoice: Invoice, remote_id: str) -> None:
    """The books no longer bill the invoice's time: its entries may go on another invoice here, and
    their copies there are sent as billable again (`time_sync.queue_freed_time`)."""
    freed = await TimeEntry.update({TimeEntry.invoice: None, TimeEntry.updated_at: utcnow()}).where(
        TimeEntry.invoice == invoice.id).returning(TimeEntry.id)
    if freed:
        async with transaction() as tx:  # within the read-back's own transaction: committed with it
            await queue_freed_time(tx, connection.workspace, [row["id"] for row in freed], f"run:{ctx.run.id}")
        await ExternalLink.update({ExternalLink.message: (
            f"Deleted in the books; its {len(freed)} time "
            f"{'entry is' if len(freed) == 1 else 'entries are'} free to bill again here.")}).where(
            (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.invoice)
            & (ExternalLink.remote_id == remote_id))


async def _mirror_payments(connection: Connection, invoice: Invoice, remote: RemoteInvoice,
                           read_after: datetime | None) -> Decimal:
    """Record here the payments the books apply to the invoice that are new here (`shared_payments`: one
    may pay several invoices), and follow a changed amount (`payment_edits`); returns what it is paid."""
    for payment in remote.payments:
        key, here = await mirrored(connection, invoice, remote.remote_id, payment)
        if here is not None:
            if read_after is not None:
                await follow_amount_change(connection, invoice, key, here, payment, read_after)
            continue
        row = Payment(workspace=connection.workspace, invoice=invoice.id, paid_on=payment.paid_on or utcnow().date(),
                      amount=payment.amount, method=payment.method, reference=payment.reference,
                      source=connection.provider, created_at=utcnow())
        async with write_transaction():
            await row.save()
            await save_link(workspace_id=connection.workspace, connection_id=connection.id,
                            record_type=RecordType.payment, record_id=row.id, remote_id=key)
            await emit(records.payment_recorded(connection, invoice, row, payment.remote_id))
    return await paid_here(invoice.id)


async def run_poll(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    remote_ids = ctx.params.get("remote_ids")
    read_after = utcnow()  # every page below is read after this moment
    cursor = ctx.checkpoint.get("cursor") if "cursor" in ctx.checkpoint else (
        None if remote_ids else loads(connection.cursors).get("invoice_status"))
    async with aclosing(read_pages(connection.id, "poll_invoices", cursor=cursor, remote_ids=remote_ids)) as pages:
        async for page in pages:
            for chunk in chunks(page.records):
                async with transaction():  # one commit per chunk (and its events), not several per invoice
                    events = [await apply_remote_invoice(ctx, connection, remote, read_after) for remote in chunk]
                for event in events:  # plugins hear of changes only once they are committed
                    if event is not None:
                        await get_registry().notify("invoice_status_changed", **event)
            await ctx.save(checkpoint={"cursor": page.next_cursor})
    if page.cursor is not None and not remote_ids:
        await save_change_cursor(connection, "invoice_status", page.cursor)
