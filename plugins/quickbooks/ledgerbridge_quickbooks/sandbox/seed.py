"""Demo companies: what a fresh QBO sandbox company looks like to an integration.

Each preset gets Preferences, CompanyInfo, a US sales tax setup (pseudo codes ``TAX``/``NON`` plus one
real tax code and rate), income and balance-sheet accounts (including an inactive one, to exercise the
Active filter), service items, customers (one inactive), employees, and - in the first company - an
invoice with a partial payment so the accountant's view has something to show.

Name-list and transaction records are created through :class:`~.service.QboService`, so seeded data
obeys exactly the rules API-created data does; read-only setup entities are inserted directly.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge_quickbooks.sandbox.config import CompanyPreset
from ledgerbridge_quickbooks.sandbox.entities import WARN_DUPLICATE_PREF
from ledgerbridge_quickbooks.sandbox.service import QboService
from ledgerbridge_quickbooks.sandbox.store import Company, Record, format_timestamp

_DEMO_STREETS = ("12 Ocean Dr.", "321 Channing", "65 Ocean Dr.", "45 Main St.", "500 Red Rock Rd.")


def seed_company(service: QboService, preset: CompanyPreset, first_company: bool) -> Company:
    """Create and populate one company."""
    company = service.state.add_company(preset)
    realm = preset.realm_id
    now = format_timestamp(service.clock.now(), company.tz)
    start_date = service.clock.now().astimezone(company.tz).date().replace(month=1, day=1).isoformat()

    def insert(entity: str, entity_id: str, body: Record) -> Record:
        record = {
            **body,
            "domain": "QBO",
            "sparse": False,
            "Id": entity_id,
            "SyncToken": "0",
            "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
        }
        company.put(entity, record)
        return record

    rate_id = company.allocate_id()
    insert(
        "TaxRate",
        rate_id,
        {
            "Name": preset.sales_tax_name,
            "Description": "Sales Tax",
            "Active": True,
            "RateValue": preset.sales_tax_percent,
            "AgencyRef": {"value": "1"},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
            "EffectiveTaxRate": [{"RateValue": preset.sales_tax_percent, "EffectiveDate": f"{start_date}T00:00:00Z"}],
        },
    )
    insert("TaxCode", "TAX", {"Name": "TAX", "Description": "TAX", "Active": True, "Taxable": True, "TaxGroup": False})
    insert("TaxCode", "NON", {"Name": "NON", "Description": "NON", "Active": True, "Taxable": False, "TaxGroup": False})
    code_id = company.allocate_id()
    insert(
        "TaxCode",
        code_id,
        {
            "Name": preset.sales_tax_name,
            "Description": f"{preset.sales_tax_name} sales tax",
            "Active": True,
            "Taxable": True,
            "TaxGroup": True,
            "SalesTaxRateList": {
                "TaxRateDetail": [
                    {
                        "TaxRateRef": {"value": rate_id, "name": preset.sales_tax_name},
                        "TaxTypeApplicable": "TaxOnAmount",
                        "TaxOrder": 0,
                    }
                ]
            },
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
    )
    insert(
        "Preferences",
        "1",
        {
            "AccountingInfoPrefs": {
                "TrackDepartments": False,
                "ClassTrackingPerTxn": False,
                "ClassTrackingPerTxnLine": False,
                "CustomerTerminology": "Customers",
                "FirstMonthOfFiscalYear": "January",
                "UseAccountNumbers": False,
            },
            "SalesFormsPrefs": {
                "CustomTxnNumbers": preset.custom_txn_numbers,
                "AllowDeposit": False,
                "AllowDiscount": True,
                "AllowEstimates": True,
                "AllowServiceDate": False,
                "AllowShipping": False,
                "AutoApplyCredit": True,
                "AutoApplyPayments": True,
                "ETransactionEnabledStatus": "NotApplicable",
            },
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True, "TaxGroupCodeRef": {"value": code_id}},
            "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
            **(
                {
                    "TimeTrackingPrefs": {
                        "UseServices": True,
                        "BillCustomers": True,
                        "ShowBillRateToAll": False,
                        "WorkWeekStartDate": "Monday",
                        "MarkTimeEntriesBillable": True,
                    }
                }
                if preset.time_tracking
                else {}
            ),
            "OtherPrefs": {
                "NameValue": [
                    {"Name": WARN_DUPLICATE_PREF, "Value": "true" if preset.warn_duplicate_doc_number else "false"},
                ]
            },
        },
    )
    address = {
        "Id": "1",
        "Line1": "2500 Garcia Ave",
        "City": "Mountain View",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94043",
        "Country": "USA",
    }
    insert(
        "CompanyInfo",
        "1",
        {
            "CompanyName": preset.company_name,
            "LegalName": preset.company_name,
            "CompanyAddr": dict(address),
            "CustomerCommunicationAddr": dict(address),
            "LegalAddr": dict(address),
            "PrimaryPhone": {"FreeFormNumber": "(650) 944-0000"},
            "CompanyStartDate": start_date,
            "FiscalYearStartMonth": "January",
            "Country": preset.country,
            "Email": {"Address": "noreply@quickbooks.invalid"},
            "WebAddr": {},
            "SupportedLanguages": "en",
            "DefaultTimeZone": preset.timezone,
            "NameValue": [
                {"Name": "NeoEnabled", "Value": "true"},
                {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            ],
        },
    )

    accounts: dict[str, Record] = {}
    for name, account_type, sub_type, active in (
        ("Services", "Income", "ServiceFeeIncome", True),
        ("Sales of Product Income", "Income", "SalesOfProductIncome", True),
        ("Discounts given", "Income", "DiscountsRefundsGiven", True),
        ("Fees Billed", "Income", "ServiceFeeIncome", False),
        ("Other Ordinary Income", "Other Income", "OtherMiscellaneousIncome", True),
        ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", True),
        ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", True),
        ("Checking", "Bank", "Checking", True),
        ("Inventory Asset", "Other Current Asset", "Inventory", True),
        ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", True),
    ):
        created = service.create(
            realm, "Account", {"Name": name, "AccountType": account_type, "AccountSubType": sub_type}
        )
        if not active:
            created = service.update(
                realm,
                "Account",
                {"Id": created["Id"], "SyncToken": created["SyncToken"], "sparse": True, "Active": False},
            )
        accounts[name] = created

    items: dict[str, Record] = {}
    for index, (name, price) in enumerate(preset.service_items):
        items[name] = service.create(
            realm,
            "Item",
            {
                "Name": name,
                "Type": "Service",
                "UnitPrice": price,
                "Taxable": index % 2 == 1,
                "IncomeAccountRef": {"value": accounts["Services"]["Id"]},
            },
        )
    retired = service.create(
        realm,
        "Item",
        {"Name": "Retired Service", "Type": "Service", "IncomeAccountRef": {"value": accounts["Services"]["Id"]}},
    )
    service.update(
        realm, "Item", {"Id": retired["Id"], "SyncToken": retired["SyncToken"], "sparse": True, "Active": False}
    )

    customers: list[Record] = []
    for index, display in enumerate(preset.customers):
        slug = "".join(ch for ch in display.lower() if ch.isalnum())[:12]
        customers.append(
            service.create(
                realm,
                "Customer",
                {
                    "DisplayName": display,
                    "CompanyName": display,
                    "PrimaryEmailAddr": {"Address": f"{slug}@example.com"},
                    "BillAddr": {
                        "Line1": _DEMO_STREETS[index % len(_DEMO_STREETS)],
                        "City": "Half Moon Bay",
                        "CountrySubDivisionCode": "CA",
                        "PostalCode": "94213",
                        "Country": "USA",
                    },
                },
            )
        )
    gone = service.create(realm, "Customer", {"DisplayName": "Inactive Customer Ltd"})
    service.update(
        realm, "Customer", {"Id": gone["Id"], "SyncToken": gone["SyncToken"], "sparse": True, "Active": False}
    )
    for given, family in preset.employees:
        service.create(
            realm,
            "Employee",
            {"GivenName": given, "FamilyName": family, "PrimaryEmailAddr": {"Address": f"{given.lower()}@example.com"}},
        )

    if first_company and customers:
        priced = [(name, price) for name, price in preset.service_items if price > 0]
        name, price = priced[0] if priced else preset.service_items[0]
        invoice = service.create(
            realm,
            "Invoice",
            {
                "CustomerRef": {"value": customers[0]["Id"]},
                "Line": [
                    {
                        "Amount": price * 4 or Decimal("100"),
                        "DetailType": "SalesItemLineDetail",
                        "Description": "Demo work",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": items[name]["Id"]},
                            "TaxCodeRef": {"value": "NON"},
                        },
                    }
                ],
            },
        )
        service.create(
            realm,
            "Payment",
            {
                "CustomerRef": {"value": customers[0]["Id"]},
                "TotalAmt": Decimal("50.00"),
                "Line": [{"Amount": Decimal("50.00"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
            },
        )
    return company


def seed_all(service: QboService, presets: tuple[CompanyPreset, ...]) -> None:
    """(Re)create every configured company."""
    service.state.clear()
    for index, preset in enumerate(presets):
        seed_company(service, preset, first_company=index == 0)
