"""Invoice arithmetic with Decimal, the way Xero computes line and invoice totals.

A line's ``LineAmount`` is quantity x unit amount less the discount, rounded to cents; tax is worked
out per line from the tax rate (on top of the amount for ``Exclusive``, inside it for ``Inclusive``,
none for ``NoTax``); the invoice's SubTotal, TotalTax and Total are sums of the lines (FACTS Xero 3).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
UNIT_2DP = Decimal("0.01")
UNIT_4DP = Decimal("0.0001")
HUNDRED = Decimal("100")


def cents(value: Decimal) -> Decimal:
    """Round half away from zero to two places, as bookkeeping does."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_amount: Decimal, discount_rate: Decimal | None) -> Decimal:
    """Quantity x unit amount, less a percentage discount, in cents."""
    gross = quantity * unit_amount
    if discount_rate:
        gross = gross * (HUNDRED - discount_rate) / HUNDRED
    return cents(gross)


def line_tax(amount: Decimal, rate_percent: Decimal, line_amount_types: str) -> Decimal:
    """Tax carried by one line."""
    if line_amount_types == "NoTax" or not rate_percent:
        return Decimal("0.00")
    if line_amount_types == "Inclusive":
        return cents(amount * rate_percent / (HUNDRED + rate_percent))
    return cents(amount * rate_percent / HUNDRED)


def invoice_totals(lines: list[tuple[Decimal, Decimal]], line_amount_types: str) -> tuple[Decimal, Decimal, Decimal]:
    """(SubTotal, TotalTax, Total) from (LineAmount, TaxAmount) pairs."""
    amounts = sum((a for a, _ in lines), Decimal("0.00"))
    tax = sum((t for _, t in lines), Decimal("0.00"))
    subtotal = amounts - tax if line_amount_types == "Inclusive" else amounts
    return cents(subtotal), cents(tax), cents(subtotal + tax)
