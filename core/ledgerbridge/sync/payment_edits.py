"""A payment read from the books whose amount the bookkeeper changed there since.

A payment here is never edited in place: what it said when it was recorded stays on record, as with a
void. When an invoice's read-back lists a payment mirrored here earlier with another amount applied
to this invoice, the payment here is voided (marked `removed_in_provider`, its invoice no longer
counting it) and a new one records the amount the books now show. The link moves to the new payment,
so the next read finds them agreeing. The audit trail records `payment.changed_in_provider` (the
provider as actor, both amounts), and the host app hears `payment.voided` with `removed_in_provider`
set, then `payment.recorded`, all in the read-back's transaction.

Only payments that came from the books (`source` is the provider) are followed. One recorded here and
sent there keeps its amount: a provider may apply less of it to the invoice than was paid (QuickBooks
keeps an overpayment as the customer's credit), which is not an edit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ledgerbridge import audit
from ledgerbridge.db import write_transaction
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.invoicing import format_money, paid_here
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemotePayment
from ledgerbridge.tables import Connection, ExternalLink, Invoice, LinkState, Payment, RecordType, utcnow


async def follow_amount_change(connection: Connection, invoice: Invoice, key: str, payment_id: int,
                               remote: RemotePayment, read_after: datetime) -> int | None:
    """Replace the payment here if the books now apply another amount of it to this invoice; returns
    the new payment's id, or None when nothing changed. `read_after`: as for `payment_removals`, a
    link written after the provider was asked is judged at the next read."""
    if remote.amount <= 0:
        return None  # removed from this invoice there: `payment_removals` decides
    counted = await Payment.select(Payment.source, Payment.amount).where(
        (Payment.id == payment_id) & Payment.voided_at.is_null()).first()
    if counted is None or not _changed_there(counted["source"], counted["amount"], connection, remote):
        return None  # the usual answer, from one read: no write transaction for it
    async with write_transaction():  # read again inside it: a void here may have come meanwhile
        old = await Payment.objects().where((Payment.id == payment_id) & Payment.voided_at.is_null()).first()
        if old is None or not _changed_there(old.source, old.amount, connection, remote):
            return None
        link = await ExternalLink.objects().where(
            (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.payment)
            & (ExternalLink.remote_id == key)).first()
        if link is None or link.state == LinkState.deleted_remote or link.updated_at >= read_after:
            return None
        now = utcnow()
        old.voided_at, old.removed_in_provider = now, connection.provider
        await Payment.update({Payment.voided_at: now, Payment.removed_in_provider: connection.provider}).where(
            Payment.id == old.id)
        without = await paid_here(invoice.id)
        new = Payment(workspace=connection.workspace, invoice=invoice.id, paid_on=remote.paid_on or old.paid_on,
                      amount=remote.amount, method=remote.method or old.method,
                      reference=remote.reference or old.reference, source=connection.provider, created_at=now)
        await new.save()
        name = get_registry().name_of(connection.provider)
        await ExternalLink.update({
            ExternalLink.record_id: new.id, ExternalLink.state: LinkState.synced, ExternalLink.updated_at: now,
            ExternalLink.last_synced_at: now, ExternalLink.remote_version: remote.version or link.remote_version,
            ExternalLink.message: f"Changed in {name} from {format_money(old.amount)}; replaces payment #{old.id}.",
        }).where(ExternalLink.id == link.id)
        await audit.record_from_books(
            connection.workspace, f"{name} (the books)", "payment.changed_in_provider", target_type="payment",
            target_id=old.id,
            before={"invoice_id": invoice.id, "invoice": invoice.number, "amount": format_money(old.amount),
                    "remote_id": key},
            after={"voided_at": now, "removed_in_provider": connection.provider, "replaced_by": new.id,
                   "amount": format_money(new.amount)},
        )
        await emit(records.payment_voided(connection.workspace, invoice, old, without, [],
                                          removed_in_provider=connection.provider))
        await emit(records.payment_recorded(connection, invoice, new, remote.remote_id))
    return new.id


def _changed_there(source: str, amount: Decimal, connection: Connection, remote: RemotePayment) -> bool:
    """A payment that came from these books, counting another amount than they now apply."""
    return source == connection.provider and amount != remote.amount
