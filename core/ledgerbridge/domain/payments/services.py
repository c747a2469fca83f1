"""Payments against finalized invoices; exported invoices get their payments exported too, and a
payment voided here is voided in the books (`sync.payment_voids`) where the provider allows it."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns.combination import Combinable

from ledgerbridge import audit, books, jobs
from ledgerbridge.api.decoding import check_amount
from ledgerbridge.api.errors import Conflict, Invalid
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.invoices.output import payment_out
from ledgerbridge.domain.invoices.schemas import PaymentOut
from ledgerbridge.domain.payments.schemas import PaymentIn, PaymentPage
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.invoicing import balance_due, format_money, paid_here
from ledgerbridge.plugins import get_registry
from ledgerbridge.sync.payment_voids import can_void_there, unvoidable_issue
from ledgerbridge.sync.shared_payments import other_shares, shared_copy_issue
from ledgerbridge.tables import (
    Connection,
    ConnectionStatus,
    ExternalLink,
    Invoice,
    InvoiceStatus,
    LinkState,
    Payment,
    RecordType,
    RunKind,
    SyncRun,
    utcnow,
)

MONEY_PLACES = 2


async def _refresh_amount_paid(invoice_id: int) -> Decimal:
    """The invoice's paid amount is the sum of its payments not voided, recomputed rather than
    adjusted so it cannot drift."""
    paid = await paid_here(invoice_id)
    await Invoice.update({Invoice.amount_paid: paid, Invoice.updated_at: utcnow()}).where(Invoice.id == invoice_id)
    return paid


async def _record_payment_exports(
    tx: jobs.JobTransaction, caller: Caller, invoice_id: int, payment_id: int
) -> list[SyncRun]:
    """A payment follows its invoice to the books connection, when it holds the invoice and takes
    payments; the invoice's copies in read-only connections are history."""
    assert caller.workspace_id is not None
    links = await ExternalLink.select(
        ExternalLink.connection, ExternalLink.connection.provider.as_alias("provider")
    ).where(
        (ExternalLink.workspace == caller.workspace_id)
        & (ExternalLink.record_type == RecordType.invoice)
        & (ExternalLink.record_id == invoice_id)
        & ExternalLink.remote_id.is_not_null()
        & ExternalLink.connection.is_in(
            Connection.select(Connection.id).where(
                (Connection.status == ConnectionStatus.connected) & Connection.is_books.eq(True)
            )
        )
    )
    runs = []
    for link in links:
        info = get_registry().providers.get(link["provider"])
        if info is not None and not info.capabilities.payments:
            continue
        runs.append(
            await tx.record(
                RunKind.export_payment,
                workspace_id=caller.workspace_id,
                connection_id=link["connection"],
                params={"payment_id": payment_id, "invoice_id": invoice_id},
                trigger=caller.trigger,
                dedupe_key=f"export_payment:{link['connection']}:{payment_id}",
                progress_total=1,
            )
        )
    return runs


async def _overpayment_credit(workspace_id: int, invoice: Invoice, amount: Decimal, balance: Decimal) -> Decimal:
    """The excess of a payment above the invoice's balance, where the books keep it as the customer's
    credit (`Capabilities.overpayment_credit`); refused before anything is saved everywhere else, so
    an excess is never silently lost. Zero when the payment fits the balance."""
    if amount <= balance:
        return Decimal("0")
    excess = amount - balance
    books_connection = await books.books_connection(workspace_id)
    info = get_registry().providers.get(books_connection.provider) if books_connection is not None else None
    if info is not None and info.capabilities.overpayment_credit and info.capabilities.payments:
        return excess
    where = (f"{info.name} cannot keep the {format_money(excess)} excess as the customer's credit"
             if info is not None else f"no books connection keeps the {format_money(excess)} excess as credit")
    raise Conflict(
        f"The payment ({format_money(amount)}) is more than invoice {invoice.number}'s balance "
        f"({format_money(balance)}), and {where}; nothing was recorded.",
        fix=f"Record at most the balance due ({format_money(balance)}), and record the {format_money(excess)} excess "
            f"{'in ' + info.name + ' as an overpayment or credit note' if info else 'as a credit in your books'}, "
            "or refund it.",
    )


async def list_payments(
    caller: Caller,
    *,
    invoice_id: int | None = None,
    source: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> PaymentPage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where: Combinable = Payment.workspace == caller.workspace_id
    if invoice_id is not None:
        where = where & (Payment.invoice == invoice_id)
    if source:
        where = where & (Payment.source == source)
    rows, total = await page_of(
        Payment, where, limit=limit, offset=offset, order_by=Payment.paid_on, ascending=False
    )
    return Page(items=[payment_out(row) for row in rows], total=total, limit=limit, offset=offset)


async def get_payment(caller: Caller, *, payment_id: int) -> PaymentOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return payment_out(await in_workspace(Payment, payment_id, caller.workspace_id, "payment"))


async def create_payment(caller: Caller, *, data: PaymentIn) -> PaymentOut:
    require(caller, Permission.books_write)
    ws = caller.workspace_id
    assert ws is not None
    amount = check_amount(data.amount, "amount", places=MONEY_PLACES, min_value=Decimal("0.01"))
    async with jobs.transaction() as tx:
        invoice = await Invoice.objects().where((Invoice.id == data.invoice_id) & (Invoice.workspace == ws)).first()
        if invoice is None:
            raise Invalid("invoice_id", f"there is no invoice with id {data.invoice_id} in this workspace")
        if invoice.status in (InvoiceStatus.draft, InvoiceStatus.void):
            raise Conflict(
                f"Invoice {invoice.number} is {invoice.status}; payments apply to finalized or sent invoices.",
                fix="Finalize the invoice first." if invoice.status == InvoiceStatus.draft else "Nothing to pay.",
            )
        balance = balance_due(invoice.total, invoice.amount_paid)
        credit = await _overpayment_credit(ws, invoice, amount, balance)
        payment = Payment(
            workspace=ws,
            invoice=invoice.id,
            paid_on=data.paid_on or utcnow().date(),
            amount=amount,
            method=data.method,
            reference=data.reference,
            source="local",
            created_at=utcnow(),
        )
        await payment.save()
        await _refresh_amount_paid(invoice.id)
        await _record_payment_exports(tx, caller, invoice.id, payment.id)
        await audit.record(caller, "payment.create", target_type="payment", target_id=payment.id,
                           after={"invoice_id": invoice.id, "invoice": invoice.number, "amount": amount,
                                  "paid_on": payment.paid_on, "method": payment.method,
                                  "reference": payment.reference} | ({"customer_credit": credit} if credit else {}))
    return payment_out(payment)


async def delete_payment(caller: Caller, *, payment_id: int) -> None:
    require(caller, Permission.books_write)
    ws = caller.workspace_id
    assert ws is not None
    payment = await in_workspace(Payment, payment_id, ws, "payment")
    async with write_transaction():
        exported = await ExternalLink.exists().where(
            (ExternalLink.record_type == RecordType.payment)
            & (ExternalLink.record_id == payment.id)
            & ExternalLink.remote_id.is_not_null()
        )
        if exported or payment.source != "local":
            raise Conflict(
                "This payment is recorded in a provider too, so it cannot be deleted here.",
                fix=f"Void it instead (POST /api/v1/payments/{payment.id}/void, or Void on the invoice page): it stays "
                    "on record here and its copy in the books is voided too.",
            )
        await audit.record(caller, "payment.delete", target_type="payment", target_id=payment.id,
                           before={"invoice_id": payment.invoice, "amount": payment.amount, "paid_on": payment.paid_on,
                                   "method": payment.method, "reference": payment.reference})
        await Payment.delete().where(Payment.id == payment.id)
        await _refresh_amount_paid(payment.invoice)


async def void_payment(caller: Caller, *, payment_id: int) -> PaymentOut:
    """Void a payment: it stays on record, counts for nothing here, and is voided in the books.

    Runs are recorded in the same transaction, one per books connection holding the invoice (the
    run finds whether the payment reached it, so a payment whose export is still queued is voided
    once it lands, or never sent). A provider that cannot void payments gets an issue on the
    payment instead. Voiding twice changes nothing.
    """
    require(caller, Permission.books_write)
    ws = caller.workspace_id
    assert ws is not None
    async with jobs.transaction() as tx:
        payment = await in_workspace(Payment, payment_id, ws, "payment")
        if payment.voided_at is not None:
            return payment_out(payment)
        invoice = await Invoice.objects().where(Invoice.id == payment.invoice).first()
        assert invoice is not None, "a payment belongs to an invoice"
        payment.voided_at = utcnow()
        await Payment.update({Payment.voided_at: payment.voided_at}).where(Payment.id == payment.id)
        paid = await _refresh_amount_paid(invoice.id)
        # A broken books connection gets its run too: it fails now and a reconnect resumes it.
        holders = await Connection.objects().where(
            (Connection.workspace == ws) & (Connection.status != ConnectionStatus.disconnected)
            & Connection.is_books.eq(True)
            & Connection.id.is_in(ExternalLink.select(ExternalLink.connection).where(
                (ExternalLink.record_type == RecordType.invoice) & (ExternalLink.record_id == invoice.id)
                & ExternalLink.remote_id.is_not_null()))
        )
        voided_in: list[int] = []
        for connection in holders:
            payment_link = await ExternalLink.objects().where(
                (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.payment)
                & (ExternalLink.record_id == payment.id)).first()
            if payment_link is not None and payment_link.state == LinkState.deleted_remote:
                continue  # already gone there
            others = await other_shares(connection.id, payment_link) if payment_link is not None else []
            if others:  # one payment there pays other invoices too: voiding it would void their shares
                await shared_copy_issue(connection, payment, invoice, others)
                continue
            if not can_void_there(connection.provider):
                if payment_link is not None and payment_link.remote_id:
                    await unvoidable_issue(connection, payment, invoice)
                continue
            await tx.record(
                RunKind.void_payment, workspace_id=ws, connection_id=connection.id,
                params={"payment_id": payment.id, "invoice_id": invoice.id}, trigger=caller.trigger,
                dedupe_key=f"void_payment:{connection.id}:{payment.id}", progress_total=1,
            )
            voided_in.append(connection.id)
        await audit.record(caller, "payment.void", target_type="payment", target_id=payment.id,
                           before={"invoice_id": invoice.id, "invoice": invoice.number, "amount": payment.amount,
                                   "paid_on": payment.paid_on, "reference": payment.reference},
                           after={"voided_at": payment.voided_at, "voided_in_connections": voided_in})
        await emit(records.payment_voided(ws, invoice, payment, paid, voided_in))
    return payment_out(payment)
