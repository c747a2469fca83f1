"""What exporting invoices needs from the database, read for a whole batch in a few queries.

Why: an export used to read each invoice, its lines, items, customer, links, tax rates and withdrawn
copies one query at a time, about forty milliseconds an invoice. With Xero taking 50 invoices a
request and 60 requests a minute, that, not the provider, was what a bulk export waited for. These
facts are read once for a batch (a fixed number of queries whatever its size, plus a few per
distinct tax rate); the checks and the payload are then built from them without a query each.
The rows become table objects without Piccolo's per-column constructor (`row_objects`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ledgerbridge.db import marks, read_transaction
from ledgerbridge.row_objects import fetched
from ledgerbridge.sync.tax_mapping import BooksTax, books_tax
from ledgerbridge.sync.withdrawal import numbers_taken_by_copies
from ledgerbridge.tables import (
    Connection,
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    Item,
    LinkState,
    RecordType,
    TaxRate,
)


@dataclass
class InvoiceFacts:
    """A batch of invoices and what their export reads: lines in order, items, customers, this
    connection's links of those, tax rates with the books' counterpart, copies holding a number."""

    invoices: dict[int, Invoice] = field(default_factory=dict)
    lines: dict[int, list[InvoiceLine]] = field(default_factory=dict)
    items: dict[int, Item] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    links: dict[tuple[str, int], ExternalLink] = field(default_factory=dict)
    rates: dict[int, TaxRate] = field(default_factory=dict)
    taxes: dict[int, BooksTax | None] = field(default_factory=dict)
    taken: dict[int, int] = field(default_factory=dict)

    def link(self, record_type: str, record_id: int) -> ExternalLink | None:
        return self.links.get((record_type, record_id))

    def current_remote(self, record_type: str, record_id: int) -> str | None:
        """The provider's id of a customer or item the export may use as it is (what
        `outbound.ensure_exported` would return without sending); None when it must be sent first."""
        link = self.link(record_type, record_id)
        if link is None or not link.remote_id or link.state in (LinkState.needs_sync, LinkState.error):
            return None
        return link.remote_id

    def learned(self, record_type: str, record_id: int, remote_id: str) -> None:
        """A customer or item just sent: the batch's other invoices use it without looking again."""
        link = self.links.get((record_type, record_id))
        if link is None:
            link = ExternalLink(record_type=record_type, record_id=record_id)
            self.links[(record_type, record_id)] = link
        link.remote_id, link.state = remote_id, LinkState.synced


async def load_facts(connection: Connection, invoice_ids: list[int]) -> InvoiceFacts:
    """Read what the export of these invoices needs; invoices of another workspace are left out."""
    if not invoice_ids:
        return InvoiceFacts()
    async with read_transaction():  # one connection for all the reads
        return await _read(connection, invoice_ids)


async def _read(connection: Connection, invoice_ids: list[int]) -> InvoiceFacts:
    """Raw statements (`row_objects.fetched`): building these through Piccolo, a value at a time for
    each `IN` list, cost more than the database's answers."""
    facts = InvoiceFacts()
    facts.invoices = {invoice.id: invoice for invoice in await fetched(
        Invoice, f"id IN ({marks(invoice_ids)}) AND workspace = ?", *invoice_ids, connection.workspace)}
    ids = list(facts.invoices)
    if not ids:
        return facts
    by_invoice: defaultdict[int, list[InvoiceLine]] = defaultdict(list)
    for line in await fetched(InvoiceLine, f'invoice IN ({marks(ids)}) ORDER BY invoice, "position"', *ids):
        by_invoice[line.invoice].append(line)
    facts.lines = {invoice_id: by_invoice.get(invoice_id, []) for invoice_id in ids}
    lines = [line for invoice_lines in facts.lines.values() for line in invoice_lines]
    item_ids = sorted({line.item for line in lines if line.item})
    customer_ids = sorted({invoice.customer for invoice in facts.invoices.values()})
    if item_ids:
        facts.items = {item.id: item for item in await fetched(Item, f"id IN ({marks(item_ids)})", *item_ids)}
    facts.customers = {customer.id: customer for customer in await fetched(
        Customer, f"id IN ({marks(customer_ids)})", *customer_ids)}
    wanted = [(RecordType.invoice, ids), (RecordType.customer, customer_ids), (RecordType.item, item_ids)]
    where = " OR ".join(f"(record_type = ? AND record_id IN ({marks(some)}))" for _, some in wanted if some)
    params = [value for record_type, some in wanted if some for value in (record_type, *some)]
    for link in await fetched(ExternalLink, f'"connection" = ? AND ({where})', connection.id, *params):
        facts.links[(link.record_type, link.record_id)] = link
    rate_ids = sorted({line.tax_rate for line in lines if line.tax_rate is not None})
    if rate_ids:
        facts.rates = {rate.id: rate for rate in await TaxRate.objects().where(TaxRate.id.is_in(rate_ids))}
        facts.taxes = {rate_id: await books_tax(connection, rate_id) for rate_id in rate_ids}
    if connection.number_policy == "ours":
        facts.taken = await numbers_taken_by_copies(connection.id, ids)
    return facts
