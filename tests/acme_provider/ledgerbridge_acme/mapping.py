"""Pure conversions between Acme Books's JSON and the `ledgerbridge.provider` values.

No I/O here, so every rule about fields can be tested with a dict: which field is the display name,
how inactive records come back (as `active=False`, which makes the core archive its copy), and that
money stays Decimal from the wire to the database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.provider import (
    Address,
    CustomerData,
    ItemData,
    RemoteAccount,
    RemoteCustomer,
    RemoteItem,
    RemoteTaxRate,
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
            "updated_at": parse_time(row.get("updated_at"))}


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
