"""Between QBO's JSON and LedgerBridge's provider vocabulary, with no I/O.

QBO's JSON follows its XSD element names (FACTS.md QBO 3): references are `{"value": id}`, amounts
are numbers parsed as Decimal, name lists carry `Active`, and CDC reports a deletion as a bare
`{"Id", "status": "Deleted"}`. Keeping the conversions pure lets them be tested on plain dicts and
keeps the HTTP client free of field names.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

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

Json = dict[str, Any]

DELETED_SUFFIX = " (deleted)"  # QBO renames deactivated items and accounts
US_LINE_CODES = ("TAX", "NON")  # pseudo tax codes US sales lines carry
INCOME_TYPES = ("Income", "Other Income")
ZERO = Decimal("0")


def _ref(value: str | None) -> Json | None:
    return {"value": value} if value else None


def _drop_empty(body: Json) -> Json:
    return {k: v for k, v in body.items() if v not in (None, "", {}, [])}


def is_deleted(row: Json) -> bool:
    return str(row.get("status", "")).lower() == "deleted"


def updated_at(row: Json) -> datetime | None:
    stamp = (row.get("MetaData") or {}).get("LastUpdatedTime")
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def money(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else ZERO


# --------------------------------------------------------------------------- customers


def disambiguated_name(customer: CustomerData) -> str:
    """The DisplayName used when another customer already has ours: never a silent merge."""
    tag = customer.email or f"LedgerBridge #{customer.local_id}"
    return f"{customer.name} ({tag})"


def customer_body(customer: CustomerData, display_name: str | None = None) -> Json:
    address = customer.address
    bill = _drop_empty({
        "Line1": address.line1, "Line2": address.line2, "City": address.city,
        "CountrySubDivisionCode": address.region, "PostalCode": address.postal_code, "Country": address.country,
    })
    return _drop_empty({
        "DisplayName": (display_name or customer.name).replace(":", " "),  # QBO forbids colons in names
        "CompanyName": customer.company,
        "GivenName": customer.given_name,
        "FamilyName": customer.family_name,
        "PrimaryEmailAddr": {"Address": customer.email} if customer.email else None,
        "PrimaryPhone": {"FreeFormNumber": customer.phone} if customer.phone else None,
        "BillAddr": bill,
        "ResaleNum": customer.tax_number,
        "Notes": customer.notes,
    }) | {"Active": customer.active}


def customer_email(row: Json) -> str:
    return str((row.get("PrimaryEmailAddr") or {}).get("Address") or "")


def remote_customer(row: Json) -> RemoteCustomer:
    if is_deleted(row):
        return RemoteCustomer(remote_id=str(row["Id"]), deleted=True, updated_at=updated_at(row), active=False)
    bill = row.get("BillAddr") or {}
    return RemoteCustomer(
        remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), updated_at=updated_at(row),
        name=str(row.get("DisplayName", "")), company=str(row.get("CompanyName", "")),
        given_name=str(row.get("GivenName", "")), family_name=str(row.get("FamilyName", "")),
        email=customer_email(row), phone=str((row.get("PrimaryPhone") or {}).get("FreeFormNumber") or ""),
        address=Address(
            line1=str(bill.get("Line1", "")), line2=str(bill.get("Line2", "")), city=str(bill.get("City", "")),
            region=str(bill.get("CountrySubDivisionCode", "")), postal_code=str(bill.get("PostalCode", "")),
            country=str(bill.get("Country", "")),
        ),
        tax_number=str(row.get("ResaleNum", "")), currency=str((row.get("CurrencyRef") or {}).get("value", "")),
        notes=str(row.get("Notes", "")), active=row.get("Active", True) is not False,
    )


# --------------------------------------------------------------------------- items


def item_body(item: ItemData) -> Json:
    return _drop_empty({
        "Name": item.name.replace(":", " "),
        "Description": item.description,
        "Type": "NonInventory" if item.kind in ("product", "goods", "non_inventory") else "Service",
        "IncomeAccountRef": _ref(item.income_account_id),
    }) | {"UnitPrice": item.unit_price, "Taxable": item.taxable, "Active": item.active}


def _base_name(row: Json) -> str:
    name = str(row.get("Name", ""))
    return name.removesuffix(DELETED_SUFFIX) if row.get("Active") is False else name


def remote_item(row: Json) -> RemoteItem:
    if is_deleted(row):
        return RemoteItem(remote_id=str(row["Id"]), deleted=True, updated_at=updated_at(row), active=False)
    return RemoteItem(
        remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), updated_at=updated_at(row),
        name=_base_name(row), description=str(row.get("Description", "")),
        kind="service" if row.get("Type") == "Service" else "product", unit_price=money(row.get("UnitPrice")),
        income_account_id=(row.get("IncomeAccountRef") or {}).get("value"), taxable=bool(row.get("Taxable")),
        tax_rate_id=(row.get("SalesTaxCodeRef") or {}).get("value"), active=row.get("Active", True) is not False,
    )


# --------------------------------------------------------------------------- accounts and tax


def is_income_account(row: Json) -> bool:
    return is_deleted(row) or row.get("AccountType") in INCOME_TYPES


def remote_account(row: Json) -> RemoteAccount:
    if is_deleted(row):
        return RemoteAccount(remote_id=str(row["Id"]), deleted=True, updated_at=updated_at(row), active=False)
    return RemoteAccount(
        remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), updated_at=updated_at(row),
        name=_base_name(row), code=str(row.get("AcctNum", "")), account_type=str(row.get("AccountType", "")),
        active=row.get("Active", True) is not False,
    )


def code_rate_ids(code: Json) -> list[str]:
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    return [str((d.get("TaxRateRef") or {}).get("value")) for d in details if d.get("TaxRateRef")]


def line_usable_codes(codes: list[Json]) -> list[Json]:
    """The codes a sales line may carry: US companies use only TAX/NON, others their sales codes."""
    if any(c.get("Id") in US_LINE_CODES for c in codes):
        return [c for c in codes if c.get("Id") in US_LINE_CODES]
    return [c for c in codes if code_rate_ids(c)]


def remote_tax_rate(code: Json, rates: dict[str, Decimal], default_rate: Decimal = ZERO) -> RemoteTaxRate:
    """A tax code as a rate: its component rates summed (TAX takes the company's default code)."""
    if code.get("Id") == "TAX":
        rate = default_rate
    else:
        rate = sum((rates.get(rid, ZERO) for rid in code_rate_ids(code)), ZERO)
    return RemoteTaxRate(
        remote_id=str(code["Id"]), version=str(code.get("SyncToken", "")), updated_at=updated_at(code),
        name=str(code.get("Name", "")), code=str(code.get("Id", "")), rate=rate,
        active=code.get("Active", True) is not False,
    )


# --------------------------------------------------------------------------- invoices


def invoice_line(line: Any) -> Json:
    detail = _drop_empty({
        "ItemRef": _ref(line.item_id),
        "Qty": line.quantity,
        "UnitPrice": line.unit_price,
        "TaxCodeRef": _ref(line.tax_rate_id),
        "ItemAccountRef": _ref(line.income_account_id),
    })
    if line.quantity * line.unit_price != line.line_total:
        detail.pop("Qty", None)  # QBO insists Amount = Qty x UnitPrice; ours may round differently
        detail.pop("UnitPrice", None)
    return _drop_empty({
        "Description": line.description,
        "Amount": line.line_total,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": detail,
    })


def invoice_body(invoice: InvoiceData) -> Json:
    body = _drop_empty({
        "CustomerRef": {"value": invoice.customer_id},
        "DocNumber": invoice.number if invoice.send_number else None,
        "TxnDate": invoice.issue_date.isoformat(),
        "DueDate": invoice.due_date.isoformat() if invoice.due_date else None,
        "CustomerMemo": {"value": invoice.memo} if invoice.memo else None,
        "BillEmail": {"Address": invoice.customer_email} if invoice.customer_email else None,
        "Line": [invoice_line(line) for line in invoice.lines],
    })
    return body


def is_void(row: Json) -> bool:
    """QBO keeps a voided invoice with zero amounts and "Voided" as its private note (FACTS QBO 3)."""
    if str(row.get("status", "")).lower() == "voided":
        return True
    return str(row.get("PrivateNote", "")).startswith("Voided") and money(row.get("TotalAmt")) == ZERO


def is_voided_payment(row: Json) -> bool:
    """QuickBooks keeps a voided payment with zero amounts and the note "Voided" (FACTS QBO 4)."""
    return Decimal(str(row.get("TotalAmt") or 0)) == 0 and "Voided" in str(row.get("PrivateNote") or "")


def payment_ids(row: Json) -> list[str]:
    return [str(x["TxnId"]) for x in row.get("LinkedTxn") or [] if x.get("TxnType") == "Payment" and x.get("TxnId")]


def payments_for(invoice_id: str, payments: list[Json]) -> tuple[RemotePayment, ...]:
    """What each payment applied to this invoice (a payment may cover several invoices)."""
    found = []
    for payment in payments:
        applied = ZERO
        for line in payment.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == "Invoice" and str(link.get("TxnId")) == invoice_id:
                    applied += money(line.get("Amount"))
        if applied > 0:
            found.append(RemotePayment(
                remote_id=str(payment["Id"]), version=str(payment.get("SyncToken", "")),
                updated_at=updated_at(payment), paid_on=_date(payment.get("TxnDate")), amount=applied,
                method=str((payment.get("PaymentMethodRef") or {}).get("name", "")),
                reference=str(payment.get("PaymentRefNum", "")),
            ))
    return tuple(found)


def remote_invoice(row: Json, payments: list[Json], deep_link: str = "") -> RemoteInvoice:
    invoice_id = str(row["Id"])
    if is_deleted(row):
        return RemoteInvoice(remote_id=invoice_id, deleted=True, status="deleted", raw_status="Deleted",
                             updated_at=updated_at(row))
    total, balance = money(row.get("TotalAmt")), money(row.get("Balance"))
    linked = payments_for(invoice_id, payments)
    status: InvoiceState
    if is_void(row):
        status, raw = "void", "Voided"
    elif balance == ZERO and (linked or payment_ids(row) or total > ZERO):
        status, raw = "paid", "Paid"
    elif ZERO < balance < total:
        status, raw = "partially_paid", "Partially paid"
    else:
        status, raw = "open", "Open"
    return RemoteInvoice(
        remote_id=invoice_id, version=str(row.get("SyncToken", "")), updated_at=updated_at(row),
        number=str(row.get("DocNumber", "")), status=status, raw_status=raw,
        issue_date=_date(row.get("TxnDate")), due_date=_date(row.get("DueDate")),
        currency=str((row.get("CurrencyRef") or {}).get("value", "")), total=total, balance=balance,
        payments=linked, deep_link=deep_link, share_link=str(row.get("InvoiceLink", "")),
    )


# --------------------------------------------------------------------------- payments and time


def payment_body(payment: PaymentData) -> Json:
    return _drop_empty({
        "CustomerRef": {"value": payment.customer_id},
        "TotalAmt": payment.amount,
        "TxnDate": payment.paid_on.isoformat(),
        "PaymentRefNum": payment.reference[:21],
        "PrivateNote": payment.method and f"Paid by {payment.method}",
        # An overpayment applies only the invoice's balance; QuickBooks keeps the rest as UnappliedAmt, the
        # customer's credit (FACTS QBO 4: a payment may cover part of an invoice, or none).
        "Line": [{"Amount": payment.amount if payment.applied_amount is None else payment.applied_amount,
                  "LinkedTxn": [{"TxnId": payment.invoice_id, "TxnType": "Invoice"}]}],
    })


def split_person(person: str) -> tuple[str, str]:
    """Given and family name from a full name ("Ada Lovelace" -> "Ada", "Lovelace")."""
    parts = person.split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    return " ".join(parts[:-1]), parts[-1]


def employee_body(person: str, email: str) -> Json:
    given, family = split_person(person)
    return _drop_empty({
        "GivenName": given, "FamilyName": family,
        "PrimaryEmailAddr": {"Address": email} if email else None,
    })


def employee_matches(row: Json, person: str, email: str) -> bool:
    given, family = split_person(person)
    same_name = (str(row.get("GivenName", "")).casefold() == given.casefold()
                 and str(row.get("FamilyName", "")).casefold() == family.casefold())
    theirs = customer_email(row).casefold()
    return same_name and (not email or not theirs or theirs == email.casefold())


def _billable_status(entry: TimeEntryData) -> str:
    """Time an invoice here already billed is HasBeenBilled, so QuickBooks never offers it for invoicing
    again; time synced on its own is Billable, for the bookkeeper to invoice in QuickBooks."""
    if not entry.billable:
        return "NotBillable"
    return "HasBeenBilled" if entry.billed else "Billable"


def time_activity_body(entry: TimeEntryData, employee_id: str) -> Json:
    minutes_total = int((entry.hours * 60).to_integral_value())
    return _drop_empty({
        "NameOf": "Employee",
        "EmployeeRef": {"value": employee_id},
        "CustomerRef": _ref(entry.customer_id),
        "ItemRef": _ref(entry.item_id),
        "TxnDate": entry.worked_on.isoformat(),
        "Description": entry.description,
        "BillableStatus": _billable_status(entry),
        "HourlyRate": entry.rate if entry.billable else None,
    }) | {"Hours": minutes_total // 60, "Minutes": minutes_total % 60}
