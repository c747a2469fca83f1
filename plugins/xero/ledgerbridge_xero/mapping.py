"""Pure conversions between LedgerBridge's provider-neutral values and Xero's JSON (FACTS Xero 3).

No I/O here, so every rule can be read and tested on its own: which contacts count as customers, how
an archived contact or a deleted tax rate shows, what an item's unique `Code` is, how our invoice
becomes an ACCREC invoice (status, `LineAmountTypes`, a `TaxType` per line), and how Xero's invoice
statuses map onto ours.

Ids: contacts, items, invoices and payments are referred to by Xero's GUIDs; income accounts by their
`Code` and tax rates by their `TaxType`, because those are what invoice lines and items carry in Xero's
API (item `SalesDetails` has no AccountID).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import quote

from ledgerbridge.errors import ProviderError
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
)

from ledgerbridge_xero.client import ms_datetime

Json = dict[str, Any]
ZERO = Decimal("0")
CODE_MAX = 30
ITEM_NAME_MAX = 50
NO_TAX = "NONE"


def money(value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def day(row: Json, key: str) -> date | None:
    """`DateString` (ISO) when present, else the MS form of `Date`/`DueDate`."""
    iso = row.get(f"{key}String")
    if iso:
        try:
            return datetime.fromisoformat(str(iso)).date()
        except ValueError:
            pass
    moment = ms_datetime(row.get(key))
    return moment.date() if moment else None


def version(row: Json) -> str:
    """`UpdatedDateUTC` as the version: Xero has no SyncToken, and it moves on every change we can see."""
    return str(row.get("UpdatedDateUTC") or "")


# --------------------------------------------------------------------------- contacts


def is_customer(row: Json) -> bool:
    """A contact is ours to import unless it is only a supplier. `IsCustomer` is set by Xero only once a
    sales invoice exists, so a new contact with neither flag may well be a customer."""
    return bool(row.get("IsCustomer")) or not row.get("IsSupplier")


def _address(row: Json) -> Address:
    addresses = [a for a in row.get("Addresses") or [] if isinstance(a, dict)]
    chosen = next((a for a in addresses if a.get("AddressType") == "STREET" and a.get("AddressLine1")),
                  next((a for a in addresses if a.get("AddressLine1")), {}))
    return Address(line1=str(chosen.get("AddressLine1") or ""), line2=str(chosen.get("AddressLine2") or ""),
                   city=str(chosen.get("City") or ""), region=str(chosen.get("Region") or ""),
                   postal_code=str(chosen.get("PostalCode") or ""), country=str(chosen.get("Country") or ""))


def _phone(row: Json) -> str:
    for phone in row.get("Phones") or []:
        if isinstance(phone, dict) and phone.get("PhoneNumber"):
            parts = (phone.get("PhoneCountryCode"), phone.get("PhoneAreaCode"), phone.get("PhoneNumber"))
            return " ".join(str(p) for p in parts if p)
    return ""


def remote_customer(row: Json) -> RemoteCustomer:
    """ARCHIVED is a contact put away (inactive); a GDPR erasure request means it is gone for good."""
    status = str(row.get("ContactStatus") or "ACTIVE")
    return RemoteCustomer(
        remote_id=str(row["ContactID"]), version=version(row), updated_at=ms_datetime(row.get("UpdatedDateUTC")),
        deleted=status == "GDPRREQUEST", name=str(row.get("Name") or ""), company=str(row.get("Name") or ""),
        given_name=str(row.get("FirstName") or ""), family_name=str(row.get("LastName") or ""),
        email=str(row.get("EmailAddress") or ""), phone=_phone(row), address=_address(row),
        tax_number=str(row.get("TaxNumber") or ""), currency=str(row.get("DefaultCurrency") or ""),
        active=status == "ACTIVE",
    )


def customer_body(customer: CustomerData) -> Json:
    body: Json = {"Name": customer.name.strip()[:255]}
    if customer.given_name:
        body["FirstName"] = customer.given_name[:255]
    if customer.family_name:
        body["LastName"] = customer.family_name[:255]
    if customer.email:
        body["EmailAddress"] = customer.email[:255]
    if customer.tax_number:
        body["TaxNumber"] = customer.tax_number[:50]
    address = customer.address
    if address.line1 or address.city or address.postal_code:
        body["Addresses"] = [{"AddressType": "STREET", "AddressLine1": address.line1, "AddressLine2": address.line2,
                              "City": address.city, "Region": address.region, "PostalCode": address.postal_code,
                              "Country": address.country}]
    if customer.phone:
        body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": customer.phone[:50]}]
    body["ContactStatus"] = "ACTIVE" if customer.active else "ARCHIVED"
    return body


# --------------------------------------------------------------------------- items, accounts, tax rates


def item_code(name: str) -> str:
    """A stable, unique-enough `Code` (max 30) from our item's name: readable when it fits, else a prefix
    plus a short hash so two long names never collide."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name.strip()).strip("-").upper() or "ITEM"
    if len(slug) <= CODE_MAX:
        return slug
    digest = hashlib.sha256(name.strip().encode()).hexdigest()[:6].upper()
    return f"{slug[:CODE_MAX - 7].rstrip('-')}-{digest}"


def item_body(item: ItemData, code: str) -> Json:
    sales: Json = {"UnitPrice": item.unit_price}
    if item.income_account_id:
        sales["AccountCode"] = item.income_account_id
    sales["TaxType"] = item.tax_rate_id if item.taxable and item.tax_rate_id else NO_TAX
    body: Json = {"Code": code, "Name": item.name.strip()[:ITEM_NAME_MAX], "IsSold": True, "SalesDetails": sales}
    if item.description:
        body["Description"] = item.description[:4000]
    return body


def remote_item(row: Json) -> RemoteItem:
    sales = row.get("SalesDetails") or {}
    tax = sales.get("TaxType")
    return RemoteItem(
        remote_id=str(row["ItemID"]), version=version(row), updated_at=ms_datetime(row.get("UpdatedDateUTC")),
        name=str(row.get("Name") or row.get("Code") or ""), description=str(row.get("Description") or ""),
        kind="inventory" if row.get("IsTrackedAsInventory") else "service", unit_price=money(sales.get("UnitPrice")),
        income_account_id=str(sales["AccountCode"]) if sales.get("AccountCode") else None,
        taxable=bool(tax) and tax != NO_TAX, tax_rate_id=str(tax) if tax else None,
        active=row.get("IsSold", True) is not False,
    )


def is_income_account(row: Json) -> bool:
    return row.get("Class") == "REVENUE" and bool(row.get("Code"))


def remote_account(row: Json) -> RemoteAccount:
    status = str(row.get("Status") or "ACTIVE")
    return RemoteAccount(
        remote_id=str(row["Code"]), version=version(row), updated_at=ms_datetime(row.get("UpdatedDateUTC")),
        deleted=status == "DELETED", name=str(row.get("Name") or ""), code=str(row.get("Code") or ""),
        account_type=str(row.get("Type") or ""), active=status == "ACTIVE",
    )


def is_sales_tax_rate(row: Json) -> bool:
    return row.get("CanApplyToRevenue", True) is not False


def remote_tax_rate(row: Json) -> RemoteTaxRate:
    status = str(row.get("Status") or "ACTIVE")
    rate = row.get("EffectiveRate")
    if rate in (None, ""):
        rate = row.get("DisplayTaxRate")
    return RemoteTaxRate(
        remote_id=str(row["TaxType"]), deleted=status == "DELETED", name=str(row.get("Name") or row["TaxType"]),
        code=str(row["TaxType"]), rate=money(rate), active=status == "ACTIVE",
    )


# --------------------------------------------------------------------------- invoices


def line_amount_types(invoice: InvoiceData) -> str:
    """`NoTax` when no line carries a tax rate; otherwise our prices are before tax (`Exclusive`)."""
    if any(line.tax_rate_id or line.tax_rate_name for line in invoice.lines):
        return "Exclusive"
    return "NoTax"


def missing_tax_rate(invoice: InvoiceData) -> ProviderError | None:
    """A clear issue when a line's tax rate has no Xero counterpart, instead of Xero's default tax type."""
    for number, line in enumerate(invoice.lines, start=1):
        if line.tax_rate_name and not line.tax_rate_id:
            return ProviderError(
                f"Line {number} of invoice {invoice.number} uses the tax rate “{line.tax_rate_name}”, which has no "
                "matching Xero tax rate.", code="validation_failed",
                fix="Import tax rates from Xero and map this rate to one of them, then export again.")
    return None


def invoice_body(invoice: InvoiceData, *, status: str | None, items: dict[str, Json],
                 default_account: str | None) -> Json:
    """The ACCREC invoice; `items` maps our lines' Xero ItemIDs to the items (for their Code and account).

    `LineAmount` is left for Xero to compute from Quantity x UnitAmount (sent with `unitdp=4`), because Xero
    refuses a line whose amount disagrees with its own rounding. `CurrencyCode` is not sent: Xero takes the
    contact's currency, and an organisation without multi-currency refuses any other (the caller warns).
    """
    lines = []
    for line in invoice.lines:
        item = items.get(line.item_id or "") or {}
        entry: Json = {"Description": line.description or line.item_name or "-", "Quantity": line.quantity,
                       "UnitAmount": line.unit_price}
        if item.get("Code"):
            entry["ItemCode"] = item["Code"]
        account = line.income_account_id or (item.get("SalesDetails") or {}).get("AccountCode") or default_account
        if account:
            entry["AccountCode"] = str(account)
        entry["TaxType"] = line.tax_rate_id or NO_TAX
        lines.append(entry)
    body: Json = {"Type": "ACCREC", "Contact": {"ContactID": invoice.customer_id}, "Date": invoice.issue_date,
                  "LineAmountTypes": line_amount_types(invoice), "LineItems": lines}
    if invoice.due_date:
        body["DueDate"] = invoice.due_date
    if invoice.send_number and invoice.number:
        body["InvoiceNumber"] = invoice.number
    if invoice.memo:
        body["Reference"] = invoice.memo[:255]
    if status:
        body["Status"] = status
    return body


STATES: dict[str, InvoiceState] = {
    "DRAFT": "draft", "SUBMITTED": "draft", "PAID": "paid", "VOIDED": "void", "DELETED": "deleted",
}


def invoice_state(row: Json) -> InvoiceState:
    status = str(row.get("Status") or "")
    if status == "AUTHORISED":
        return "partially_paid" if money(row.get("AmountPaid")) > 0 else "open"
    return STATES.get(status, "open")


def invoice_deep_link(web: str, short_code: str, invoice_id: str, status: str = "") -> str:
    """Xero's organisation-login deep link (FACTS Xero 9): drafts open in the editor."""
    if not short_code:
        return ""
    page = "Edit" if status in ("DRAFT", "SUBMITTED") else "View"
    return _link_prefix(web, short_code, page) + _quoted(invoice_id)


@cache
def _link_prefix(web: str, short_code: str, page: str) -> str:
    """All of the link but the invoice's id, quoted once: a batch's answer links fifty invoices."""
    login = f"{web.rstrip('/')}/organisationlogin/default.aspx"
    return f"{login}?shortcode={quote(short_code, safe='')}&redirecturl=" + quote(
        f"/AccountsReceivable/{page}.aspx?InvoiceID=", safe="/")


def _quoted(invoice_id: str) -> str:
    """An id as the redirect's query quotes it; Xero's ids (GUIDs) need nothing, so are not run through `quote`."""
    return invoice_id if _GUID_SAFE.fullmatch(invoice_id) else quote(invoice_id, safe="/")


_GUID_SAFE = re.compile(r"[A-Za-z0-9-]*")


def remote_payments(row: Json) -> tuple[RemotePayment, ...]:
    out = []
    for payment in row.get("Payments") or []:
        if not isinstance(payment, dict) or not payment.get("PaymentID"):
            continue
        if str(payment.get("Status") or "AUTHORISED") == "DELETED":
            continue
        moment = ms_datetime(payment.get("Date"))
        out.append(RemotePayment(remote_id=str(payment["PaymentID"]), paid_on=moment.date() if moment else None,
                                 amount=money(payment.get("Amount")), reference=str(payment.get("Reference") or "")))
    return tuple(out)


def remote_invoice(row: Json, *, web: str = "", short_code: str = "") -> RemoteInvoice:
    status = str(row.get("Status") or "")
    return RemoteInvoice(
        remote_id=str(row["InvoiceID"]), version=version(row), updated_at=ms_datetime(row.get("UpdatedDateUTC")),
        deleted=status == "DELETED", number=str(row.get("InvoiceNumber") or ""),
        status=invoice_state(row),
        raw_status=status, issue_date=day(row, "Date"), due_date=day(row, "DueDate"),
        currency=str(row.get("CurrencyCode") or ""), total=money(row.get("Total")),
        balance=money(row.get("AmountDue")), payments=remote_payments(row),
        deep_link=invoice_deep_link(web, short_code, str(row["InvoiceID"]), status),
    )


def payment_body(payment: PaymentData, account_code: str) -> Json:
    body: Json = {"Invoice": {"InvoiceID": payment.invoice_id}, "Account": {"Code": account_code},
                  "Date": payment.paid_on, "Amount": payment.amount}
    reference = payment.reference or payment.method
    if reference:
        body["Reference"] = reference[:255]
    return body
