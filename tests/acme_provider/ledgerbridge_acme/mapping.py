"""Pure conversions between Acme Books's JSON and the `ledgerbridge.provider` values.

No I/O here, so every rule about fields can be tested with a dict: which field is the display name,
how inactive records come back (as `active=False`, which makes the core archive its copy), and that
money stays Decimal from the wire to the database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from ledgerbridge.provider import (
    Address,
    CustomerData,
    InvoiceData,
    InvoiceState,
    ItemData,
    PaymentData,
    RemoteAccount,
    RemoteCustomer,
    RemoteInvoice,
    RemoteItem,
    RemotePayment,
    RemoteTaxRate,
    TimeEntryData,
)

from ledgerbridge_acme.client import parse_time

Json = dict[str, Any]

#: The account types an invoice line may credit; `import_accounts` reads only these.
INCOME_ACCOUNT_TYPES = ("income",)


def _text(row: Json, key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value)


def _money(value: Any) -> Decimal:
    """Amounts arrive as JSON numbers parsed to Decimal (`client.loads`); strings are accepted too."""
    return value if isinstance(value, Decimal) else Decimal(str(value or "0"))


def _common(row: Json) -> Json:
    return {"remote_id": _text(row, "id"), "version": _text(row, "version"),
            "updated_at": parse_time(row.get("updated_at")), "deleted": bool(row.get("deleted"))}


def address(row: Json | None) -> Address:
    row = row or {}
    return Address(line1=_text(row, "line1"), line2=_text(row, "line2"), city=_text(row, "city"),
                   region=_text(row, "region"), postal_code=_text(row, "postal_code"), country=_text(row, "country"))


def remote_customer(row: Json) -> RemoteCustomer:
    return RemoteCustomer(
        **_common(row),
        name=_text(row, "display_name"),
        company=_text(row, "company_name"),
        given_name=_text(row, "given_name"),
        family_name=_text(row, "family_name"),
        email=_text(row, "email"),
        phone=_text(row, "phone"),
        address=address(row.get("address")),
        tax_number=_text(row, "tax_number"),
        currency=_text(row, "currency"),
        notes=_text(row, "notes"),
        active=bool(row.get("active", True)),
    )


def remote_item(row: Json) -> RemoteItem:
    return RemoteItem(
        **_common(row),
        name=_text(row, "name"),
        description=_text(row, "description"),
        kind=_text(row, "type") or "service",
        unit_price=_money(row.get("unit_price")),
        income_account_id=_text(row, "income_account_id") or None,
        taxable=bool(row.get("tax_rate_id")),
        tax_rate_id=_text(row, "tax_rate_id") or None,
        active=bool(row.get("active", True)),
    )


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


#: Acme's invoice statuses are ours already; anything unknown is read as open.
STATUSES = ("open", "partially_paid", "paid", "void", "deleted")


def remote_invoice(row: Json) -> RemoteInvoice:
    raw = _text(row, "status")
    status = "deleted" if row.get("deleted") else raw if raw in STATUSES else "open"
    payments = tuple(RemotePayment(remote_id=_text(p, "id"), amount=_money(p.get("amount")),
                                   paid_on=_day(p.get("date")), reference=_text(p, "reference"))
                     for p in row.get("payments") or [] if isinstance(p, dict))
    return RemoteInvoice(
        **_common(row), number=_text(row, "number"), status=cast(InvoiceState, status), raw_status=raw,
        issue_date=_day(row.get("issue_date")), due_date=_day(row.get("due_date")), currency=_text(row, "currency"),
        total=_money(row.get("total")), balance=_money(row.get("balance")), payments=payments,
    )


def remote_account(row: Json) -> RemoteAccount:
    return RemoteAccount(**_common(row), name=_text(row, "name"), code=_text(row, "code"),
                         account_type=_text(row, "type"), active=bool(row.get("active", True)))


def remote_tax_rate(row: Json) -> RemoteTaxRate:
    return RemoteTaxRate(**_common(row), name=_text(row, "name"), code=_text(row, "code"),
                         rate=_money(row.get("rate")), active=bool(row.get("active", True)))


# --------------------------------------------------------------------------- what we send


def customer_body(customer: CustomerData) -> Json:
    """A customer as Acme Books takes it on create and update (`export_customer` will send this)."""
    place = customer.address
    return {
        "display_name": customer.name,
        "company_name": customer.company,
        "given_name": customer.given_name,
        "family_name": customer.family_name,
        "email": customer.email,
        "phone": customer.phone,
        "address": {"line1": place.line1, "line2": place.line2, "city": place.city, "region": place.region,
                    "postal_code": place.postal_code, "country": place.country},
        "tax_number": customer.tax_number,
        "currency": customer.currency,
        "notes": customer.notes,
        "active": customer.active,
    }


def item_body(item: ItemData) -> Json:
    """An item as Acme Books takes it on create and update (`export_item` will send this)."""
    return {
        "name": item.name,
        "description": item.description,
        "type": item.kind,
        "unit_price": item.unit_price,
        "income_account_id": item.income_account_id,
        "tax_rate_id": item.tax_rate_id if item.taxable else None,
        "active": item.active,
    }


def invoice_body(invoice: InvoiceData) -> Json:
    """An invoice as Acme takes it; Acme adds up the total from the lines itself, and numbers an invoice
    sent without one (`send_number` False: the connection lets the provider number it)."""
    return {
        "number": invoice.number if invoice.send_number else None,
        "customer_id": invoice.customer_id,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "currency": invoice.currency,
        "memo": invoice.memo,
        "lines": [{"item_id": line.item_id, "description": line.description, "quantity": line.quantity,
                   "unit_price": line.unit_price, "amount": line.line_total, "account_id": line.income_account_id,
                   "tax_rate_id": line.tax_rate_id, "tax_amount": line.tax_amount} for line in invoice.lines],
    }


def payment_body(payment: PaymentData) -> Json:
    return {"invoice_id": payment.invoice_id, "amount": payment.amount, "date": payment.paid_on.isoformat(),
            "method": payment.method, "reference": payment.reference}


def time_entry_body(entry: TimeEntryData) -> Json:
    return {"customer_id": entry.customer_id, "item_id": entry.item_id, "person": entry.person,
            "person_email": entry.person_email, "date": entry.worked_on.isoformat(), "hours": entry.hours,
            "rate": entry.rate, "description": entry.description, "billable": entry.billable,
            "billed": entry.billed}
