"""Demo organisations: customers, items, revenue and bank accounts, and tax rates.

Seeding writes through :class:`~.service.XeroService` where rules apply (contacts, items) so seeded
records are indistinguishable from ones created over the API.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from ledgerbridge_xero.sandbox.config import OrganisationPreset
from ledgerbridge_xero.sandbox.service import XeroService
from ledgerbridge_xero.sandbox.store import Organisation

#: (Code, Name, Type, Class, TaxType, EnablePaymentsToAccount)
ACCOUNTS = (
    ("090", "Business Bank Account", "BANK", "ASSET", "NONE", False),
    ("200", "Sales", "REVENUE", "REVENUE", "OUTPUT2", False),
    ("260", "Other Revenue", "OTHERINCOME", "REVENUE", "OUTPUT2", False),
    ("270", "Interest Income", "REVENUE", "REVENUE", "NONE", False),
    ("400", "Advertising", "OVERHEADS", "EXPENSE", "INPUT2", False),
    ("610", "Accounts Receivable", "CURRENT", "ASSET", "NONE", False),
    ("880", "Owner Drawings", "EQUITY", "EQUITY", "NONE", True),
)


def _tax_rates(preset: OrganisationPreset) -> list[dict[str, object]]:
    rate = preset.gst_percent.quantize(Decimal("0.0001"))
    label = "GST" if preset.country != "GB" else "VAT"

    def entry(name: str, tax_type: str, percent: Decimal, report: str, revenue: bool, status: str = "ACTIVE"):
        return {
            "Name": name,
            "TaxType": tax_type,
            "TaxComponents": [{"Name": label, "Rate": percent, "IsCompound": False, "IsNonRecoverable": False}],
            "Status": status,
            "ReportTaxType": report,
            "CanApplyToAssets": True,
            "CanApplyToEquity": True,
            "CanApplyToExpenses": not revenue,
            "CanApplyToLiabilities": True,
            "CanApplyToRevenue": revenue,
            "DisplayTaxRate": percent,
            "EffectiveRate": percent,
        }

    zero = Decimal("0.0000")
    return [
        entry(f"{label} on Income", "OUTPUT2", rate, "OUTPUT", True),
        entry(f"{label} on Expenses", "INPUT2", rate, "INPUT", False),
        entry("Zero Rated", "ZERORATED", zero, "EXEMPTOUTPUT", True),
        entry("No " + label, "NONE", zero, "NONE", True),
        entry("Old Rate (archived)", "OUTPUT", Decimal("12.5000"), "OUTPUT", True, status="DELETED"),
    ]


def seed_organisation(service: XeroService, preset: OrganisationPreset) -> Organisation:
    """Create (or recreate) one organisation with its demo data."""
    org = Organisation(
        preset=preset,
        organisation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox:{preset.tenant_id}")),
        next_invoice_number=preset.first_invoice_number,
    )
    service.organisations[preset.tenant_id] = org
    now = service.now()
    for rate in _tax_rates(preset):
        org.collection("TaxRates")[str(rate["TaxType"])] = rate
    for code, name, kind, klass, tax_type, payments in ACCOUNTS:
        account_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{preset.tenant_id}:account:{code}"))
        record = {
            "AccountID": account_id,
            "Code": code,
            "Name": name,
            "Type": kind,
            "Status": "ACTIVE",
            "Class": klass,
            "TaxType": tax_type,
            "EnablePaymentsToAccount": payments,
            "ShowInExpenseClaims": False,
            "ReportingCode": "",
            "HasAttachments": False,
            "AddToWatchlist": False,
            "UpdatedDateUTC": now,
        }
        if kind == "BANK":
            record.update(BankAccountNumber="0123456789", BankAccountType="BANK", CurrencyCode=preset.base_currency)
        org.collection("Accounts")[account_id] = record
    listeners, service.listeners = service.listeners, []
    try:
        for name in preset.customers:
            first = name.split(" ")[0]
            service.save_contacts(org, [{"Name": name, "EmailAddress": f"accounts@{first.lower()}.example"}], "create")
        for code, name, price in preset.items:
            service.save_items(
                org,
                [
                    {
                        "Code": code,
                        "Name": name,
                        "Description": name,
                        "SalesDetails": {"UnitPrice": price, "AccountCode": "200", "TaxType": "OUTPUT2"},
                    }
                ],
                "create",
            )
    finally:
        service.listeners = listeners
    return org


def seed_all(service: XeroService, presets: tuple[OrganisationPreset, ...]) -> None:
    """Replace every organisation with freshly seeded ones."""
    service.organisations.clear()
    for preset in presets:
        seed_organisation(service, preset)
