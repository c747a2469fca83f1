"""Records that follow an exported invoice into the provider: its payments and its time entries.

Both only make sense once the invoice exists there, both must land exactly once (the same
write-ahead keys as invoices), and a failure of either never undoes the invoice's export: it
becomes an issue on the payment or time entry, with the invoice's number in the message.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge import books, connections
from ledgerbridge.db import write_transaction
from ledgerbridge.errors import LedgerBridgeError, ProviderError
from ledgerbridge.invoicing import format_money, invoice_number_for_provider
from ledgerbridge.issues import resolve
from ledgerbridge.jobs import RunContext
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import PaymentData, TimeEntryData
from ledgerbridge.sync.dependencies import ensure_customer, ensure_item
from ledgerbridge.sync.links import get_link
from ledgerbridge.sync.outbound import Exported, ensure_exported
from ledgerbridge.sync.refusals import refusals_become_issues
from ledgerbridge.sync.run_records import note
from ledgerbridge.tables import (
    Connection,
    ExternalLink,
    Invoice,
    Item,
    LinkState,
    Payment,
    RecordType,
    TimeEntry,
)


async def _landed(ctx: RunContext, connection: Connection, record_type: str, record_id: int, exported: Exported,
                  message: str) -> None:
    """A follower the provider now holds: close its issues and list it on the run."""
    assert exported.result is not None
    await resolve(workspace_id=connection.workspace, record_type=record_type, record_id=record_id,
                  connection_id=connection.id)
    await note(ctx, record_type, record_id, exported.remote_id, "created" if exported.result.created else "updated",
               message, seen=False)


# --------------------------------------------------------------------------- payments


async def export_payment(ctx: RunContext, connection: Connection, payment_id: int) -> None:
    payment = await Payment.objects().where(Payment.id == payment_id).first()
    if payment is None or payment.workspace != connection.workspace or payment.voided_at is not None:
        return  # deleted or voided meanwhile: nothing to send
    invoice = await Invoice.objects().where(Invoice.id == payment.invoice).first()

    async def build() -> PaymentData:
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
        return PaymentData(
            local_id=payment.id, invoice_id=invoice_link.remote_id,
            customer_id=await ensure_customer(ctx, connection, invoice.customer), paid_on=payment.paid_on,
            amount=payment.amount, currency=invoice.currency, method=payment.method, reference=reference,
            applied_amount=applied,
        )

    caps = get_registry().provider(connection.provider).capabilities
    applied = await _applied_amount(invoice, payment) if caps.overpayment_credit else None
    credit = "" if applied is None else \
        f" {format_money(payment.amount - applied)} above its balance is kept as the customer's credit there."
    limit = caps.payment_reference_max_length
    reference = invoice_number_for_provider(payment.reference, limit)
    shortened = "" if reference == payment.reference else \
        f" Reference sent as {reference} (the provider allows {limit} characters)."

    async with refusals_become_issues(ctx, connection, RecordType.payment, payment.id) as refusal:
        exported = await ensure_exported(ctx, connection, RecordType.payment, payment.id, hook="export_payment",
                                         argument="payment", build=build, resend_changed=True)
    if refusal.error is not None:
        return
    if exported.result is None:
        await note(ctx, RecordType.payment, payment.id, exported.remote_id, "skipped", seen=False)
        return
    await _landed(ctx, connection, RecordType.payment, payment.id, exported,
                  f"Applied to invoice {invoice.number}.{credit}{shortened}")
    if shortened or credit:
        async with write_transaction():  # the warning stays on the payment's link, where pages show it
            await ExternalLink.update({ExternalLink.message: (credit + shortened).strip()}).where(
                (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.payment)
                & (ExternalLink.record_id == payment.id)
            )


async def _applied_amount(invoice: Invoice, payment: Payment) -> Decimal | None:
    """What of an overpayment applies to its invoice (the balance before it), or None when all of it does."""
    earlier = await Payment.select(Payment.amount).where(
        (Payment.invoice == invoice.id) & Payment.voided_at.is_null() & (Payment.id < payment.id))
    room = max(invoice.total - sum((Decimal(row["amount"]) for row in earlier), Decimal("0")), Decimal("0"))
    return None if payment.amount <= room else room


async def export_payments_of(ctx: RunContext, connection: Connection, invoice: Invoice) -> None:
    """Payments recorded here before their invoice reached the provider follow it right after it
    (a bulk export of older, paid invoices included), so paid invoices arrive paid."""
    registry = get_registry()
    if not registry.provider(connection.provider).capabilities.payments:
        return
    if not registry.implements(connection.provider, "export_payment"):
        return
    payments = await Payment.select(Payment.id).where(
        (Payment.invoice == invoice.id) & (Payment.source == "local") & Payment.voided_at.is_null()
    ).order_by(Payment.id)
    for row in payments:
        await export_payment(ctx, connection, row["id"])


async def run_export_payment(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    books.require_books(connection)
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
        about = f"Time entry of {entry.person} on {entry.worked_on} (invoice {invoice.number})"
        async with refusals_become_issues(ctx, connection, RecordType.time_entry, entry.id, catch=ProviderError,
                                          about=about) as refusal:
            await export_time_entry(ctx, connection, entry, invoice)
        if refusal.error is not None and refusal.error.code == "plan_limit":
            return  # the others would be refused for the same reason


async def export_time_entry(ctx: RunContext, connection: Connection, entry: TimeEntry,
                            invoice: Invoice | None) -> None:
    """Send one time entry, creating it or updating its linked record. Billed by `invoice` here, it
    goes as already billed; synced on its own (no invoice), as billable for the books to invoice."""
    async def build() -> TimeEntryData:
        item_remote = None
        if entry.item:
            item = await Item.objects().where(Item.id == entry.item).first()
            item_remote = await ensure_item(ctx, connection, item) if item else None
        return TimeEntryData(
            local_id=entry.id, customer_id=await ensure_customer(ctx, connection, entry.customer),
            item_id=item_remote, person=entry.person, person_email=entry.person_email, worked_on=entry.worked_on,
            hours=entry.hours, rate=entry.rate, description=entry.description, billable=entry.billable,
            billed=entry.invoice is not None,
        )

    exported = await ensure_exported(ctx, connection, RecordType.time_entry, entry.id, hook="export_time_entry",
                                     argument="entry", build=build, resend_changed=True)
    if exported.result is not None:
        await _landed(ctx, connection, RecordType.time_entry, entry.id, exported,
                      f"Time record for invoice {invoice.number}." if invoice else "Time record, billable there.")
    elif invoice is None:
        await note(ctx, RecordType.time_entry, entry.id, exported.remote_id, "skipped",
                   "Unchanged since the last sync.", seen=False)
