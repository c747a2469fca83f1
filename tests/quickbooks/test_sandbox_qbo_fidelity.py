"""Fidelity: every JSON object the sandbox returns must fit Intuit's official XSD.

The validator (``qbo_sandbox_xsd``) walks responses against the XSD complex types loaded with
``xmlschema``, independently of the sandbox's own schema model, so a misspelt, invented or mistyped
field fails here even if the sandbox's model were wrong. The model checked into the sandbox package is
also compared with one regenerated from the spec files.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from ledgerbridge_quickbooks.sandbox import schema_build
from qbo_harness import START, QboHarness, loads

from tests.contracts.returned_fields import assert_returns, missing_paths

ENTITIES = (
    "Customer",
    "Item",
    "Account",
    "Invoice",
    "Payment",
    "Employee",
    "TimeActivity",
    "TaxCode",
    "TaxRate",
    "CompanyInfo",
    "Preferences",
)


def build_rich_company(qbo: QboHarness) -> None:
    """Exercise most code paths that shape output: sub-customers, item types, discounts, tax, payments."""
    services = qbo.find("Account", "Name", "Services")["Id"]
    asset = qbo.find("Account", "Name", "Inventory Asset")["Id"]
    cogs = qbo.find("Account", "Name", "Cost of Goods Sold")["Id"]
    parent = qbo.create(
        "customer",
        {
            "DisplayName": "Fidelity Parent",
            "GivenName": "Fi",
            "FamilyName": "Delity",
            "Title": "Dr.",
            "CompanyName": "Fidelity Inc",
            "PrimaryEmailAddr": {"Address": "fi@example.com"},
            "PrimaryPhone": {"FreeFormNumber": "(555) 555-0101"},
            "WebAddr": {"URI": "https://fi.example"},
            "BillAddr": {
                "Line1": "1 Main",
                "City": "Town",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "90000",
                "Country": "USA",
            },
            "Notes": "vip",
            "Taxable": True,
        },
    )
    qbo.create(
        "customer", {"DisplayName": "Fidelity Child", "ParentRef": {"value": parent["Id"]}, "BillWithParent": True}
    )
    qbo.create(
        "item",
        {
            "Name": "Widget",
            "Type": "Inventory",
            "UnitPrice": Decimal("9.99"),
            "Taxable": True,
            "IncomeAccountRef": {"value": services},
            "AssetAccountRef": {"value": asset},
            "ExpenseAccountRef": {"value": cogs},
            "QtyOnHand": Decimal(10),
            "InvStartDate": "2026-01-01",
            "Sku": "W-1",
        },
    )
    gadget = qbo.create(
        "item",
        {"Name": "Gadget", "Type": "NonInventory", "IncomeAccountRef": {"value": services}, "Description": "A gadget"},
    )
    qbo.create(
        "account", {"Name": "Fidelity Income", "AccountType": "Income", "AcctNum": "4100", "Description": "test"}
    )
    invoice = qbo.create(
        "invoice",
        {
            "CustomerRef": {"value": parent["Id"]},
            "DocNumber": "FID-1",
            "TxnDate": "2026-03-01",
            "CustomerMemo": {"value": "Thank you"},
            "PrivateNote": "internal",
            "ApplyTaxAfterDiscount": True,
            "AllowOnlineCreditCardPayment": True,
            "CustomField": [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": "7"}],
            "TxnTaxDetail": {"TxnTaxCodeRef": {"value": qbo.find("TaxCode", "Name", "California")["Id"]}},
            "Line": [
                {
                    "Amount": Decimal("19.98"),
                    "DetailType": "SalesItemLineDetail",
                    "Description": "two gadgets",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": gadget["Id"]},
                        "Qty": Decimal(2),
                        "UnitPrice": Decimal("9.99"),
                        "TaxCodeRef": {"value": "TAX"},
                        "ServiceDate": "2026-02-28",
                    },
                },
                {"DetailType": "DescriptionOnly", "Description": "note line"},
                {
                    "Amount": Decimal("1"),
                    "DetailType": "DiscountLineDetail",
                    "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": Decimal(10)},
                },
            ],
        },
    )
    qbo.create(
        "payment",
        {
            "CustomerRef": {"value": parent["Id"]},
            "TotalAmt": Decimal("25.00"),
            "PaymentRefNum": "123",
            "PrivateNote": "partial",
            "Line": [{"Amount": Decimal("5.00"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    voided = qbo.create("invoice", qbo.invoice_body("3.00"))
    qbo.ok(qbo.post("invoice", {"Id": voided["Id"], "SyncToken": "0"}, params={"operation": "void"}))
    employee = qbo.create(
        "employee",
        {
            "GivenName": "Fido",
            "FamilyName": "Elity",
            "HiredDate": "2025-01-01",
            "PrimaryAddr": {"Line1": "2 Side St", "City": "Town"},
            "Gender": "Female",
        },
    )
    qbo.create(
        "timeactivity",
        {
            "NameOf": "Employee",
            "EmployeeRef": {"value": employee["Id"]},
            "CustomerRef": {"value": parent["Id"]},
            "ItemRef": {"value": gadget["Id"]},
            "StartTime": "2026-03-01T09:00:00-08:00",
            "EndTime": "2026-03-01T11:30:00-08:00",
            "BillableStatus": "Billable",
            "HourlyRate": Decimal("50"),
        },
    )
    qbo.create(
        "timeactivity", {"NameOf": "Employee", "EmployeeRef": {"value": employee["Id"]}, "Hours": 1, "Minutes": 15}
    )


def collect(qbo: QboHarness) -> dict[str, list[dict[str, Any]]]:
    """Every object of every entity, as returned by query, read and CDC."""
    found: dict[str, list[dict[str, Any]]] = {}
    for entity in ENTITIES:
        where = (
            " WHERE Active IN (true, false)"
            if entity in ("Customer", "Item", "Account", "Employee", "TaxCode", "TaxRate")
            else ""
        )
        rows = qbo.query(f"SELECT * FROM {entity}{where} MAXRESULTS 1000").get(entity, [])
        assert rows, entity
        url = entity.lower()
        reads = []
        for row in rows:
            if entity == "Preferences":
                reads.append(qbo.ok(qbo.get("preferences"))["Preferences"])
            elif entity == "CompanyInfo":
                reads.append(qbo.read(url, qbo.realm))
            else:
                reads.append(qbo.read(url, row["Id"]))
        found[entity] = rows + reads
    cdc = qbo.ok(
        qbo.get(
            "cdc",
            params={"entities": "Customer,Item,Account,Invoice,Payment,Employee", "changedSince": START.isoformat()},
        )
    )
    for block in cdc["CDCResponse"][0]["QueryResponse"]:
        for entity, rows in block.items():
            if isinstance(rows, list):
                found[entity].extend(rows)
    return found


def test_every_entity_matches_the_xsd(qbo: QboHarness, qbo_xsd) -> None:  # type: ignore[no-untyped-def]
    build_rich_company(qbo)
    objects = collect(qbo)
    for entity, rows in objects.items():
        for row in rows:
            qbo_xsd.assert_valid(entity, row)
    assert {"Customer", "Item", "Account", "Invoice", "Payment", "Employee", "TimeActivity"} <= set(objects)


def test_deleted_and_batch_outputs_match_the_xsd(qbo: QboHarness, qbo_xsd) -> None:  # type: ignore[no-untyped-def]
    invoice = qbo.create("invoice", qbo.invoice_body())
    deleted = qbo.ok(qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, params={"operation": "delete"}))
    qbo_xsd.assert_valid("Invoice", deleted["Invoice"])
    batch = qbo.ok(
        qbo.post(
            "batch",
            {
                "BatchItemRequest": [
                    {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Fidelity"}},
                    {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Batch Fidelity"}},
                ]
            },
        )
    )
    items = batch["BatchItemResponse"]
    qbo_xsd.assert_valid("Customer", items[0]["Customer"])
    qbo_xsd.assert_valid("Fault", items[1]["Fault"])


def test_fault_bodies_match_the_xsd(qbo: QboHarness, qbo_xsd) -> None:  # type: ignore[no-untyped-def]
    responses = [
        qbo.post("customer", {"DisplayName": "Cool Cars"}),
        qbo.get("query", params={"query": "SELECT * FROM Nothing"}),
        qbo.post("customer", {"Bogus": 1}),
    ]
    for response in responses:
        body = loads(response.text)
        assert set(body) == {"Fault", "time"}
        qbo_xsd.assert_valid("Fault", body["Fault"])


def test_validator_rejects_invented_and_mistyped_fields(qbo: QboHarness, qbo_xsd) -> None:  # type: ignore[no-untyped-def]
    customer = qbo.find("Customer", "DisplayName", "Cool Cars")
    assert qbo_xsd.problems("Customer", customer) == []
    assert qbo_xsd.problems("Customer", {**customer, "DisplayNmae": "x"})
    assert qbo_xsd.problems("Customer", {**customer, "Active": "yes"})
    invoice = qbo.find("Invoice", "DocNumber", "1001")
    broken = json.loads(json.dumps(invoice, default=str))
    broken["Line"][0]["DetailType"] = "SalesLine"
    assert qbo_xsd.problems("Invoice", broken)
    assert qbo_xsd.problems("Invoice", {**invoice, "CustomerRef": "18"})
    assert qbo_xsd.problems("Invoice", {**invoice, "LinkedTxn": {"TxnId": "1"}})


def test_checked_in_schema_model_matches_the_xsd(provider_specs) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("xmlschema")
    regenerated = schema_build.render_model(schema_build.build_model(provider_specs / "quickbooks" / "xsd"))
    packaged = (schema_build.Path(schema_build.__file__).with_name("qbo_schema.json")).read_text(encoding="utf-8")
    assert json.loads(regenerated) == json.loads(packaged), (
        "qbo_schema.json is stale: run python -m ledgerbridge_quickbooks.sandbox.schema_build <xsd dir>"
    )


#: Fields QBO returns by default on every object of an entity (as created by ``build_rich_company``),
#: from Intuit's recorded responses (FACTS QBOAPI/QBRUBY) and the XSD: the XSD makes nearly everything
#: optional, so without this list a field the real API always sends could vanish unnoticed. ``[]`` steps
#: into every list element.
RETURNED: dict[str, tuple[str, ...]] = {
    "_every": ("Id", "SyncToken", "MetaData.CreateTime", "MetaData.LastUpdatedTime", "domain", "sparse"),
    "Customer": (
        "DisplayName", "FullyQualifiedName", "PrintOnCheckName", "Active", "Job", "BillWithParent", "Taxable",
        "Balance", "BalanceWithJobs", "CurrencyRef.value", "CurrencyRef.name", "PreferredDeliveryMethod",
        "IsProject", "DefaultTaxCodeRef.value",
    ),
    "Item": (
        "Name", "FullyQualifiedName", "Active", "Type", "SubItem", "Taxable", "UnitPrice", "PurchaseCost",
        "TrackQtyOnHand", "SalesTaxIncluded", "PurchaseTaxIncluded", "IncomeAccountRef.value",
        "IncomeAccountRef.name",
    ),
    "Account": (
        "Name", "FullyQualifiedName", "Active", "SubAccount", "Classification", "AccountType", "AccountSubType",
        "CurrentBalance", "CurrentBalanceWithSubAccounts", "CurrencyRef.value", "CurrencyRef.name",
    ),
    "Invoice": (
        "DocNumber", "TxnDate", "DueDate", "CustomerRef.value", "CustomerRef.name", "CurrencyRef.value",
        "TotalAmt", "Balance", "Deposit", "ApplyTaxAfterDiscount", "PrintStatus", "EmailStatus",
        "AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment",
        "LinkedTxn", "TxnTaxDetail.TotalTax", "CustomField[].DefinitionId", "CustomField[].Name",
        "CustomField[].Type", "Line[].DetailType", "BillAddr.Id", "BillAddr.Lat",
        "BillAddr.Long", "BillEmail.Address",
    ),
    "Payment": (
        "TxnDate", "CustomerRef.value", "CustomerRef.name", "CurrencyRef.value", "TotalAmt", "UnappliedAmt",
        "ProcessPayment", "DepositToAccountRef.value", "Line[].Amount", "Line[].LinkedTxn[].TxnId",
        "Line[].LinkedTxn[].TxnType", "Line[].LineEx.any[].value.Name", "Line[].LineEx.any[].value.Value",
    ),
    "Employee": ("DisplayName", "GivenName", "FamilyName", "PrintOnCheckName", "Active", "BillableTime"),
    "TimeActivity": ("TxnDate", "NameOf", "EmployeeRef.value", "EmployeeRef.name", "BillableStatus", "Taxable"),
    "TaxCode": ("Name", "Description", "Active", "Taxable", "TaxGroup"),
    "TaxRate": ("Name", "Description", "Active", "RateValue", "AgencyRef.value", "SpecialTaxType", "DisplayType",
                "EffectiveTaxRate"),
    "CompanyInfo": (
        "CompanyName", "LegalName", "CompanyAddr.Id", "CompanyAddr.Line1", "CustomerCommunicationAddr.Id",
        "LegalAddr.Id", "PrimaryPhone.FreeFormNumber", "Email.Address", "WebAddr", "CompanyStartDate",
        "FiscalYearStartMonth", "Country", "SupportedLanguages", "DefaultTimeZone", "NameValue",
    ),
    "Preferences": (
        "AccountingInfoPrefs.CustomerTerminology", "SalesFormsPrefs.CustomTxnNumbers", "CurrencyPrefs.HomeCurrency",
        "TaxPrefs.UsingSalesTax", "TaxPrefs.TaxGroupCodeRef", "TimeTrackingPrefs.WorkWeekStartDate",
        "OtherPrefs.NameValue",
    ),
}


def test_returned_fields_checker_can_fail() -> None:
    payment = {"Line": [{"Amount": 1, "LineEx": {"any": [{"value": {"Name": "txnId"}}]}}]}
    assert missing_paths(payment, "Line[].LineEx.any[].value.Value") == ["Line[0].LineEx.any[0].value.Value"]
    assert missing_paths({"BillAddr": {"Id": "1"}}, "BillAddr.Lat") == ["BillAddr.Lat"]
    assert missing_paths({"Line": []}, "Line[].Amount") == ["Line[].Amount"]
    assert missing_paths({"A": {"B": 0}}, "A.B") == []


def test_every_entity_returns_what_qbo_returns_by_default(qbo: QboHarness) -> None:
    build_rich_company(qbo)
    objects = collect(qbo)
    assert set(RETURNED) - {"_every"} == set(ENTITIES)
    for entity, rows in objects.items():
        for row in rows:
            if row.get("status") == "Deleted":
                continue  # CDC's deleted stubs carry only Id, status, domain and MetaData
            assert_returns(row, (*RETURNED["_every"], *RETURNED[entity]), f"{entity} {row.get('Id')}")
