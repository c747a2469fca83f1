"""Invoices as the API shows them: lines, totals, payments, provider links and open issues.

Built per page with one query per kind of fact, so a list of 200 invoices costs a handful of
queries rather than a thousand.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ledgerbridge.api.schemas import IssueOut
from ledgerbridge.api.sync_state import links_for, open_issues_for
from ledgerbridge.domain.invoices.schemas import InvoiceOut, LineOut, PaymentOut, WithdrawnCopyOut
from ledgerbridge.invoicing import balance_due, format_money, sync_badge
from ledgerbridge.tables import (
    Customer,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    RecordType,
    TaxRate,
    WithdrawnCopy,
)


def payment_status(total: Decimal, paid: Decimal) -> str:
    """Derived from the amounts every time, so it cannot drift from them."""
    if paid > 0 and balance_due(total, paid) <= 0:
        return "paid"
    return "partially_paid" if paid > 0 else "unpaid"


def payment_out(row: Payment) -> PaymentOut:
    return PaymentOut(
        id=row.id,
        invoice_id=row.invoice,
        paid_on=row.paid_on,
        amount=format_money(row.amount),
        method=row.method,
        reference=row.reference,
        source=row.source,
        created_at=row.created_at,
        voided_at=row.voided_at,
        removed_in_provider=row.removed_in_provider or None,
    )


async def invoices_out(workspace_id: int, invoices: list[Invoice], *, with_lines: bool = True) -> list[InvoiceOut]:
    """`with_lines=False` is for lists that show only the stored totals (the admin UI's invoice list):
    the answer then has no lines, payments or withdrawn copies, and costs three queries instead of six or seven,
    however many lines the invoices on the page have."""
    ids = [invoice.id for invoice in invoices]
    if not ids:
        return []
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in (
        await InvoiceLine.objects()
        .where(InvoiceLine.invoice.is_in(ids))
        .order_by(InvoiceLine.position)
        .order_by(InvoiceLine.id)
        if with_lines else []
    ):
        lines[line.invoice].append(line)
    rate_ids = sorted({line.tax_rate for group in lines.values() for line in group if line.tax_rate})
    rates: dict[int, Decimal] = {}
    if rate_ids:
        rates = {
            row["id"]: row["rate"]
            for row in await TaxRate.select(TaxRate.id, TaxRate.rate).where(TaxRate.id.is_in(rate_ids))
        }
    payments: dict[int, list[Payment]] = defaultdict(list)
    for payment in (
        await Payment.objects().where(Payment.invoice.is_in(ids)).order_by(Payment.paid_on).order_by(Payment.id)
        if with_lines else []
    ):
        payments[payment.invoice].append(payment)
    customer_ids = sorted({invoice.customer for invoice in invoices})
    names = {
        row["id"]: row["name"]
        for row in await Customer.select(Customer.id, Customer.name).where(Customer.id.is_in(customer_ids))
    }
    links = await links_for(workspace_id, RecordType.invoice, ids)
    issues = await open_issues_for(workspace_id, RecordType.invoice, ids)
    withdrawn: dict[int, list[WithdrawnCopyOut]] = defaultdict(list)
    for copy in await WithdrawnCopy.objects().where(
        (WithdrawnCopy.workspace == workspace_id) & (WithdrawnCopy.record_type == RecordType.invoice)
        & WithdrawnCopy.record_id.is_in(ids)
    ).order_by(WithdrawnCopy.id) if with_lines else []:
        withdrawn[copy.record_id].append(WithdrawnCopyOut(
            connection_id=copy.connection, remote_id=copy.remote_id, remote_number=copy.remote_number,
            action=copy.action, state=copy.state, message=copy.message, withdrawn_at=copy.withdrawn_at,
        ))
    out = []
    for invoice in invoices:
        invoice_links = links.get(invoice.id, [])
        invoice_issues = issues.get(invoice.id, [])
        out.append(
            InvoiceOut(
                id=invoice.id,
                number=invoice.number,
                customer_id=invoice.customer,
                customer_name=names.get(invoice.customer, ""),
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                currency=invoice.currency,
                status=InvoiceStatus(invoice.status),
                memo=invoice.memo,
                subtotal=format_money(invoice.subtotal),
                tax_total=format_money(invoice.tax_total),
                total=format_money(invoice.total),
                amount_paid=format_money(invoice.amount_paid),
                balance=format_money(balance_due(invoice.total, invoice.amount_paid)),
                locked=invoice.locked,
                sent_at=invoice.sent_at,
                external_ref=invoice.external_ref,
                sync=sync_badge([link.state for link in invoice_links], invoice.locked, len(invoice_issues)),
                lines=[
                    LineOut(
                        id=line.id,
                        position=line.position,
                        item_id=line.item,
                        description=line.description,
                        quantity=format_money(line.quantity),
                        unit_price=format_money(line.unit_price),
                        tax_rate_id=line.tax_rate,
                        tax_percent=format_money(rates[line.tax_rate]) if line.tax_rate in rates else None,
                        line_total=format_money(line.line_total),
                        tax_amount=format_money(line.tax_amount),
                    )
                    for line in lines.get(invoice.id, [])
                ],
                payments=[payment_out(payment) for payment in payments.get(invoice.id, [])],
                links=invoice_links,
                issues=invoice_issues,
                created_at=invoice.created_at,
                updated_at=invoice.updated_at,
                withdrawn=withdrawn.get(invoice.id, []),
                payment_status=payment_status(invoice.total, invoice.amount_paid),
            )
        )
    return out


async def invoice_out(workspace_id: int, invoice: Invoice) -> InvoiceOut:
    return (await invoices_out(workspace_id, [invoice]))[0]


async def fresh_invoice_out(workspace_id: int, invoice_id: int) -> InvoiceOut:
    invoice = await Invoice.objects().where((Invoice.id == invoice_id) & (Invoice.workspace == workspace_id)).first()
    assert invoice is not None
    return await invoice_out(workspace_id, invoice)


async def payment_issues(workspace_id: int, invoice: InvoiceOut) -> dict[int, list[IssueOut]]:
    """Open issues on the invoice's payments, by payment id: shown beside the payment they concern
    (the invoice page), not among the invoice's own, so they leave its sync badge as it is."""
    return await open_issues_for(workspace_id, RecordType.payment, [payment.id for payment in invoice.payments])
