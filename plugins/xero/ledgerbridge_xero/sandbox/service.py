"""The rules of Xero's Accounting API for what LedgerBridge uses (FACTS Xero 3 to 5).

Both the HTTP routes and the accountant's view call :class:`XeroService`, so an edit made "in Xero"
gets a new ``UpdatedDateUTC``, shows in ``If-Modified-Since`` listings and raises webhooks exactly like
an API write. Writes take whole batches: each element is validated and saved on its own and the
caller decides, from ``summarizeErrors``, how failures are reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerbridge_testing.sandbox.clock import SandboxClock

from ledgerbridge_xero.sandbox.errors import ElementInvalid, not_found
from ledgerbridge_xero.sandbox.msdate import parse_date, truncate_ms
from ledgerbridge_xero.sandbox.store import Organisation, Record
from ledgerbridge_xero.sandbox.totals import UNIT_2DP, UNIT_4DP, cents, invoice_totals, line_amount, line_tax


@dataclass(frozen=True)
class ChangeEvent:
    """A change a webhook reports: category INVOICE or CONTACT, type CREATE or UPDATE."""

    tenant_id: str
    category: str
    event_type: str
    resource_id: str
    at: datetime
    via_payment: bool = False


@dataclass
class ElementResult:
    """Outcome of one batch element: the saved record, or the submitted element and its errors."""

    submitted: Any
    record: Record | None = None
    errors: list[str] | None = None


INVOICE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
#: Which status an invoice may be given from which (FACTS Xero 3 "Invoice Status values").
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({"DRAFT", "SUBMITTED", "AUTHORISED"}),
    "DRAFT": frozenset({"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"}),
    "SUBMITTED": frozenset({"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"}),
    "AUTHORISED": frozenset({"AUTHORISED", "VOIDED"}),
    "PAID": frozenset(),
    "VOIDED": frozenset(),
    "DELETED": frozenset(),
}
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
NOT_MODIFIABLE = "Invoice not of valid status for modification"


def decimal_of(value: Any, label: str) -> Decimal:
    """A JSON number (or numeric string) as Decimal; anything else is a validation error."""
    if isinstance(value, bool) or value is None:
        raise ElementInvalid(f"{label} must be a number")
    try:
        result = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ElementInvalid(f"{label} must be a number") from exc
    if not result.is_finite():
        raise ElementInvalid(f"{label} must be a number")
    return result


def _text(data: Mapping[str, Any], key: str, max_length: int, errors: list[str]) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"{key} must be text")
        return None
    if len(value) > max_length:
        errors.append(f"{key} must not be longer than {max_length} characters.")
    return value


class XeroService:
    """Reads and writes against the organisations (thread-safe per organisation)."""

    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.organisations: dict[str, Organisation] = {}
        self.listeners: list[Callable[[ChangeEvent], None]] = []

    # -- basics ------------------------------------------------------------------------------------

    def organisation(self, tenant_id: str) -> Organisation:
        org = self.organisations.get(tenant_id)
        if org is None:
            raise not_found()
        return org

    def now(self) -> datetime:
        return truncate_ms(self.clock.now())

    def today(self) -> date:
        return self.clock.now().date()

    def _emit(
        self, org: Organisation, category: str, event_type: str, resource_id: str, via_payment: bool = False
    ) -> None:
        event = ChangeEvent(org.tenant_id, category, event_type, resource_id, self.now(), via_payment)
        for listener in list(self.listeners):
            listener(event)

    def get(self, org: Organisation, collection: str, record_id: str) -> Record:
        """A record by id (case-insensitive, as Xero's GUIDs are); 404 when absent."""
        records = org.collection(collection)
        record = records.get(record_id) or records.get(record_id.lower())
        if record is None:
            for key, value in records.items():
                if key.lower() == record_id.lower():
                    return value
            raise not_found()
        return record

    # -- contacts ----------------------------------------------------------------------------------

    def _active_contact_named(self, org: Organisation, name: str, exclude: str | None = None) -> Record | None:
        wanted = name.strip().lower()
        for contact in org.collection("Contacts").values():
            if contact["ContactID"] != exclude and contact["ContactStatus"] == "ACTIVE":
                if contact["Name"].strip().lower() == wanted:
                    return contact
        return None

    def save_contacts(
        self, org: Organisation, elements: list[Any], mode: str, target_id: str | None = None
    ) -> list[ElementResult]:
        """``mode``: ``create`` (PUT), ``upsert`` (POST /Contacts) or ``update`` (POST /Contacts/{id})."""
        with org.locked():
            return [self._one(element, lambda e: self._save_contact(org, e, mode, target_id)) for element in elements]

    def _one(self, element: Any, action: Callable[[Any], Record]) -> ElementResult:
        if not isinstance(element, dict):
            return ElementResult(element, errors=["The element is not an object"])
        try:
            return ElementResult(element, record=action(element))
        except ElementInvalid as exc:
            return ElementResult(element, errors=exc.messages)

    def _save_contact(self, org: Organisation, data: dict[str, Any], mode: str, target_id: str | None) -> Record:
        contacts = org.collection("Contacts")
        existing: Record | None = None
        wanted_id = target_id or data.get("ContactID")
        if wanted_id and mode != "create":
            existing = next((c for k, c in contacts.items() if k.lower() == str(wanted_id).lower()), None)
            if existing is None:
                raise ElementInvalid("The contact could not be found.")
        elif mode == "upsert" and data.get("ContactNumber"):
            existing = next((c for c in contacts.values() if c.get("ContactNumber") == data["ContactNumber"]), None)
        errors: list[str] = []
        name = _text(data, "Name", 255, errors)
        if existing is None and not (name or "").strip():
            errors.append("The contact name must be specified.")
        for key, limit in (
            ("ContactNumber", 50),
            ("AccountNumber", 50),
            ("FirstName", 255),
            ("LastName", 255),
            ("EmailAddress", 255),
            ("TaxNumber", 50),
        ):
            _text(data, key, limit, errors)
        status = data.get("ContactStatus", existing["ContactStatus"] if existing else "ACTIVE")
        if status not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
            errors.append(f"ContactStatus {status!r} is not valid.")
        final_name = (name if name is not None else (existing or {}).get("Name", "")).strip()
        if status == "ACTIVE" and final_name and not errors:
            clash = self._active_contact_named(org, final_name, exclude=existing["ContactID"] if existing else None)
            if clash is not None:
                errors.append(
                    f"The contact name {final_name} is already assigned to another contact. "
                    "The contact name must be unique across all active contacts."
                )
        if errors:
            raise ElementInvalid(*errors)
        record: dict[str, Any] = (
            dict(existing)
            if existing
            else {
                "ContactID": str(uuid.uuid4()),
                "ContactStatus": "ACTIVE",
                "IsSupplier": False,
                "IsCustomer": False,
                "Addresses": [],
                "Phones": [],
                "HasAttachments": False,
                "_created": self.now(),
            }
        )
        for key in (
            "ContactNumber",
            "AccountNumber",
            "FirstName",
            "LastName",
            "EmailAddress",
            "TaxNumber",
            "DefaultCurrency",
            "Addresses",
            "Phones",
        ):
            if key in data:
                record[key] = data[key]
        record["Name"] = final_name
        record["ContactStatus"] = status
        record["UpdatedDateUTC"] = self.now()
        contacts[record["ContactID"]] = record
        self._emit(org, "CONTACT", "UPDATE" if existing else "CREATE", record["ContactID"])
        return record

    # -- items ---------------------------------------------------------------------------------------

    def save_items(
        self, org: Organisation, elements: list[Any], mode: str, target_id: str | None = None
    ) -> list[ElementResult]:
        with org.locked():
            return [self._one(element, lambda e: self._save_item(org, e, mode, target_id)) for element in elements]

    def _save_item(self, org: Organisation, data: dict[str, Any], mode: str, target_id: str | None) -> Record:
        items = org.collection("Items")
        existing: Record | None = None
        wanted_id = target_id or data.get("ItemID")
        if wanted_id and mode != "create":
            existing = next((i for k, i in items.items() if k.lower() == str(wanted_id).lower()), None)
            if existing is None:
                raise ElementInvalid("The item could not be found.")
        elif mode == "upsert" and isinstance(data.get("Code"), str):
            existing = next((i for i in items.values() if i["Code"].lower() == data["Code"].lower()), None)
        errors: list[str] = []
        code = _text(data, "Code", 30, errors)
        name = _text(data, "Name", 50, errors)
        _text(data, "Description", 4000, errors)
        if existing is None and not (code or "").strip():
            errors.append("Item code must be specified.")
        final_code = code if code is not None else (existing or {}).get("Code", "")
        for other in items.values():
            if other is not existing and other["Code"].lower() == final_code.lower():
                errors.append(f"Item code '{final_code}' already exists. Please enter a unique item code.")
        sales = data.get("SalesDetails")
        if sales is not None and not isinstance(sales, dict):
            errors.append("SalesDetails must be an object")
            sales = None
        if sales:
            try:
                if sales.get("UnitPrice") is not None:
                    decimal_of(sales["UnitPrice"], "UnitPrice")
            except ElementInvalid as exc:
                errors.extend(exc.messages)
            if sales.get("AccountCode") and self._account_by_code(org, sales["AccountCode"]) is None:
                errors.append(f"Account code '{sales['AccountCode']}' is not a valid code for this document.")
            if sales.get("TaxType") and sales["TaxType"] not in org.collection("TaxRates"):
                errors.append(f"The TaxType code '{sales['TaxType']}' does not exist or cannot be used.")
        if errors:
            raise ElementInvalid(*errors)
        record: dict[str, Any] = (
            dict(existing)
            if existing
            else {
                "ItemID": str(uuid.uuid4()),
                "IsSold": True,
                "IsPurchased": True,
                "IsTrackedAsInventory": False,
                "SalesDetails": {},
                "PurchaseDetails": {},
                "_created": self.now(),
            }
        )
        record["Code"] = final_code
        if name is not None or existing is None:
            record["Name"] = name if name is not None else final_code
        for key in ("Description", "PurchaseDescription", "IsSold", "IsPurchased"):
            if key in data:
                record[key] = data[key]
        if sales is not None:
            details = {k: v for k, v in sales.items() if k in ("UnitPrice", "AccountCode", "TaxType")}
            if "UnitPrice" in details:
                details["UnitPrice"] = decimal_of(details["UnitPrice"], "UnitPrice")
            record["SalesDetails"] = details
        record["UpdatedDateUTC"] = self.now()
        items[record["ItemID"]] = record
        return record

    def delete_item(self, org: Organisation, item_id: str) -> None:
        """DELETE /Items/{id}: the item disappears (FACTS Xero 4, stricter reading)."""
        with org.locked():
            record = self.get(org, "Items", item_id)
            del org.collection("Items")[record["ItemID"]]

    # -- accounts and tax rates ----------------------------------------------------------------------

    def _account_by_code(self, org: Organisation, code: str) -> Record | None:
        return next(
            (a for a in org.collection("Accounts").values() if a.get("Code") == code and a["Status"] == "ACTIVE"),
            None,
        )

    def tax_rate_percent(self, org: Organisation, tax_type: str | None) -> Decimal:
        rate = org.collection("TaxRates").get(tax_type or "")
        return Decimal(rate["EffectiveRate"]) if rate else Decimal("0")

    # -- invoices ------------------------------------------------------------------------------------

    def save_invoices(
        self, org: Organisation, elements: list[Any], mode: str, target_id: str | None = None, unitdp: int = 2
    ) -> list[ElementResult]:
        with org.locked():
            return [
                self._one(element, lambda e: self._save_invoice(org, e, mode, target_id, unitdp))
                for element in elements
            ]

    def _find_invoice(self, org: Organisation, data: dict[str, Any], mode: str, target_id: str | None) -> Record | None:
        invoices = org.collection("Invoices")
        wanted_id = target_id or data.get("InvoiceID")
        if mode == "create":
            if wanted_id and any(k.lower() == str(wanted_id).lower() for k in invoices):
                raise ElementInvalid("An invoice with this InvoiceID already exists.")
            return None
        if wanted_id:
            found = next((i for k, i in invoices.items() if k.lower() == str(wanted_id).lower()), None)
            if found is None:
                raise ElementInvalid("Invoice could not be found")
            return found
        number = data.get("InvoiceNumber")
        if mode == "upsert" and number:
            return next((i for i in org.invoices_numbered(number) if i["Type"] == "ACCREC"), None)
        return None

    def _save_invoice(
        self, org: Organisation, data: dict[str, Any], mode: str, target_id: str | None, unitdp: int
    ) -> Record:
        existing = self._find_invoice(org, data, mode, target_id)
        old_status = existing["Status"] if existing else None
        status = data.get("Status", old_status or "DRAFT")
        if status not in INVOICE_STATUSES:
            raise ElementInvalid(f"Status {status!r} is not a valid invoice status.")
        if existing is not None and old_status in ("PAID", "VOIDED", "DELETED"):
            raise ElementInvalid(NOT_MODIFIABLE)
        if status not in TRANSITIONS[old_status]:
            if old_status is None:
                raise ElementInvalid(f"An invoice cannot be created with status {status}.")
            if old_status == "AUTHORISED" and status == "DELETED":
                raise ElementInvalid("Only DRAFT or SUBMITTED invoices can be deleted; void an AUTHORISED invoice.")
            raise ElementInvalid(f"{NOT_MODIFIABLE}: {old_status} cannot become {status}.")
        if existing is not None and status in ("VOIDED", "DELETED"):
            if status == "VOIDED" and existing["AmountPaid"] > 0:
                raise ElementInvalid("This document cannot be voided as it has payments allocated to it.")
            record = dict(existing)
            record["Status"] = status
            record["AmountDue"] = Decimal("0.00")
            record["UpdatedDateUTC"] = self.now()
            org.collection("Invoices")[record["InvoiceID"]] = record
            self._emit(org, "INVOICE", "UPDATE", record["InvoiceID"])
            return record
        errors: list[str] = []
        record = (
            dict(existing)
            if existing
            else {
                "InvoiceID": str(uuid.uuid4()),
                "Type": None,
                "LineAmountTypes": "Exclusive",
                "CurrencyCode": org.preset.base_currency,
                "CurrencyRate": Decimal("1.000000"),
                "SentToContact": False,
                "HasAttachments": False,
                "AmountPaid": Decimal("0.00"),
                "AmountCredited": Decimal("0.00"),
                "PaymentIDs": [],
                "LineItems": [],
                "_created": self.now(),
            }
        )
        invoice_type = data.get("Type", record["Type"])
        if invoice_type not in ("ACCREC", "ACCPAY"):
            errors.append(
                "Invoice Type must be ACCREC or ACCPAY." if invoice_type else "Invoice Type must be specified."
            )
        record["Type"] = invoice_type
        contact_id = self._invoice_contact(org, data.get("Contact"), record.get("ContactID"), errors)
        if "LineAmountTypes" in data:
            if data["LineAmountTypes"] not in LINE_AMOUNT_TYPES:
                errors.append(f"LineAmountTypes {data['LineAmountTypes']!r} is not valid.")
            else:
                record["LineAmountTypes"] = data["LineAmountTypes"]
        for key in ("Date", "DueDate", "ExpectedPaymentDate"):
            if data.get(key) not in (None, ""):
                try:
                    record[key] = parse_date(data[key])
                except ValueError:
                    errors.append(f"{key} is not a valid date.")
        record.setdefault("Date", self.today())
        number = _text(data, "InvoiceNumber", 255, errors)
        reference = _text(data, "Reference", 255, errors)
        _text(data, "Url", 2000, errors)
        if data.get("CurrencyCode") not in (None, org.preset.base_currency):
            errors.append(f"The currency {data['CurrencyCode']} is not enabled for this organisation.")
        if "SentToContact" in data:
            if data["SentToContact"] and status not in ("AUTHORISED",):
                errors.append("SentToContact can only be set on approved invoices.")
            record["SentToContact"] = bool(data["SentToContact"])
        if "LineItems" in data:
            if not isinstance(data["LineItems"], list):
                errors.append("LineItems must be an array")
            else:
                record["LineItems"] = self._lines(org, data["LineItems"], record, unitdp, errors)
        elif existing is None:
            record["LineItems"] = []
        if status in ("SUBMITTED", "AUTHORISED"):
            if not record["LineItems"]:
                errors.append("At least one line item must be specified to approve an invoice.")
            for line in record["LineItems"]:
                if line["LineAmount"] and not line.get("AccountCode"):
                    errors.append("Account code must be specified for line items with an amount.")
                    break
        if invoice_type == "ACCREC":
            if number is not None and number.strip():
                clash = any(
                    i is not existing and i["Type"] == "ACCREC" for i in org.invoices_numbered(number.strip())
                )
                if clash:
                    errors.append("Invoice # must be unique.")
        if errors:
            raise ElementInvalid(*errors)
        if number is not None and number.strip():
            record["InvoiceNumber"] = number.strip()
        elif invoice_type == "ACCREC" and not record.get("InvoiceNumber"):
            record["InvoiceNumber"] = self._next_number(org)
        if reference is not None:
            record["Reference"] = reference
        if "Url" in data:
            record["Url"] = data["Url"]
        record["ContactID"] = contact_id
        record["Status"] = status
        self._recompute(org, record)
        if record["Total"] < record["AmountPaid"]:
            raise ElementInvalid("The invoice total cannot be less than the amount already paid.")
        record["UpdatedDateUTC"] = self.now()
        org.collection("Invoices")[record["InvoiceID"]] = record
        if contact_id:  # set by transactions, without bumping UpdatedDateUTC (FACTS Xero 3 and 4)
            org.collection("Contacts")[contact_id]["IsCustomer" if invoice_type == "ACCREC" else "IsSupplier"] = True
        self._emit(org, "INVOICE", "UPDATE" if existing else "CREATE", record["InvoiceID"])
        return record

    def _next_number(self, org: Organisation) -> str:
        used = {i.get("InvoiceNumber") for i in org.collection("Invoices").values()}
        while True:
            candidate = f"INV-{org.next_invoice_number:04d}"
            org.next_invoice_number += 1
            if candidate not in used:
                return candidate

    def _invoice_contact(self, org: Organisation, ref: Any, current: str | None, errors: list[str]) -> str | None:
        if ref is None:
            if current is None:
                errors.append("A Contact must be specified for this type of transaction")
            return current
        if not isinstance(ref, dict):
            errors.append("Contact must be an object")
            return current
        if ref.get("ContactID"):
            contact = next(
                (c for k, c in org.collection("Contacts").items() if k.lower() == str(ref["ContactID"]).lower()), None
            )
            if contact is None:
                errors.append("The contact could not be found.")
                return current
            return contact["ContactID"]
        name = ref.get("Name")
        if isinstance(name, str) and name.strip():
            contact = self._active_contact_named(org, name)
            if contact is not None:
                return contact["ContactID"]
            created = self._save_contact(org, {"Name": name.strip()}, "create", None)  # Xero adds unknown names
            return created["ContactID"]
        errors.append("A Contact must be specified for this type of transaction")
        return current

    def _lines(
        self, org: Organisation, lines: list[Any], invoice: Record, unitdp: int, errors: list[str]
    ) -> list[Record]:
        previous = {line["LineItemID"]: line for line in invoice.get("LineItems", [])}
        result: list[Record] = []
        step = UNIT_4DP if unitdp == 4 else UNIT_2DP
        for index, raw in enumerate(lines, start=1):
            if not isinstance(raw, dict):
                errors.append(f"Line {index} is not an object")
                continue
            line: Record = {"LineItemID": str(uuid.uuid4())}
            if raw.get("LineItemID") in previous:
                line["LineItemID"] = raw["LineItemID"]
            item = None
            if raw.get("ItemCode"):
                item = next(
                    (i for i in org.collection("Items").values() if i["Code"].lower() == str(raw["ItemCode"]).lower()),
                    None,
                )
                if item is None:
                    errors.append(f"Item code '{raw['ItemCode']}' is not valid.")
                    continue
                line["ItemCode"] = item["Code"]
            sales = (item or {}).get("SalesDetails", {})
            description = raw.get("Description", item.get("Description") if item else None)
            if description is not None:
                line["Description"] = description
            try:
                quantity = decimal_of(raw["Quantity"], "Quantity") if raw.get("Quantity") is not None else None
                unit = decimal_of(raw["UnitAmount"], "UnitAmount") if raw.get("UnitAmount") is not None else None
                given = decimal_of(raw["LineAmount"], "LineAmount") if raw.get("LineAmount") is not None else None
                discount = (
                    decimal_of(raw["DiscountRate"], "DiscountRate") if raw.get("DiscountRate") is not None else None
                )
            except ElementInvalid as exc:
                errors.extend(exc.messages)
                continue
            if unit is None and given is None and sales.get("UnitPrice") is not None:
                unit = Decimal(sales["UnitPrice"])
            if unit is not None:
                unit = unit.quantize(step)
            if quantity is None:
                quantity = Decimal("1.0000") if (unit is not None or given is not None) else None
            if unit is None and given is not None and quantity:
                unit = (given / quantity).quantize(step)
            if quantity is not None and unit is not None:
                computed = line_amount(quantity, unit, discount)
                if given is not None and cents(given) != computed:
                    errors.append(
                        f"Line {index}: LineAmount {given} does not equal Quantity x UnitAmount "
                        f"less discount ({computed})."
                    )
                    continue
                line.update(Quantity=quantity, UnitAmount=unit, LineAmount=computed)
            else:
                if not description:
                    errors.append(f"Line {index}: Description needs to be at least 1 char long.")
                    continue
                line["LineAmount"] = Decimal("0.00")
            if discount is not None:
                line["DiscountRate"] = discount
            account_code = raw.get("AccountCode") or sales.get("AccountCode")
            if account_code:
                account = self._account_by_code(org, str(account_code))
                if account is None:
                    errors.append(f"Account code '{account_code}' is not a valid code for this document.")
                    continue
                line["AccountCode"] = account["Code"]
                line["AccountID"] = account["AccountID"]
            tax_type = raw.get("TaxType") or sales.get("TaxType")
            if not tax_type and account_code:
                tax_type = self._account_by_code(org, str(account_code)).get("TaxType")  # type: ignore[union-attr]
            if tax_type:
                rate = org.collection("TaxRates").get(tax_type)
                if rate is None or rate["Status"] != "ACTIVE" or not rate.get("CanApplyToRevenue", True):
                    errors.append(
                        f"The TaxType code '{tax_type}' does not exist or cannot be used with this type of transaction."
                    )
                    continue
                line["TaxType"] = tax_type
            if raw.get("Tracking"):
                line["Tracking"] = raw["Tracking"]
            result.append(line)
        return result

    def _recompute(self, org: Organisation, record: Record) -> None:
        """Line tax, invoice totals, amount due and the PAID status, all in Decimal."""
        kind = record["LineAmountTypes"]
        pairs = []
        for line in record["LineItems"]:
            rate = self.tax_rate_percent(org, line.get("TaxType"))
            line["TaxAmount"] = line_tax(line["LineAmount"], rate, kind)
            pairs.append((line["LineAmount"], line["TaxAmount"]))
        subtotal, tax, total = invoice_totals(pairs, kind)
        record.update(SubTotal=subtotal, TotalTax=tax, Total=total)
        record["TotalDiscount"] = cents(
            sum(
                (
                    line["Quantity"] * line["UnitAmount"] - line["LineAmount"]
                    for line in record["LineItems"]
                    if line.get("DiscountRate") and "Quantity" in line
                ),
                Decimal("0"),
            )
        )
        record["IsDiscounted"] = any(line.get("DiscountRate") for line in record["LineItems"])
        if record["Status"] in ("VOIDED", "DELETED"):
            record["AmountDue"] = Decimal("0.00")
            return
        record["AmountDue"] = cents(total - record["AmountPaid"] - record["AmountCredited"])
        if record["Status"] == "AUTHORISED" and record["AmountDue"] == 0 and record["AmountPaid"] > 0:
            record["Status"] = "PAID"
        elif record["Status"] == "PAID" and record["AmountDue"] > 0:
            record["Status"] = "AUTHORISED"
            record.pop("FullyPaidOnDate", None)

    # -- payments ------------------------------------------------------------------------------------

    def create_payments(self, org: Organisation, elements: list[Any]) -> list[ElementResult]:
        with org.locked():
            return [self._one(element, lambda e: self._create_payment(org, e)) for element in elements]

    def _create_payment(self, org: Organisation, data: dict[str, Any]) -> Record:
        errors: list[str] = []
        invoice = None
        ref = data.get("Invoice") or ({"InvoiceNumber": data["InvoiceNumber"]} if data.get("InvoiceNumber") else None)
        if isinstance(ref, dict):
            for candidate in org.collection("Invoices").values():
                if (ref.get("InvoiceID") and candidate["InvoiceID"].lower() == str(ref["InvoiceID"]).lower()) or (
                    not ref.get("InvoiceID")
                    and ref.get("InvoiceNumber")
                    and candidate.get("InvoiceNumber") == ref["InvoiceNumber"]
                ):
                    invoice = candidate
                    break
        if invoice is None:
            errors.append("Invoice could not be found")
        account = None
        acc = data.get("Account")
        if isinstance(acc, dict):
            for candidate in org.collection("Accounts").values():
                if (acc.get("AccountID") and candidate["AccountID"].lower() == str(acc["AccountID"]).lower()) or (
                    not acc.get("AccountID") and acc.get("Code") and candidate.get("Code") == acc["Code"]
                ):
                    account = candidate
        if (
            account is None
            or account["Status"] != "ACTIVE"
            or not (account["Type"] == "BANK" or account.get("EnablePaymentsToAccount"))
        ):
            errors.append("Account could not be found or does not accept payments.")
        try:
            amount = cents(decimal_of(data.get("Amount"), "Amount"))
        except ElementInvalid as exc:
            errors.extend(exc.messages)
            amount = Decimal("0")
        else:
            if amount <= 0:
                errors.append("Payment amount must be greater than zero.")
        paid_on = self.today()
        if data.get("Date"):
            try:
                paid_on = parse_date(data["Date"])
            except ValueError:
                errors.append("Date is not a valid date.")
        if invoice is not None:
            if invoice["Status"] != "AUTHORISED":
                errors.append("Payments can only be made against AUTHORISED invoices.")
            elif amount > invoice["AmountDue"]:
                errors.append(f"Payment amount {amount} exceeds the amount due ({invoice['AmountDue']}).")
        if errors:
            raise ElementInvalid(*errors)
        assert invoice is not None and account is not None
        payment: Record = {
            "PaymentID": str(uuid.uuid4()),
            "InvoiceID": invoice["InvoiceID"],
            "AccountID": account["AccountID"],
            "Date": paid_on,
            "Amount": amount,
            "CurrencyRate": Decimal("1.000000"),
            "Reference": str(data.get("Reference") or ""),
            "IsReconciled": bool(data.get("IsReconciled", False)),
            "Status": "AUTHORISED",
            "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
            "UpdatedDateUTC": self.now(),
            "_created": self.now(),
        }
        org.collection("Payments")[payment["PaymentID"]] = payment
        updated = dict(invoice)
        updated["AmountPaid"] = cents(invoice["AmountPaid"] + amount)
        updated["PaymentIDs"] = [*invoice["PaymentIDs"], payment["PaymentID"]]
        self._recompute(org, updated)
        if updated["Status"] == "PAID":
            updated["FullyPaidOnDate"] = paid_on
        updated["UpdatedDateUTC"] = self.now()
        org.collection("Invoices")[updated["InvoiceID"]] = updated
        self._emit(org, "INVOICE", "UPDATE", updated["InvoiceID"], via_payment=True)
        return payment

    def delete_payment(self, org: Organisation, payment_id: str, data: dict[str, Any]) -> Record:
        """POST /Payments/{id} ``{"Status":"DELETED"}``: the invoice gets its amount due back."""
        with org.locked():
            payment = self.get(org, "Payments", payment_id)
            if data.get("Status") != "DELETED":
                raise ElementInvalid("Payments can only be deleted: send Status DELETED.")
            if payment["Status"] == "DELETED":
                raise ElementInvalid("This payment has already been deleted.")
            payment = dict(payment, Status="DELETED", UpdatedDateUTC=self.now())
            org.collection("Payments")[payment["PaymentID"]] = payment
            invoice = dict(org.collection("Invoices")[payment["InvoiceID"]])
            invoice["AmountPaid"] = cents(invoice["AmountPaid"] - payment["Amount"])
            invoice["PaymentIDs"] = [p for p in invoice["PaymentIDs"] if p != payment["PaymentID"]]
            self._recompute(org, invoice)
            invoice["UpdatedDateUTC"] = self.now()
            org.collection("Invoices")[invoice["InvoiceID"]] = invoice
            self._emit(org, "INVOICE", "UPDATE", invoice["InvoiceID"], via_payment=True)
            return payment
