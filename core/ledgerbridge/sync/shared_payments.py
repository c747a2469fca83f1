"""One payment in the books that pays several invoices.

A bookkeeper who receives one cheque for two invoices records one payment in QuickBooks with a line
per invoice; each invoice's read-back lists that same payment (same id) with the amount applied to it.
Here a payment belongs to one invoice, so the copy becomes one payment per invoice it pays. The first
invoice read keeps the provider's own id as its link (as every payment read or sent before did); each
other invoice's share is linked as `<payment id>@<invoice id>` (`share_key`), since a remote id links
one record. Mirrored by id alone, as before, the second invoice's share was skipped as "already
linked" and that invoice never showed as paid here.

Voiding one share here cannot be sent to the books: the provider voids the whole payment, every
invoice's share with it. The void here stands and an issue on the payment says what to do there
(`shared_copy_issue`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ledgerbridge.invoicing import format_money
from ledgerbridge.issues import raise_issue
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemotePayment
from ledgerbridge.tables import Connection, ExternalLink, Invoice, LinkState, Payment, RecordType

SHARED_PAYMENT = "shared_payment"
_SHARE = "@"


def share_key(payment_id: str, invoice_id: str) -> str:
    """The link key of a payment's share of an invoice other than the first one read."""
    return f"{payment_id}{_SHARE}{invoice_id}"


def copy_id(remote_id: str) -> str:
    """The provider's id of the payment a link key stands for (a share's or the first invoice's)."""
    return remote_id.split(_SHARE, 1)[0]


def applied_keys(invoice_id: str, payments: Iterable[RemotePayment]) -> set[str]:
    """The link keys a read-back of one invoice still vouches for: each listed payment by its own id
    and as this invoice's share."""
    keys: set[str] = set()
    for payment in payments:
        if payment.amount > 0:
            keys.update((payment.remote_id, share_key(payment.remote_id, invoice_id)))
    return keys


async def mirrored(connection: Connection, invoice: Invoice, invoice_remote_id: str,
                   payment: RemotePayment) -> tuple[str, int | None]:
    """The key this invoice's copy of `payment` is linked under, and the payment here that mirrors it
    (None: not mirrored yet). The key is the provider's id if no invoice here holds it, or holds it on
    this invoice; else this invoice's share key."""
    own = await ExternalLink.select(ExternalLink.record_id).where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.payment)
        & (ExternalLink.remote_id == payment.remote_id)).first()
    if own is None:
        return payment.remote_id, None
    holder = await Payment.select(Payment.invoice).where(Payment.id == own["record_id"]).first()
    if holder is None or holder["invoice"] == invoice.id:
        return payment.remote_id, own["record_id"]
    key = share_key(payment.remote_id, invoice_remote_id)
    share = await ExternalLink.select(ExternalLink.record_id).where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.payment)
        & (ExternalLink.remote_id == key)).first()
    return key, share["record_id"] if share else None


async def other_shares(connection_id: int, link: ExternalLink) -> list[str]:
    """The numbers of the other invoices here whose payment is the same copy in the books as `link`'s
    and is still counted: empty when voiding `link`'s payment there touches no other invoice."""
    if not link.remote_id:
        return []
    base = copy_id(link.remote_id)
    siblings = await ExternalLink.select(ExternalLink.record_id).where(
        (ExternalLink.connection == connection_id) & (ExternalLink.record_type == RecordType.payment)
        & (ExternalLink.id != link.id) & (ExternalLink.state != LinkState.deleted_remote)
        & ((ExternalLink.remote_id == base) | ExternalLink.remote_id.like(f"{base}{_SHARE}%")))
    if not siblings:
        return []
    invoices = Payment.select(Payment.invoice).where(
        Payment.id.is_in([row["record_id"] for row in siblings]) & Payment.voided_at.is_null())
    rows = await Invoice.select(Invoice.number).where(Invoice.id.is_in(invoices)).order_by(Invoice.number)
    return [row["number"] for row in rows]


async def shared_copy_issue(connection: Connection, payment: Payment, invoice: Invoice, others: list[str]) -> None:
    """The void here stands; the books' payment also pays `others`, so a person adjusts it there."""
    name = get_registry().name_of(connection.provider)
    listed = ", ".join(others)
    await raise_issue(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.payment,
        record_id=payment.id, code=SHARED_PAYMENT,
        message=(f"The payment of {format_money(payment.amount)} on invoice {invoice.number} was voided here, but in "
                 f"{name} it is one payment that also pays invoice{'s' if len(others) > 1 else ''} {listed}. "
                 f"Voiding it there would void those too, so it was not sent; it still counts there."),
        fix=(f"In {name}, edit that payment to take invoice {invoice.number} off it (or void it there if all of it "
             "was refunded, then void the other invoices' shares here too), then resolve this issue."),
    )
