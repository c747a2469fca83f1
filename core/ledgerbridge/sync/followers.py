"""Records that follow an exported invoice into the provider: its payments and its time entries.

Both only make sense once the invoice exists there, both must land exactly once (the same
write-ahead keys as invoices), and a failure of either never undoes the invoice's export: it
becomes an issue on the payment or time entry, with the invoice's number in the message.
"""

from __future__ import annotations

from ledgerbridge.errors import LedgerBridgeError, ProviderError
from ledgerbridge.issues import issue_from_error, resolve
from ledgerbridge.jobs import RunContext, handles
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import PaymentData, TimeEntryData
from ledgerbridge.sync.exporting import ensure_customer, ensure_item, write
from ledgerbridge.sync.links import fingerprint, get_link, link_ref, save_link
from ledgerbridge.tables import (
    Connection,
    Invoice,
    Item,
    LinkState,
    Payment,
    RecordType,
    RunKind,
    RunRecord,
    TimeEntry,
    utcnow,
)


async def _note(ctx: RunContext, record_type: str, record_id: int, remote_id: str | None, outcome: str,
                message: str = "") -> None:
    ctx.count(outcome)
    await RunRecord(run=ctx.run.id, record_type=record_type, record_id=record_id, remote_id=remote_id,
                    outcome=outcome, message=message, created_at=utcnow()).save()


async def _refused(ctx: RunContext, connection: Connection, record_type: str, record_id: int,
                   error: LedgerBridgeError) -> None:
    link = await get_link(connection.id, record_type, record_id)
    await issue_from_error(error, workspace_id=connection.workspace, connection_id=connection.id,
                           record_type=record_type, record_id=record_id, run_id=ctx.run.id)
    await _note(ctx, record_type, record_id, link.remote_id if link else None, "failed", error.message)


# --------------------------------------------------------------------------- payments


async def export_payment(ctx: RunContext, connection: Connection, payment_id: int) -> None:
    payment = await Payment.objects().where(Payment.id == payment_id).first()
    if payment is None or payment.workspace != connection.workspace:
        return  # deleted meanwhile: nothing to send
    invoice = await Invoice.objects().where(Invoice.id == payment.invoice).first()
    try:
        invoice_link = await get_link(connection.id, RecordType.invoice, invoice.id)
        if invoice_link is None or not invoice_link.remote_id:
            raise LedgerBridgeError(
                f"Invoice {invoice.number} is not in the provider yet, so its payment cannot be applied.",
                fix="Export the invoice, then retry this payment.", code="validation_failed",
            )
        if invoice_link.state == LinkState.deleted_remote:
            raise LedgerBridgeError(
                f"Invoice {invoice.number} was voided or deleted in the provider; the payment was not sent.",
                fix="Record the payment in the provider by hand if it still applies.", code="validation_failed",
            )
        data = PaymentData(
            local_id=payment.id, invoice_id=invoice_link.remote_id,
            customer_id=await ensure_customer(ctx, connection, invoice.customer), paid_on=payment.paid_on,
            amount=payment.amount, currency=invoice.currency, method=payment.method, reference=payment.reference,
        )
        link = await get_link(connection.id, RecordType.payment, payment.id)
        if link is not None and link.fingerprint == fingerprint(data):
            await _note(ctx, RecordType.payment, payment.id, link.remote_id, "skipped")
            return
        result = await write(ctx, connection, RecordType.payment, payment.id,
                              "update" if link_ref(link) else "create", "export_payment", payment=data,
                              link=link_ref(link))
    except ProviderError as exc:
        if exc.retryable:
            raise
        await _refused(ctx, connection, RecordType.payment, payment.id, exc)
        return
    except LedgerBridgeError as exc:
        await _refused(ctx, connection, RecordType.payment, payment.id, exc)
        return
    await save_link(workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.payment,
                    record_id=payment.id, remote_id=result.remote_id, version=result.version,
                    fingerprint_value=fingerprint(data))
    await resolve(workspace_id=connection.workspace, record_type=RecordType.payment, record_id=payment.id,
                  connection_id=connection.id)
    await _note(ctx, RecordType.payment, payment.id, result.remote_id, "created" if result.created else "updated",
                f"Applied to invoice {invoice.number}.")


@handles(RunKind.export_payment)
async def run_export_payment(ctx: RunContext) -> None:
    connection = await Connection.objects().where(Connection.id == ctx.run.connection).first()
    await export_payment(ctx, connection, ctx.params["payment_id"])
    await ctx.save(progress_done=1, progress_total=1)


# --------------------------------------------------------------------------- time entries


async def export_time_entries(ctx: RunContext, connection: Connection, invoice: Invoice) -> None:
    """Send the time entries an exported invoice bills, where the provider keeps time records."""
    registry = get_registry()
    if not registry.provider(connection.provider).capabilities.time_activities:
        return
    if not registry.implements(connection.provider, "export_time_entry"):
        return
    entries = await TimeEntry.objects().where(TimeEntry.invoice == invoice.id).order_by(TimeEntry.id)
    for entry in entries:
        try:
            await _export_time_entry(ctx, connection, invoice, entry)
        except ProviderError as exc:
            if exc.retryable:
                raise
            exc.message = f"Time entry of {entry.person} on {entry.worked_on} (invoice {invoice.number}): {exc.message}"
            await _refused(ctx, connection, RecordType.time_entry, entry.id, exc)
            if exc.code == "plan_limit":
                return  # the others would be refused for the same reason


async def _export_time_entry(ctx: RunContext, connection: Connection, invoice: Invoice, entry: TimeEntry) -> None:
    item_remote = None
    if entry.item:
        item = await Item.objects().where(Item.id == entry.item).first()
        item_remote = await ensure_item(ctx, connection, item) if item else None
    data = TimeEntryData(
        local_id=entry.id, customer_id=await ensure_customer(ctx, connection, entry.customer), item_id=item_remote,
        person=entry.person, person_email=entry.person_email, worked_on=entry.worked_on, hours=entry.hours,
        rate=entry.rate, description=entry.description, billable=entry.billable,
    )
    link = await get_link(connection.id, RecordType.time_entry, entry.id)
    if link is not None and link.remote_id and link.fingerprint == fingerprint(data):
        return
    result = await write(ctx, connection, RecordType.time_entry, entry.id, "update" if link_ref(link) else "create",
                          "export_time_entry", entry=data, link=link_ref(link))
    await save_link(workspace_id=connection.workspace, connection_id=connection.id,
                    record_type=RecordType.time_entry, record_id=entry.id, remote_id=result.remote_id,
                    version=result.version, fingerprint_value=fingerprint(data))
    await resolve(workspace_id=connection.workspace, record_type=RecordType.time_entry, record_id=entry.id,
                  connection_id=connection.id)
    await _note(ctx, RecordType.time_entry, entry.id, result.remote_id, "created" if result.created else "updated",
                f"Time record for invoice {invoice.number}.")
