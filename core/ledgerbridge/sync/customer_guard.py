"""A customer that disappears from the books while it still owes money here is not archived quietly.

Reading a customer back as deleted, merged away or deactivated normally archives ours. When ours
still has open invoices (finalized or sent, not fully paid), archiving would hide money owed behind
a record that no longer exists in the books; instead the customer stays as it is and an issue on it
names the open invoices and what to do (link it to the surviving record, or settle the invoices).
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.errors import REASONS
from ledgerbridge.issues import raise_issue
from ledgerbridge.jobs import RunContext
from ledgerbridge.provider import RemoteRecord
from ledgerbridge.sync.links import link_by_remote, set_link_state
from ledgerbridge.sync.run_records import note
from ledgerbridge.tables import Connection, Invoice, InvoiceStatus, LinkState, RecordType

OPEN_STATUSES = (InvoiceStatus.finalized, InvoiceStatus.sent)
NAMED = 5  # invoice numbers named in the message; the rest are counted


async def open_invoice_numbers(customer_id: int) -> list[str]:
    rows = await Invoice.select(Invoice.number, Invoice.total, Invoice.amount_paid).where(
        (Invoice.customer == customer_id) & Invoice.status.is_in(list(OPEN_STATUSES))
    ).order_by(Invoice.number)
    return [row["number"] for row in rows if Decimal(row["total"]) > Decimal(row["amount_paid"])]


async def kept_for_open_invoices(ctx: RunContext, connection: Connection, remote: RemoteRecord) -> bool:
    """True (and an issue raised) when the gone customer must stay because invoices here are open."""
    link = await link_by_remote(connection.id, RecordType.customer, remote.remote_id)
    if link is None:
        return False
    numbers = await open_invoice_numbers(link.record_id)
    if not numbers:
        return False
    how = "deleted or merged away" if remote.deleted else "deactivated"
    named = ", ".join(numbers[:NAMED]) + (f" and {len(numbers) - NAMED} more" if len(numbers) > NAMED else "")
    message = (f"The customer was {how} in the books, but has {len(numbers)} open invoice"
               f"{'s' if len(numbers) != 1 else ''} here ({named}); it was not archived.")
    await raise_issue(workspace_id=connection.workspace, connection_id=connection.id,
                      record_type=RecordType.customer, record_id=link.record_id, run_id=ctx.run.id,
                      code="customer_gone_with_open_invoices", message=message,
                      fix=REASONS["customer_gone_with_open_invoices"].fix)
    await set_link_state(link, LinkState.warning, message)
    await note(ctx, RecordType.customer, link.record_id, remote.remote_id, "failed", message)
    return True
