"""Planning a bulk export against a provider's daily call allowance.

Xero allows 5,000 calls a day per organisation. A bulk export that runs out halfway leaves the rest
waiting until the allowance comes back, which a person should know before pressing the button, not
discover the next morning. The estimate is deliberately generous (a call per batch of invoices plus
one per customer and item that may need creating) so "fits" means fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ledgerbridge import connections
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.plugins import get_registry
from ledgerbridge.tables import Connection, ExternalLink, Invoice, InvoiceLine, RecordType


@dataclass(frozen=True)
class DailyBudget:
    needed: int  # calls the export may make
    used_today: int
    allowance: int | None  # None: the provider publishes no daily limit

    @property
    def remaining(self) -> int | None:
        return None if self.allowance is None else max(0, self.allowance - self.used_today)

    @property
    def fits(self) -> bool:
        return self.remaining is None or self.needed <= self.remaining


async def estimate(connection: Connection, invoice_ids: list[int]) -> DailyBudget:
    caps = get_registry().provider(connection.provider).capabilities
    invoices = len(invoice_ids)
    batch = 1 if caps.batch_items_metered else max(1, caps.batch_size)
    customers = {row["customer"] for row in await Invoice.select(Invoice.customer).where(Invoice.id.is_in(invoice_ids))}
    items = {row["item"] for row in await InvoiceLine.select(InvoiceLine.item).where(
        InvoiceLine.invoice.is_in(invoice_ids) & InvoiceLine.item.is_not_null())}
    linked = await ExternalLink.select(ExternalLink.record_type, ExternalLink.record_id).where(
        (ExternalLink.connection == connection.id) & ExternalLink.remote_id.is_not_null()
        & ExternalLink.record_type.is_in([RecordType.customer, RecordType.item]))
    have = {(row["record_type"], row["record_id"]) for row in linked}
    new_customers = sum(1 for c in customers if (RecordType.customer, c) not in have)
    new_items = sum(1 for i in items if (RecordType.item, i) not in have)
    needed = math.ceil(invoices / batch) + new_customers + new_items
    used = (await connections.limiter().usage(connections.limiter_key(connection))).last_day
    return DailyBudget(needed=needed, used_today=used, allowance=caps.requests_per_day)


class DailyLimitAhead(LedgerBridgeError):
    code = "daily_limit"


async def check(connection: Connection, invoice_ids: list[int]) -> DailyBudget:
    """Refuse, before anything is queued, an export the provider's daily allowance cannot carry."""
    budget = await estimate(connection, invoice_ids)
    if not budget.fits:
        name = get_registry().provider(connection.provider).name
        raise DailyLimitAhead(
            f"Exporting {len(invoice_ids)} invoices to {name} needs about {budget.needed} calls, but only "
            f"{budget.remaining} of today's {budget.allowance} remain for {connection.tenant_name or 'this company'}.",
            fix="Export fewer invoices now and the rest after the allowance resets (it is a rolling 24 hours).",
        )
    return budget
