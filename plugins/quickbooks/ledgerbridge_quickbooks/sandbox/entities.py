"""Per-entity rules of the QBO sandbox: what each entity requires, defaults and computes.

Every rule here is one that real integrations trip over (FACTS.md QBO 3): DisplayName uniqueness across
customers and employees (6240), Item/Account name uniqueness, " (deleted)" appended on deactivation,
IncomeAccountRef required for sales items, DocNumber sequencing and the 21-character limit, the
duplicate-number check (6140), references that must exist (2500) and be active (610), US line tax codes
``TAX``/``NON``, payments that may not exceed an invoice's balance.

Builders receive the client's validated fields (already merged with the stored record for updates) and
return the record to store. They never assign Id/SyncToken/MetaData; :mod:`.service` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerbridge_quickbooks.sandbox import errors
from ledgerbridge_quickbooks.sandbox.calc import TaxRateInfo, money, price_lines
from ledgerbridge_quickbooks.sandbox.store import Company, Record

USD = {"value": "USD", "name": "United States Dollar"}
DELETED_SUFFIX = " (deleted)"

# Filterable fields per entity: canonical path -> comparison kind (see :mod:`.query`).
_COMMON_FILTERS = {"Id": "id", "MetaData.CreateTime": "dateTime", "MetaData.LastUpdatedTime": "dateTime"}
_PERSON_FILTERS = {
    "DisplayName": "string",
    "GivenName": "string",
    "FamilyName": "string",
    "CompanyName": "string",
    "PrimaryEmailAddr": "email",
    "Active": "boolean",
}


@dataclass(frozen=True)
class EntitySpec:
    """What the API allows for one entity."""

    name: str
    url: str
    name_list: bool = False
    creatable: bool = True
    updatable: bool = True
    deletable: bool = False
    voidable: bool = False
    cdc: bool = True
    webhooks: bool = True
    filters: Mapping[str, str] = field(default_factory=dict)


SPECS: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec(
            "Customer",
            "customer",
            name_list=True,
            filters={**_COMMON_FILTERS, **_PERSON_FILTERS, "Balance": "decimal", "Job": "boolean"},
        ),
        EntitySpec("Employee", "employee", name_list=True, filters={**_COMMON_FILTERS, **_PERSON_FILTERS}),
        EntitySpec(
            "Item",
            "item",
            name_list=True,
            filters={
                **_COMMON_FILTERS,
                "Name": "string",
                "Sku": "string",
                "Type": "string",
                "Active": "boolean",
                "FullyQualifiedName": "string",
            },
        ),
        EntitySpec(
            "Account",
            "account",
            name_list=True,
            filters={
                **_COMMON_FILTERS,
                "Name": "string",
                "AccountType": "string",
                "AccountSubType": "string",
                "Classification": "string",
                "Active": "boolean",
                "FullyQualifiedName": "string",
                "AcctNum": "string",
            },
        ),
        EntitySpec(
            "TaxCode",
            "taxcode",
            name_list=True,
            creatable=False,
            updatable=False,
            cdc=False,
            webhooks=False,
            filters={**_COMMON_FILTERS, "Name": "string", "Active": "boolean"},
        ),
        EntitySpec(
            "TaxRate",
            "taxrate",
            name_list=True,
            creatable=False,
            updatable=False,
            cdc=False,
            webhooks=False,
            filters={**_COMMON_FILTERS, "Name": "string", "Active": "boolean"},
        ),
        EntitySpec(
            "Invoice",
            "invoice",
            deletable=True,
            voidable=True,
            filters={
                **_COMMON_FILTERS,
                "DocNumber": "string",
                "TxnDate": "date",
                "DueDate": "date",
                "CustomerRef": "id",
                "TotalAmt": "decimal",
                "Balance": "decimal",
            },
        ),
        EntitySpec(
            "Payment",
            "payment",
            deletable=True,
            voidable=True,
            filters={**_COMMON_FILTERS, "TxnDate": "date", "CustomerRef": "id", "TotalAmt": "decimal"},
        ),
        EntitySpec(
            "TimeActivity", "timeactivity", deletable=True, cdc=False, filters={**_COMMON_FILTERS, "TxnDate": "date"}
        ),
        EntitySpec("CompanyInfo", "companyinfo", creatable=False, webhooks=False, filters=dict(_COMMON_FILTERS)),
        EntitySpec("Preferences", "preferences", creatable=False, webhooks=False, filters=dict(_COMMON_FILTERS)),
    )
}
BY_URL: dict[str, EntitySpec] = {spec.url: spec for spec in SPECS.values()}

ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset",
    "Accounts Receivable": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Cost of Goods Sold": "Expense",
    "Expense": "Expense",
    "Other Expense": "Expense",
}
DEFAULT_SUBTYPE = {
    "Income": "SalesOfProductIncome",
    "Other Income": "OtherMiscellaneousIncome",
    "Bank": "Checking",
    "Accounts Receivable": "AccountsReceivable",
    "Other Current Asset": "OtherCurrentAssets",
    "Expense": "OtherMiscellaneousServiceCost",
    "Cost of Goods Sold": "SuppliesMaterialsCogs",
    "Equity": "OwnersEquity",
}
SALES_ITEM_TYPES = {"Service", "NonInventory", "Inventory", "Other Charge"}

MAX_LENGTHS = {
    "DisplayName": 500,
    "GivenName": 100,
    "FamilyName": 100,
    "MiddleName": 100,
    "CompanyName": 100,
    "PrivateNote": 4000,
}


@dataclass
class BuildContext:
    """What a builder needs: the company, the operation's timestamp and the local date."""

    company: Company
    now: str
    today: date

    def resolve(self, entity: str, ref: Any, label: str, *, require_active: bool = True) -> Record:
        """Follow a ``{"value": id}`` reference; 2500 if it points nowhere, 610 if inactive."""
        value = ref.get("value") if isinstance(ref, dict) else None
        if value in (None, ""):
            raise errors.required_missing(f"{label}.value")
        record = self.company.get(entity, str(value))
        if record is None:
            raise errors.invalid_reference(label, value)
        if require_active and record.get("Active") is False:
            raise errors.made_inactive(label, value)
        return record

    def preference(self, section: str, name: str, default: Any = None) -> Any:
        """Read one company preference (so API updates of Preferences take effect)."""
        prefs = self.company.get("Preferences", "1", include_hidden=True) or {}
        return (prefs.get(section) or {}).get(name, default)

    def other_pref(self, name: str, default: str | None = None) -> str | None:
        """Read a ``Preferences.OtherPrefs`` name/value pair."""
        prefs = self.company.get("Preferences", "1", include_hidden=True) or {}
        for pair in (prefs.get("OtherPrefs") or {}).get("NameValue") or []:
            if pair.get("Name") == name:
                return pair.get("Value")
        return default


#: OtherPrefs entry holding the "warn if duplicate invoice number" setting. The XSD has no dedicated
#: element for it, so the sandbox exposes it through the schema's generic name/value list.
WARN_DUPLICATE_PREF = "SalesFormsPrefs.WarnDuplicateDocNum"


def _check_length(record: Record, name: str, maximum: int) -> None:
    value = record.get(name)
    if isinstance(value, str) and len(value) > maximum:
        raise errors.string_too_long(name, value, maximum)


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


ADDRESS_FIELDS = ("BillAddr", "ShipAddr")


def _number_addresses(ctx: BuildContext, rec: Record, existing: Record | None) -> None:
    """Give every address an Id, and Lat/Long, as QBO does when it stores one.

    QBO keeps addresses as records of their own: an address sent without an Id gets a new one, an
    address whose text is unchanged keeps the stored Id. Lat/Long are ``INVALID`` when QBO could not
    geocode the address; the sandbox geocodes nothing, so that is what it answers.
    """
    for name in ADDRESS_FIELDS:
        address = rec.get(name)
        if not isinstance(address, dict):
            continue
        address = dict(address)
        before = (existing or {}).get(name) or {}
        if not address.get("Id"):
            if before.get("Id") and all(address.get(k) == before.get(k) for k in address):
                address["Id"] = before["Id"]
            else:
                address["Id"] = str(ctx.company.next_address_id)
                ctx.company.next_address_id += 1
        address.setdefault("Lat", "INVALID")
        address.setdefault("Long", "INVALID")
        rec[name] = address


def _ref(record: Record, name_field: str = "DisplayName") -> dict[str, str]:
    return {"value": record["Id"], "name": record.get(name_field, "")}


# -- name lists ------------------------------------------------------------------------------------------


def _person_display_name(record: Record) -> str:
    display = (record.get("DisplayName") or "").strip()
    if display:
        return display
    parts = [record.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    derived = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return derived or (record.get("CompanyName") or "").strip()


def _check_person_unique(ctx: BuildContext, display: str, entity: str, own_id: str | None) -> None:
    """DisplayName is unique across customers and employees (vendors too in QBO; the sandbox has none)."""
    wanted = _norm(display)
    for other_entity in ("Customer", "Employee"):
        for other in ctx.company.records.get(other_entity, {}).values():
            if (other_entity, other["Id"]) == (entity, own_id):
                continue
            if _norm(other.get("DisplayName", "")) == wanted:
                raise errors.duplicate_name(other_entity.lower(), display, other["Id"])


def build_customer(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """Customer: DisplayName derived if absent, unique, sub-customers under ParentRef."""
    rec = {k: v for k, v in data.items() if k not in ("Balance", "BalanceWithJobs")}
    display = _person_display_name(rec)
    if not display:
        raise errors.required_missing("DisplayName")
    rec["DisplayName"] = display
    for name, maximum in MAX_LENGTHS.items():
        _check_length(rec, name, maximum)
    _check_person_unique(ctx, display, "Customer", existing["Id"] if existing else None)
    if rec.get("ParentRef"):
        parent = ctx.resolve("Customer", rec["ParentRef"], "ParentRef")
        rec["ParentRef"] = _ref(parent)
        rec["Job"] = True
        rec["Level"] = int(parent.get("Level", 0)) + 1
        rec["FullyQualifiedName"] = f"{parent.get('FullyQualifiedName', parent['DisplayName'])}:{display}"
        rec.setdefault("BillWithParent", False)
    else:
        rec.pop("Level", None)
        rec["Job"] = False
        rec["BillWithParent"] = False
        rec["FullyQualifiedName"] = display
    rec.setdefault("PrintOnCheckName", display)
    rec.setdefault("Active", True)
    rec.setdefault("Taxable", ctx.company.preset.country == "US")
    rec.setdefault("CurrencyRef", dict(USD))
    rec.setdefault("PreferredDeliveryMethod", "Print")
    rec.setdefault("IsProject", False)
    if rec.get("Taxable") and not rec.get("DefaultTaxCodeRef"):
        # a taxable customer carries the sales tax code its invoices default to (see _tax_setup)
        default_code = ctx.preference("TaxPrefs", "TaxGroupCodeRef")
        if default_code:
            rec["DefaultTaxCodeRef"] = {"value": default_code["value"]}
    _number_addresses(ctx, rec, existing)
    return rec


def build_employee(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """Employee: needs a given or family name; shares DisplayName uniqueness with customers."""
    rec = dict(data)
    if not (rec.get("GivenName") or rec.get("FamilyName") or rec.get("DisplayName")):
        raise errors.required_missing("GivenName")
    display = _person_display_name(rec)
    rec["DisplayName"] = display
    for name, maximum in MAX_LENGTHS.items():
        _check_length(rec, name, maximum)
    _check_person_unique(ctx, display, "Employee", existing["Id"] if existing else None)
    rec.setdefault("PrintOnCheckName", display)
    rec.setdefault("Active", True)
    rec.setdefault("BillableTime", False)
    return rec


def _apply_active_suffix(
    ctx: BuildContext, rec: Record, entity: str, own_id: str | None, same_scope: Any = None
) -> None:
    """Names of deactivated items/accounts end in " (deleted)"; active names must be unique."""
    name = (rec.get("Name") or "").strip()
    if not name:
        raise errors.required_missing("Name")
    base = name.removesuffix(DELETED_SUFFIX)
    if len(base) > 100:
        raise errors.string_too_long("Name", base, 100)
    active = rec.get("Active", True) is not False
    rec["Active"] = active
    if not active:
        rec["Name"] = base + DELETED_SUFFIX
        return
    rec["Name"] = base
    for other in ctx.company.records.get(entity, {}).values():
        if other["Id"] == own_id or other.get("Active") is False:
            continue
        if same_scope is not None and not same_scope(other):
            continue
        if _norm(other.get("Name", "")) == _norm(base):
            raise errors.duplicate_name(entity.lower(), base, other["Id"])


def build_item(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """Item: Type required; sales items need an income account; unique active Name."""
    rec = dict(data)
    item_type = rec.get("Type")
    if not item_type:
        raise errors.required_missing("Type")
    _apply_active_suffix(ctx, rec, "Item", existing["Id"] if existing else None)
    for ref_name in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
        if rec.get(ref_name):
            account = ctx.resolve("Account", rec[ref_name], ref_name)
            rec[ref_name] = _ref(account, "Name")
    if item_type in SALES_ITEM_TYPES and not rec.get("IncomeAccountRef"):
        raise errors.required_missing("IncomeAccountRef")
    if item_type == "Inventory":
        for required in ("AssetAccountRef", "ExpenseAccountRef", "QtyOnHand", "InvStartDate"):
            if rec.get(required) is None:
                raise errors.required_missing(required)
        rec["TrackQtyOnHand"] = True
    else:
        rec.setdefault("TrackQtyOnHand", False)
    if rec.get("ParentRef"):
        parent = ctx.resolve("Item", rec["ParentRef"], "ParentRef")
        rec["ParentRef"] = _ref(parent, "Name")
        rec["SubItem"] = True
        rec["Level"] = int(parent.get("Level", 0)) + 1
        rec["FullyQualifiedName"] = f"{parent.get('FullyQualifiedName', parent['Name'])}:{rec['Name']}"
    else:
        rec.pop("Level", None)
        rec["SubItem"] = False
        rec["FullyQualifiedName"] = rec["Name"]
    rec.setdefault("Taxable", False)
    rec.setdefault("SalesTaxIncluded", False)
    rec.setdefault("PurchaseTaxIncluded", False)
    rec.setdefault("UnitPrice", Decimal(0))
    rec.setdefault("PurchaseCost", Decimal(0))
    return rec


def build_account(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """Account: AccountType required, Classification derived, Name unique among siblings."""
    rec = dict(data)
    account_type = rec.get("AccountType")
    if not account_type:
        raise errors.required_missing("AccountType")
    parent_id = None
    if rec.get("ParentRef"):
        parent = ctx.resolve("Account", rec["ParentRef"], "ParentRef")
        parent_id = parent["Id"]
        rec["ParentRef"] = _ref(parent, "Name")
        rec["SubAccount"] = True
    else:
        rec["SubAccount"] = False

    def same_parent(other: Record) -> bool:
        return (other.get("ParentRef") or {}).get("value") == parent_id

    _apply_active_suffix(ctx, rec, "Account", existing["Id"] if existing else None, same_parent)
    _check_length(rec, "AcctNum", 20)
    if parent_id is not None:
        parent = ctx.company.get("Account", parent_id) or {}
        rec["FullyQualifiedName"] = f"{parent.get('FullyQualifiedName', parent.get('Name'))}:{rec['Name']}"
    else:
        rec["FullyQualifiedName"] = rec["Name"]
    rec["Classification"] = ACCOUNT_CLASSIFICATION.get(account_type, rec.get("Classification", "Expense"))
    rec.setdefault("AccountSubType", DEFAULT_SUBTYPE.get(account_type, account_type.replace(" ", "")))
    rec.setdefault("CurrentBalance", Decimal(0))
    rec.setdefault("CurrentBalanceWithSubAccounts", Decimal(0))
    rec.setdefault("CurrencyRef", dict(USD))
    return rec


# -- transactions ------------------------------------------------------------------------------------------


def next_doc_number(company: Company) -> str:
    """QBO's "next in sequence": one more than the highest numeric DocNumber so far."""
    highest = company.preset.first_invoice_number - 1
    for invoice in company.records.get("Invoice", {}).values():
        number = invoice.get("DocNumber", "")
        if isinstance(number, str) and number.isdigit():
            highest = max(highest, int(number))
    return str(highest + 1)


def _tax_setup(ctx: BuildContext, rec: Record, customer: Record) -> tuple[Record | None, list[TaxRateInfo]]:
    """Which transaction tax code applies and its component rates.

    An explicit ``TxnTaxDetail.TxnTaxCodeRef`` wins. Otherwise the company's default sales tax code
    applies to taxable customers, as automated sales tax does in current US companies.
    """
    detail = rec.get("TxnTaxDetail") or {}
    ref = detail.get("TxnTaxCodeRef")
    if ref is None:
        default_code = ctx.preference("TaxPrefs", "TaxGroupCodeRef")
        if default_code is None or customer.get("Taxable") is False:
            return None, []
        ref = default_code
    code = ctx.resolve("TaxCode", ref, "TxnTaxCodeRef")
    if code["Id"] in ("TAX", "NON"):
        raise errors.invalid_reference("TxnTaxCodeRef", code["Id"])
    rates = []
    for entry in (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []:
        rate = ctx.resolve("TaxRate", entry.get("TaxRateRef"), "TaxRateRef")
        rates.append(TaxRateInfo(rate["Id"], rate["Name"], Decimal(rate.get("RateValue", 0))))
    return {"value": code["Id"]}, rates


def build_invoice(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """Invoice: customer, priced lines, DocNumber rules, tax, totals (Balance is set by the service)."""
    rec = {k: v for k, v in data.items() if k not in ("TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt")}
    if not rec.get("CustomerRef"):
        raise errors.required_missing("CustomerRef")
    customer = ctx.resolve("Customer", rec["CustomerRef"], "CustomerRef")
    rec["CustomerRef"] = _ref(customer)
    lines = rec.get("Line")
    if not lines:
        raise errors.required_missing("Line")
    _assign_doc_number(ctx, rec, data, existing)
    _check_length(rec, "PrivateNote", 4000)
    tax_ref, rates = _tax_setup(ctx, rec, customer)
    us = ctx.company.preset.country == "US"

    def resolve_item(ref: Record) -> Record:
        return ctx.resolve("Item", ref, "ItemRef")

    rec.setdefault("ApplyTaxAfterDiscount", False)
    totals = price_lines(
        lines,
        resolve_item=resolve_item,
        us_tax_codes=us,
        tax_code_ref=tax_ref,
        tax_rates=rates,
        apply_tax_after_discount=bool(rec["ApplyTaxAfterDiscount"]),
    )
    rec["Line"] = totals.lines
    rec["TxnTaxDetail"] = totals.tax_detail
    rec["TotalAmt"] = totals.total
    txn_date = rec.get("TxnDate") or ctx.today.isoformat()
    rec["TxnDate"] = txn_date
    if not rec.get("DueDate"):
        rec["DueDate"] = (date.fromisoformat(txn_date[:10]) + timedelta(days=30)).isoformat()
    if "BillAddr" not in rec and customer.get("BillAddr"):
        rec["BillAddr"] = {k: v for k, v in customer["BillAddr"].items() if k != "Id"}
    if "BillEmail" not in rec and customer.get("PrimaryEmailAddr"):
        rec["BillEmail"] = {"Address": customer["PrimaryEmailAddr"].get("Address", "")}
    rec.setdefault("CurrencyRef", dict(USD))
    rec["CustomField"] = _custom_fields(rec.get("CustomField") or [])
    rec.setdefault("PrintStatus", "NotSet")
    rec.setdefault("EmailStatus", "NotSet")
    for flag in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
        rec.setdefault(flag, False)
    rec.setdefault("Deposit", Decimal(0))
    rec["LinkedTxn"] = [link for link in rec.get("LinkedTxn") or [] if link.get("TxnType") != "Payment"]
    _number_addresses(ctx, rec, existing)
    return rec


#: The sales-form custom field every QBO sandbox company defines ("Crew #"): QBO returns each defined
#: field on every sales form, with its value when one was set.
SALES_CUSTOM_FIELDS = ({"DefinitionId": "1", "Name": "Crew #", "Type": "StringType"},)


def _custom_fields(supplied: list[Record]) -> list[Record]:
    """The company's custom field definitions, each with the value the client supplied for it."""
    values = {str(f.get("DefinitionId")): f for f in supplied if isinstance(f, dict)}
    fields = []
    for definition in SALES_CUSTOM_FIELDS:
        given = values.get(definition["DefinitionId"], {})
        # unset reads as "" (the XSD requires one value element; QBO's binder reads "" as unset)
        fields.append({**definition, "StringValue": given.get("StringValue") or ""})
    return fields


def _name_value(name: str, value: str) -> Record:
    """One ``LineEx`` entry as QBO's JSON binder writes a JAXB NameValue element."""
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }


def _assign_doc_number(ctx: BuildContext, rec: Record, data: Record, existing: Record | None) -> None:
    custom_numbers = bool(ctx.preference("SalesFormsPrefs", "CustomTxnNumbers", False))
    supplied = data.get("DocNumber")
    if existing is not None and "DocNumber" not in data:
        if existing.get("DocNumber") is not None:
            rec["DocNumber"] = existing["DocNumber"]
        return
    if supplied == "AUTO_GENERATE" or (not supplied and not custom_numbers and existing is None):
        rec["DocNumber"] = next_doc_number(ctx.company)
    elif not supplied:
        rec.pop("DocNumber", None)  # custom numbers on and none given: QBO leaves it empty
        return
    number = rec["DocNumber"]
    if len(number) > 21:
        raise errors.string_too_long("DocNumber", number, 21)
    if ctx.other_pref(WARN_DUPLICATE_PREF, "true") == "true":
        own_id = existing["Id"] if existing else None
        for other in ctx.company.records.get("Invoice", {}).values():
            if other["Id"] != own_id and _norm(other.get("DocNumber") or "") == _norm(number):
                raise errors.duplicate_doc_number(number, "Invoice", other["Id"])


def build_payment(
    ctx: BuildContext, data: Record, existing: Record | None, previously_applied: Mapping[str, Decimal]
) -> Record:
    """Payment: applied lines may not exceed invoice balances nor the payment total."""
    rec = {k: v for k, v in data.items() if k != "UnappliedAmt"}
    if not rec.get("CustomerRef"):
        raise errors.required_missing("CustomerRef")
    customer = ctx.resolve("Customer", rec["CustomerRef"], "CustomerRef")
    rec["CustomerRef"] = _ref(customer)
    if rec.get("TotalAmt") is None:
        raise errors.required_missing("TotalAmt")
    total = money(rec["TotalAmt"])
    if total < 0:
        raise errors.business_rule("Payment amount cannot be negative.", "TotalAmt")
    rec["TotalAmt"] = total
    applied = Decimal(0)
    lines = []
    for index, line in enumerate(rec.get("Line") or []):
        if line.get("Amount") is None:
            raise errors.required_missing(f"Line[{index}].Amount")
        amount = money(line["Amount"])
        links = line.get("LinkedTxn") or []
        if len(links) != 1:
            raise errors.required_missing(f"Line[{index}].LinkedTxn")
        link = links[0]
        if link.get("TxnType") != "Invoice":
            raise errors.business_rule(
                f"The sandbox applies payments to invoices only (got {link.get('TxnType')}).", "LinkedTxn.TxnType"
            )
        invoice_id = str(link.get("TxnId", ""))
        invoice = ctx.company.get("Invoice", invoice_id)
        if invoice is None:
            raise errors.invalid_reference("LinkedTxn", invoice_id)
        if invoice["CustomerRef"]["value"] != customer["Id"]:
            raise errors.business_rule(
                f"Invoice {invoice_id} belongs to another customer than the payment.", "LinkedTxn"
            )
        if amount <= 0:
            raise errors.business_rule("An applied amount must be greater than zero.", "Line.Amount")
        available = Decimal(invoice.get("Balance", 0)) + previously_applied.get(invoice_id, Decimal(0))
        if amount > available:
            raise errors.business_rule(
                f"The amount applied to invoice {invoice_id} ({amount}) exceeds its open balance ({money(available)}).",
                "Line.Amount",
            )
        applied += amount
        new_line = {k: v for k, v in line.items() if k not in ("Amount", "LinkedTxn", "LineEx")}
        # QBO describes each applied invoice in LineEx: its id, its open balance and its number
        line_ex = {
            "any": [
                _name_value("txnId", invoice_id),
                _name_value("txnOpenBalance", str(money(available))),
                _name_value("txnReferenceNumber", str(invoice.get("DocNumber", ""))),
            ]
        }
        lines.append(
            {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}], "LineEx": line_ex,
             **new_line}
        )
    if applied > total:
        raise errors.business_rule(f"The applied amounts ({applied}) exceed the payment total ({total}).", "TotalAmt")
    rec["Line"] = lines
    rec["UnappliedAmt"] = money(total - applied)
    rec["TxnDate"] = rec.get("TxnDate") or ctx.today.isoformat()
    rec.setdefault("CurrencyRef", dict(USD))
    rec.setdefault("ProcessPayment", False)
    if rec.get("DepositToAccountRef"):
        rec["DepositToAccountRef"] = _ref(
            ctx.resolve("Account", rec["DepositToAccountRef"], "DepositToAccountRef"), "Name"
        )
    else:
        for account in ctx.company.records.get("Account", {}).values():
            if account.get("Name") == "Undeposited Funds":
                rec["DepositToAccountRef"] = _ref(account, "Name")
                break
    _check_length(rec, "PrivateNote", 4000)
    return rec


def build_time_activity(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """TimeActivity: who worked (employee), for whom, how long."""
    rec = dict(data)
    if not ctx.company.preset.time_tracking:
        raise errors.business_rule(
            "Time tracking is not included in this company's QuickBooks subscription.", "TimeActivity"
        )
    name_of = rec.get("NameOf")
    if not name_of:
        raise errors.required_missing("NameOf")
    if name_of == "Employee":
        if not rec.get("EmployeeRef"):
            raise errors.required_missing("EmployeeRef")
        rec["EmployeeRef"] = _ref(ctx.resolve("Employee", rec["EmployeeRef"], "EmployeeRef"))
    elif name_of == "Vendor":
        raise errors.invalid_reference("VendorRef", (rec.get("VendorRef") or {}).get("value"))
    if rec.get("CustomerRef"):
        rec["CustomerRef"] = _ref(ctx.resolve("Customer", rec["CustomerRef"], "CustomerRef"))
    if rec.get("ItemRef"):
        rec["ItemRef"] = _ref(ctx.resolve("Item", rec["ItemRef"], "ItemRef"), "Name")
    has_duration = rec.get("Hours") is not None or rec.get("Minutes") is not None
    has_range = rec.get("StartTime") and rec.get("EndTime")
    if not has_duration and not has_range:
        raise errors.required_missing("Hours")
    rec["TxnDate"] = rec.get("TxnDate") or ctx.today.isoformat()
    rec.setdefault("BillableStatus", "NotBillable")
    rec.setdefault("Taxable", False)
    if rec.get("HourlyRate") is not None:
        rec["HourlyRate"] = Decimal(rec["HourlyRate"])
    return rec


def build_company_info(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """CompanyInfo: CompanyName required; Country is not editable through the API."""
    rec = dict(data)
    if not rec.get("CompanyName"):
        raise errors.required_missing("CompanyName")
    if existing is not None:
        rec["Country"] = existing.get("Country", ctx.company.preset.country)
    return rec


def build_preferences(ctx: BuildContext, data: Record, existing: Record | None) -> Record:
    """Preferences: stored as given (each section validated by the schema)."""
    return dict(data)
