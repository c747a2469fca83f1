"""Payments against finalized invoices; exported invoices get their payments exported too."""

from __future__ import annotations

from decimal import Decimal

from piccolo.columns.combination import Combinable

from ledgerbridge import audit, jobs
from ledgerbridge.api.decoding import check_amount
from ledgerbridge.api.errors import Conflict, Invalid
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.invoices.output import payment_out
from ledgerbridge.domain.invoices.schemas import PaymentOut
from ledgerbridge.domain.payments.schemas import PaymentIn, PaymentPage
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.invoicing import balance_due, format_money, to_cents
from ledgerbridge.plugins import get_registry
from ledgerbridge.tables import (
    Connection,
    ConnectionStatus,
    ExternalLink,
    Invoice,
    InvoiceStatus,
    Payment,
    RecordType,
    RunKind,
    SyncRun,
    utcnow,
)

MONEY_PLACES = 2


async def _refresh_amount_paid(invoice_id: int) -> None:
    """The invoice's paid amount is the sum of its payments, recomputed rather than adjusted so
    it cannot drift."""
    amounts = await Payment.select(Payment.amount).where(Payment.invoice == invoice_id)
    paid = to_cents(sum((Decimal(row["amount"]) for row in amounts), Decimal("0")))
    await Invoice.update({Invoice.amount_paid: paid, Invoice.updated_at: utcnow()}).where(Invoice.id == invoice_id)


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
        if amount > balance:
            raise Conflict(
                f"The payment ({format_money(amount)}) is more than invoice {invoice.number}'s balance "
                f"({format_money(balance)}).",
                fix="Record at most the balance due.",
            )
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
                                  "reference": payment.reference})
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
                "This payment is recorded in a provider too.",
                fix="Delete or void it in the provider; LedgerBridge reads the change back.",
            )
        await audit.record(caller, "payment.delete", target_type="payment", target_id=payment.id,
                           before={"invoice_id": payment.invoice, "amount": payment.amount, "paid_on": payment.paid_on,
                                   "method": payment.method, "reference": payment.reference})
        await Payment.delete().where(Payment.id == payment.id)
        await _refresh_amount_paid(payment.invoice)
