"""Invoice arithmetic: line amounts, discount, sales tax, totals, all in Decimal.

QBO computes ``TotalAmt``, ``Balance`` and ``TxnTaxDetail`` itself and adds a ``SubTotalLineDetail``
line to every sales form it returns. Clients that compare their own totals with QBO's (or send totals
QBO then ignores) only find their rounding bugs when the sandbox does the same arithmetic, so it lives
here in one place: money rounds half-up to cents, a line with Qty and UnitPrice must agree with its
Amount, tax is charged on ``TAX`` lines only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge_quickbooks.sandbox.errors import business_rule, invalid_reference, required_missing

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
UNIT_PRICE_STEP = Decimal("0.0000001")  # QBO keeps unit prices to 7 decimal places

Record = dict[str, Any]


def money(value: Decimal | int) -> Decimal:
    """Round to cents, half-up (the convention of US invoices)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TaxRateInfo:
    """One component rate of a tax code."""

    rate_id: str
    name: str
    percent: Decimal


@dataclass
class LineTotals:
    """Result of pricing an invoice's lines."""

    lines: list[Record]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    tax_detail: Record


ItemLookup = Callable[[Record], Record]
"""Resolve a ``SalesItemLineDetail.ItemRef`` to the item record (raising the right fault)."""


def price_lines(
    raw_lines: list[Record],
    *,
    resolve_item: ItemLookup,
    us_tax_codes: bool,
    tax_code_ref: Record | None,
    tax_rates: list[TaxRateInfo],
    apply_tax_after_discount: bool,
) -> LineTotals:
    """Validate and price the lines of a sales transaction.

    ``tax_code_ref``/``tax_rates`` describe the transaction-level tax code (empty rates: no tax).
    Returns the lines exactly as QBO would return them, including the automatic subtotal line.
    """
    out: list[Record] = []
    subtotal = ZERO
    taxable = ZERO
    discount_line: Record | None = None
    number = 0
    for index, raw in enumerate(raw_lines):
        detail_type = raw.get("DetailType")
        if not detail_type:
            raise required_missing(f"Line[{index}].DetailType")
        if detail_type == "SubTotalLineDetail":
            continue  # recomputed below; QBO ignores client-sent subtotal lines
        if detail_type == "DiscountLineDetail":
            if discount_line is not None:
                raise business_rule("Only one discount line is allowed per transaction.", "Line")
            discount_line = dict(raw)
            continue
        number += 1
        line = {k: v for k, v in raw.items() if k not in ("Id", "LineNum")}
        line["Id"] = str(number)
        line["LineNum"] = number
        if detail_type == "SalesItemLineDetail":
            amount, is_taxable = _price_item_line(line, index, resolve_item, us_tax_codes)
            subtotal += amount
            if is_taxable:
                taxable += amount
        elif detail_type == "DescriptionOnly":
            line.pop("Amount", None)
            line["DescriptionLineDetail"] = dict(line.get("DescriptionLineDetail") or {})
        else:
            raise business_rule(
                f"Line type {detail_type} is not supported on this transaction by the sandbox.", "Line.DetailType"
            )
        out.append(_ordered_line(line))
    out.append({"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})

    discount = ZERO
    if discount_line is not None:
        detail = dict(discount_line.get("DiscountLineDetail") or {})
        if detail.get("PercentBased"):
            percent = detail.get("DiscountPercent")
            if percent is None:
                raise required_missing("Line.DiscountLineDetail.DiscountPercent")
            discount = money(subtotal * Decimal(percent) / 100)
        else:
            if discount_line.get("Amount") is None:
                raise required_missing("Line.Amount")
            discount = money(discount_line["Amount"])
            detail.setdefault("PercentBased", False)
        if discount < 0 or discount > subtotal:
            raise business_rule("The discount must be between zero and the subtotal.", "Line.Amount")
        number += 1
        out.append(
            {
                "Id": str(number),
                "LineNum": number,
                "Amount": discount,
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": detail,
            }
        )

    base = taxable
    if apply_tax_after_discount and discount and subtotal:
        base = money(taxable - discount * taxable / subtotal)
    tax_lines: list[Record] = []
    tax = ZERO
    for rate in tax_rates:
        part = money(base * rate.percent / 100)
        tax += part
        tax_lines.append(
            {
                "Amount": part,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate.rate_id, "name": rate.name},
                    "PercentBased": True,
                    "TaxPercent": rate.percent,
                    "NetAmountTaxable": money(base),
                },
            }
        )
    tax_detail: Record = {}
    if tax_code_ref is not None:
        tax_detail["TxnTaxCodeRef"] = tax_code_ref
    tax_detail["TotalTax"] = money(tax)
    if tax_lines:
        tax_detail["TaxLine"] = tax_lines
    total = money(subtotal - discount + tax)
    if total < 0:
        raise business_rule("Transaction total amount must be zero or more.", "TotalAmt")
    return LineTotals(out, money(subtotal), discount, money(tax), total, tax_detail)


def _price_item_line(line: Record, index: int, resolve_item: ItemLookup, us_tax_codes: bool) -> tuple[Decimal, bool]:
    detail = dict(line.get("SalesItemLineDetail") or {})
    if "ItemRef" not in detail or not (detail["ItemRef"] or {}).get("value"):
        raise required_missing(f"Line[{index}].SalesItemLineDetail.ItemRef")
    item = resolve_item(detail["ItemRef"])
    detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
    qty = detail.get("Qty")
    unit = detail.get("UnitPrice")
    amount = line.get("Amount")
    if amount is not None and qty is not None and unit is not None and Decimal(qty) == 0 and Decimal(unit) == 0:
        # python-quickbooks sends Qty 0 / UnitPrice 0 on every line whose caller set only Amount; QBO
        # takes that as "no quantity given" and prices the line from Amount, so the pair is dropped here.
        detail.pop("Qty")
        detail.pop("UnitPrice")
        qty = unit = None
    if amount is None:
        if unit is None:
            raise required_missing(f"Line[{index}].Amount")
        amount = money(Decimal(unit) * Decimal(1 if qty is None else qty))
    amount = money(amount)
    if qty is not None and unit is not None and money(Decimal(qty) * Decimal(unit)) != amount:
        raise business_rule(
            f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount} on line {index + 1}",
            "Line.Amount",
        )
    if qty is not None and unit is None and Decimal(qty) != 0:
        detail["UnitPrice"] = (Decimal(amount) / Decimal(qty)).quantize(UNIT_PRICE_STEP, rounding=ROUND_HALF_UP)
    if "ItemAccountRef" not in detail and item.get("IncomeAccountRef"):
        detail["ItemAccountRef"] = dict(item["IncomeAccountRef"])
    is_taxable = False
    if us_tax_codes:
        code = (detail.get("TaxCodeRef") or {}).get("value")
        if code is None:
            code = "TAX" if item.get("Taxable") else "NON"
        if code not in ("TAX", "NON"):
            raise invalid_reference("TaxCode", code)
        detail["TaxCodeRef"] = {"value": code}
        is_taxable = code == "TAX"
    line["Amount"] = amount
    line["SalesItemLineDetail"] = detail
    return amount, is_taxable


def _ordered_line(line: Record) -> Record:
    """Put Id/LineNum/Description/Amount/DetailType first, like QBO's output."""
    order = ["Id", "LineNum", "Description", "Amount", "DetailType"]
    result = {k: line[k] for k in order if k in line}
    result.update({k: v for k, v in line.items() if k not in result})
    return result


def void_lines(lines: list[Record]) -> list[Record]:
    """Zero every amount on a voided transaction's lines (QBO keeps the lines, not the money)."""
    result = []
    for line in lines:
        copy_line = dict(line)
        if "Amount" in copy_line:
            copy_line["Amount"] = ZERO
        detail = copy_line.get("SalesItemLineDetail")
        if isinstance(detail, dict):
            detail = dict(detail)
            if "Qty" in detail:
                detail["Qty"] = Decimal(0)
            copy_line["SalesItemLineDetail"] = detail
        result.append(copy_line)
    return result
