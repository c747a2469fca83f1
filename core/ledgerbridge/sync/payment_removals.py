"""Payments the bookkeeper deleted or voided in the books, noticed when their invoice is read back.

A read-back of an invoice (status poll, webhook follow-up, the read after a void) lists the payments
the provider still applies to it: every plugin maps only live ones (QuickBooks drops a deleted or
voided payment from the invoice's `LinkedTxn`, Xero marks it `DELETED`, FreshBooks lists only
`vis_state` 0, Acme removes it from the invoice). A payment linked here to a copy in the books that
this list no longer holds is gone there, and "deleted there means archived here": the payment is
kept, voided here (`voided_at`) and marked `removed_in_provider`, its link says so, the audit trail
and a `payment.voided` event record it, all in the transaction that applies the read-back, and the
caller then counts the invoice's paid amount without it. Nothing is sent to the books: the change
came from there. The read costs no request of its own: the invoice's read-back already holds the list.

Only the books connection decides (a read-only connection's copy no longer speaks for the books).
A payment on an invoice voided or deleted there is judged by what that provider does with such
payments (`_on_removed_invoice`): kept as the customer's credit there, it stays here with an issue
for a person to decide; gone with the invoice, it is voided here like any payment removed there.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ledgerbridge import audit
from ledgerbridge.db import write_transaction
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.invoicing import format_money, paid_here
from ledgerbridge.issues import raise_issue
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemoteInvoice
from ledgerbridge.sync.shared_payments import applied_keys
from ledgerbridge.tables import Connection, ExternalLink, Invoice, LinkState, Payment, RecordType, utcnow

PAYMENT_ON_REMOVED_INVOICE = "payment_on_removed_invoice"


async def notice_removed_payments(connection: Connection, invoice: Invoice, remote: RemoteInvoice,
                                  read_after: datetime) -> list[int]:
    """Void here the invoice's payments the books no longer hold; returns their ids.

    `read_after` is a moment before the provider was asked: a payment whose link was written at or
    after it may have reached the books after the provider answered (an export landing while the
    read was on its way), so this read cannot tell that it is gone; the next read will.

    An invoice voided or deleted there is judged too (`_on_removed_invoice`).
    """
    if not connection.is_books:
        return []
    live = applied_keys(remote.remote_id, remote.payments)
    links = await ExternalLink.objects().where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.payment)
        & ExternalLink.remote_id.is_not_null() & (ExternalLink.state != LinkState.deleted_remote)
        & ExternalLink.record_id.is_in(Payment.select(Payment.id).where(
            (Payment.invoice == invoice.id) & Payment.voided_at.is_null()))
    )
    settled = [link for link in links if link.remote_id and link.updated_at < read_after
               and (link.last_synced_at is None or link.last_synced_at < read_after)]
    gone = [link for link in settled if link.remote_id not in live]
    name = get_registry().name_of(connection.provider)
    message = (f"Deleted or voided in {name} (no longer applied to invoice {invoice.number} there); voided here "
               "too, and no longer counted.")
    if remote.deleted or remote.status in ("void", "deleted"):
        gone, message = await _on_removed_invoice(connection, invoice, remote, settled, gone)
    removed: list[int] = []
    for link in gone:
        async with write_transaction():
            payment = await Payment.objects().where(
                (Payment.id == link.record_id) & Payment.voided_at.is_null()).first()
            if payment is None:  # voided here meanwhile: that void's own run settles the books
                continue
            await _archive(connection, invoice, payment, link, message)
        removed.append(payment.id)
    return removed


async def _on_removed_invoice(connection: Connection, invoice: Invoice, remote: RemoteInvoice,
                              settled: list[ExternalLink], gone: list[ExternalLink]) -> tuple[list[ExternalLink], str]:
    """The invoice is voided or deleted in the books: what became of its payments there, told truly.

    Where the provider keeps such payments as the customer's unapplied credit
    (`Capabilities.payments_outlive_invoices`: QuickBooks), or still lists one against the invoice, the
    money is still in the books: the payment stays counted here (the invoice here is not voided by a
    change there either), its link says what happened, and an issue on it asks a person to decide
    (apply the credit elsewhere, or refund it and void the payment here). Elsewhere (Xero refuses to
    void an invoice that has payments, so they were deleted first) a payment the read no longer shows
    is gone there and is voided here like any payment removed there. Returns those, and their message.
    """
    info = get_registry().providers.get(connection.provider)
    outlive = bool(info and info.capabilities.payments_outlive_invoices)
    name = get_registry().name_of(connection.provider)
    how = "deleted" if remote.deleted or remote.status == "deleted" else "voided"
    unlisted = {link.id for link in gone}
    for link in settled:
        if link.state == LinkState.warning:  # told already, at an earlier read
            continue
        if link.id in unlisted and not outlive:
            continue
        payment = await Payment.objects().where(Payment.id == link.record_id).first()
        if payment is None:
            continue
        there = ("is still recorded there against it" if link.id not in unlisted else
                 f"is no longer applied to it there: {name} keeps it as the customer's unapplied credit (unless it "
                 "was deleted or voided there too)")
        said = (f"Invoice {invoice.number} was {how} in {name}, and this payment of {format_money(payment.amount)} "
                f"{there}. It is still counted here.")
        async with write_transaction():
            await ExternalLink.update({ExternalLink.state: LinkState.warning, ExternalLink.message: said,
                                       ExternalLink.updated_at: utcnow()}).where(ExternalLink.id == link.id)
            await raise_issue(
                workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.payment,
                record_id=payment.id, code=PAYMENT_ON_REMOVED_INVOICE, message=said,
                fix=(f"Decide where the money belongs. In {name}, apply it to another invoice of the customer or "
                     "refund it; if it was refunded, void this payment here (that voids it in "
                     f"{name} too); if it belongs to another invoice, record it there. Then resolve this issue."))
    if outlive:
        return [], ""
    return gone, (f"Invoice {invoice.number} was {how} in {name}, and this payment went with it there (deleted "
                  "first); voided here too, and no longer counted.")


async def _archive(connection: Connection, invoice: Invoice, payment: Payment, link: ExternalLink,
                   message: str) -> None:
    """Void one payment here because the books dropped it; call inside a write transaction."""
    payment.voided_at = utcnow()
    paid = await mark_removed(connection, invoice, payment, link, message=message)
    await emit(records.payment_voided(connection.workspace, invoice, payment, paid, [],
                                      removed_in_provider=connection.provider))


async def mark_removed(connection: Connection, invoice: Invoice, payment: Payment, link: ExternalLink, *,
                       message: str) -> Decimal:
    """Mark the payment removed in the provider (kept, voided as of `payment.voided_at`, its link gone
    there with `message`) and audit it with the provider as actor; returns what the invoice is still
    paid here. Shared with a void run that finds the bookkeeper removed the payment first
    (`payment_voids`), so both tell the same story. Call inside a write transaction."""
    name = get_registry().name_of(connection.provider)
    now = utcnow()
    payment.removed_in_provider = connection.provider
    await Payment.update({Payment.voided_at: payment.voided_at, Payment.removed_in_provider: connection.provider}
                         ).where(Payment.id == payment.id)
    await ExternalLink.update({
        ExternalLink.state: LinkState.deleted_remote, ExternalLink.updated_at: now, ExternalLink.message: message,
    }).where(ExternalLink.id == link.id)
    paid = await paid_here(invoice.id)
    await audit.record_from_books(
        connection.workspace, f"{name} (the books)", "payment.removed_in_provider", target_type="payment",
        target_id=payment.id,
        before={"invoice_id": invoice.id, "invoice": invoice.number, "amount": format_money(payment.amount),
                "paid_on": payment.paid_on, "reference": payment.reference, "remote_id": link.remote_id},
        after={"voided_at": payment.voided_at, "removed_in_provider": connection.provider,
               "connection_id": connection.id, "amount_paid": format_money(paid)},
    )
    return paid
