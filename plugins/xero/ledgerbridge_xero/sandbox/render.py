"""Stored records to Xero's wire JSON: MS dates, ISO companions, references filled in.

Stored records keep Python types (dates, Decimals) and internal keys starting with ``_``; clients
must see exactly what Xero sends, so every response goes through here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ledgerbridge_xero.sandbox.msdate import iso_date, ms_date, ms_datetime
from ledgerbridge_xero.sandbox.store import Organisation, Record

_DATE_STRING_FIELDS = {"Date": "DateString", "DueDate": "DueDateString"}


def wire(value: Any) -> Any:
    """Dates and timestamps to MS form, recursively; drop internal keys."""
    if isinstance(value, datetime):
        return ms_datetime(value)
    if isinstance(value, date):
        return ms_date(value)
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


#: Contact collections Xero always sends, empty when the contact has none.
_CONTACT_LISTS = ("Addresses", "Phones", "ContactGroups", "ContactPersons")


def contact(org: Organisation, record: Record) -> dict[str, Any]:
    out = wire(record)
    for key in _CONTACT_LISTS:
        out.setdefault(key, [])
    return out


def item(org: Organisation, record: Record) -> dict[str, Any]:
    return wire(record)


def account(org: Organisation, record: Record) -> dict[str, Any]:
    return wire(record)


def tax_rate(org: Organisation, record: Record) -> dict[str, Any]:
    return wire(record)


def _with_date_strings(record: Record) -> dict[str, Any]:
    out = wire(record)
    for key, companion in _DATE_STRING_FIELDS.items():
        if isinstance(record.get(key), date):
            out[companion] = iso_date(record[key])
    return out


def invoice_view(org: Organisation, record: Record) -> dict[str, Any]:
    """The invoice with its contact and payments resolved (still Python types; used by ``where``)."""
    view = {k: v for k, v in record.items() if k not in ("ContactID", "PaymentIDs")}
    contact_record = org.collection("Contacts").get(record.get("ContactID") or "")
    view["Contact"] = (
        {
            "ContactID": contact_record["ContactID"],
            "Name": contact_record["Name"],
            "ContactStatus": contact_record["ContactStatus"],
            **{key: list(contact_record.get(key) or []) for key in _CONTACT_LISTS},
            "IsSupplier": contact_record.get("IsSupplier", False),
            "IsCustomer": contact_record.get("IsCustomer", False),
            "HasValidationErrors": False,
        }
        if contact_record
        else {}
    )
    view["LineItems"] = [{**line, "Tracking": list(line.get("Tracking") or [])} for line in record.get("LineItems", [])]
    view.setdefault("HasErrors", False)
    view.setdefault("IsDiscounted", False)
    view.setdefault("HasAttachments", False)
    payments = [org.collection("Payments")[p] for p in record.get("PaymentIDs", [])]
    view["Payments"] = [
        {
            "PaymentID": p["PaymentID"],
            "Date": p["Date"],
            "Amount": p["Amount"],
            "Reference": p["Reference"],
            "CurrencyRate": p["CurrencyRate"],
            "HasAccount": False,
            "HasValidationErrors": False,
        }
        for p in payments
    ]
    view.update(CreditNotes=[], Prepayments=[], Overpayments=[])
    return view


def invoice(org: Organisation, record: Record) -> dict[str, Any]:
    return _with_date_strings(invoice_view(org, record))


def payment_view(org: Organisation, record: Record) -> dict[str, Any]:
    view = {k: v for k, v in record.items() if k not in ("InvoiceID", "AccountID")}
    inv = org.collection("Invoices").get(record["InvoiceID"], {})
    acc = org.collection("Accounts").get(record["AccountID"], {})
    view["Invoice"] = {
        "InvoiceID": record["InvoiceID"],
        "InvoiceNumber": inv.get("InvoiceNumber", ""),
        "Type": inv.get("Type"),
        "Contact": invoice_view(org, inv)["Contact"] if inv else {},
    }
    view["Account"] = {"AccountID": record["AccountID"], "Code": acc.get("Code", "")}
    view["HasAccount"] = True
    view["HasValidationErrors"] = False
    return view


def payment(org: Organisation, record: Record) -> dict[str, Any]:
    return _with_date_strings(payment_view(org, record))


def organisation(org: Organisation, created: datetime) -> dict[str, Any]:
    preset = org.preset
    return {
        "OrganisationID": org.organisation_id,
        "APIKey": "",
        "Name": preset.name,
        "LegalName": preset.name,
        "PaysTax": True,
        "Version": preset.version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": preset.base_currency,
        "CountryCode": preset.country,
        "IsDemoCompany": True,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "INVOICE",
        "SalesTaxPeriod": "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_datetime(created),
        "Timezone": preset.timezone,
        "OrganisationEntityType": "COMPANY",
        "ShortCode": preset.short_code,
        "Class": "DEMO",
        "Edition": "BUSINESS",
        "Addresses": [
            {
                "AddressType": kind,
                "AddressLine1": preset.street,
                "City": preset.city,
                "PostalCode": preset.postal_code,
                "Country": preset.country_name,
                "AttentionTo": "",
            }
            for kind in ("POBOX", "STREET")
        ],
        "Phones": [{"PhoneType": "OFFICE", "PhoneNumber": preset.phone, "PhoneAreaCode": "", "PhoneCountryCode": ""}],
        "ExternalLinks": [],
        "PaymentTerms": {},
        "TaxNumber": preset.tax_number,
        "PeriodLockDate": ms_date(_last_year_end(created)),
        "EndOfYearLockDate": ms_date(_last_year_end(created)),
        "LineOfBusiness": "Professional services",
        "RegistrationNumber": "",
    }


def _last_year_end(created: datetime) -> date:
    """The financial year end (31 March) before the organisation's creation: the books are locked up to
    there, as in a demo company whose previous year has been filed. The sandbox does not enforce it."""
    year = created.year if (created.month, created.day) > (3, 31) else created.year - 1
    return date(year, 3, 31)
