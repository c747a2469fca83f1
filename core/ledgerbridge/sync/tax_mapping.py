"""Our tax rates as the books know them, and the checks that keep tax from being dropped on export.

A tax rate a connection imported is its own counterpart there. Any other rate of ours (made here,
or imported from a connection that is no longer the books) reaches the books only through a
`TaxMapping` row, the way an item reaches an income account. An export checks every line first:
an unmapped rate, or a company that needs a tax code on every line (non-US QuickBooks) and a line
without one, is an issue on the invoice before any customer, item or invoice is sent. Exporting
untaxed is never a silent fallback.

Providers that compute tax themselves (QuickBooks' automated sales tax) may land on another total
than ours; `recomputed_tax_warning` names both, so the difference is seen rather than discovered
at month end.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerbridge import jobs
from ledgerbridge.errors import ProviderError
from ledgerbridge.invoicing import format_money
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemoteInvoice
from ledgerbridge.sync.links import get_link
from ledgerbridge.tables import Connection, Invoice, InvoiceLine, RecordType, TaxMapping, TaxRate

TAX_CODE_PER_LINE = "tax_code_per_line"
"""The provider_data flag a plugin sets when the connected company needs a tax code on every line."""


@dataclass(frozen=True)
class BooksTax:
    """A line's tax as the books take it: the provider's id and the name the books show."""

    remote_id: str
    name: str


def requires_tax_code_per_line(connection: Connection) -> bool:
    data: Any = connection.provider_data
    facts = jobs.loads(data) if isinstance(data, str) else (data or {})
    return bool(facts.get(TAX_CODE_PER_LINE))


async def books_rate(connection: Connection, tax_rate_id: int) -> TaxRate | None:
    """The connection's own tax rate that `tax_rate_id` exports as; None when it is not mapped."""
    rate = await TaxRate.objects().where(TaxRate.id == tax_rate_id).first()
    if rate is None:
        return None
    if rate.connection == connection.id:
        return rate
    mapping = await TaxMapping.objects().where(
        (TaxMapping.connection == connection.id) & (TaxMapping.tax_rate == tax_rate_id)
    ).first()
    if mapping is None:
        return None
    return await TaxRate.objects().where(
        (TaxRate.id == mapping.books_rate) & (TaxRate.connection == connection.id)
    ).first()


async def books_tax(connection: Connection, tax_rate_id: int | None) -> BooksTax | None:
    """The provider's id for a line's tax rate, or None when the line has none or it is unmapped."""
    if tax_rate_id is None:
        return None
    target = await books_rate(connection, tax_rate_id)
    if target is None:
        return None
    link = await get_link(connection.id, RecordType.tax_rate, target.id)
    if link is None or not link.remote_id:
        return None
    return BooksTax(remote_id=link.remote_id, name=target.name)


def _percent(rate: Decimal) -> str:
    return f"{format_money(rate, places=4).rstrip('0').rstrip('.')}%"


async def check_invoice_taxes(connection: Connection, invoice: Invoice) -> None:
    """Refuse, before anything is sent, an invoice whose tax the books would not get as ours."""
    lines = await InvoiceLine.objects().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.position)
    rate_ids = {line.tax_rate for line in lines if line.tax_rate is not None}
    rates = {rate.id: rate for rate in await TaxRate.objects().where(TaxRate.id.is_in(list(rate_ids)))} \
        if rate_ids else {}
    taxes = {rate_id: await books_tax(connection, rate_id) for rate_id in rate_ids}
    refuse_untaxed_lines(connection, invoice, lines, rates, taxes)


def refuse_untaxed_lines(connection: Connection, invoice: Invoice, lines: list[InvoiceLine],
                         rates: dict[int, TaxRate], taxes: dict[int, BooksTax | None]) -> None:
    """`check_invoice_taxes` on what was already read (the lines in order, their rates, the books'
    tax of each rate), so a batch of invoices is checked without a query per invoice."""
    caps = get_registry().provider(connection.provider).capabilities
    per_line = requires_tax_code_per_line(connection)
    for number, line in enumerate(lines, start=1):
        if line.tax_rate is None:
            if per_line:
                raise ProviderError(
                    f"Line {number} of invoice {invoice.number} has no tax rate, and this company "
                    "needs a tax code on every line.",
                    code="tax_code_required",
                )
            continue
        rate = rates.get(line.tax_rate)
        label = f"“{rate.name}” ({_percent(rate.rate)})" if rate is not None else f"#{line.tax_rate}"
        if not caps.tax_rates:
            raise ProviderError(
                f"Line {number} of invoice {invoice.number} carries the tax rate {label}, but this "
                "provider takes no tax rates from us.", code="tax_not_mapped",
                fix="Remove the tax rate from the line, or keep the books in a provider with tax rates.",
            )
        if taxes.get(line.tax_rate) is None:
            raise ProviderError(
                f"Line {number} of invoice {invoice.number} uses the tax rate {label}, which is not "
                f"mapped to a tax rate of the books ({connection.tenant_name or connection.provider}).",
                code="tax_not_mapped",
            )


def recomputed_tax_warning(invoice: Invoice, remote: RemoteInvoice | None, provider_name: str) -> str | None:
    """A warning naming both totals when the provider's total for the invoice is not ours."""
    if remote is None or remote.total == Decimal(invoice.total):
        return None
    if remote.currency and remote.currency != invoice.currency:
        return None  # another currency: the currency warning says it
    if remote.total == 0 and Decimal(invoice.total) != 0 and remote.status in ("void", "deleted"):
        return None
    return (
        f"Tax: {provider_name} computed the tax itself and its total is {format_money(remote.total)} "
        f"{remote.currency or invoice.currency}, ours is {format_money(Decimal(invoice.total))} "
        f"{invoice.currency} (tax here {format_money(Decimal(invoice.tax_total))}). Check the tax mapping "
        f"and the provider's sales tax settings."
    )


def suggest(rate: TaxRate, candidates: list[TaxRate]) -> TaxRate | None:
    """The books' rate most like ours: same name and percent, else same percent with the closest
    name, else the same name. None when nothing shares the percent or the name."""
    same_percent = [c for c in candidates if Decimal(c.rate) == Decimal(rate.rate)]
    name = rate.name.strip().lower()
    for candidate in same_percent:
        if candidate.name.strip().lower() == name:
            return candidate
    if same_percent:
        return max(same_percent, key=lambda c: difflib.SequenceMatcher(None, name, c.name.lower()).ratio())
    for candidate in candidates:
        if candidate.name.strip().lower() == name:
            return candidate
    return None
