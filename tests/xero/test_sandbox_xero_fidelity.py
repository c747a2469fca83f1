"""Every endpoint the sandbox serves answers with JSON that fits Xero's official OpenAPI schemas, and
the request bodies the tests send fit the request schemas too."""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from xero_harness import API, XeroHarness, loads
from xero_schema import OpenApiSchemas

from tests.contracts.returned_fields import assert_returns

MS_DATE = re.compile(r"^/Date\(\d+\+0000\)/$")


@pytest.fixture(scope="module")
def accounting(xero_specs: Path) -> OpenApiSchemas:
    return OpenApiSchemas(xero_specs / "xero" / "xero_accounting.yaml")


@pytest.fixture(scope="module")
def identity(xero_specs: Path) -> OpenApiSchemas:
    return OpenApiSchemas(xero_specs / "xero" / "xero-identity.yaml")


def _msdate_fields(schemas: OpenApiSchemas, name: str) -> set[str]:
    props = schemas.spec["components"]["schemas"][name]["properties"]
    return {k for k, v in props.items() if v.get("x-is-msdate") or v.get("x-is-msdate-time")}


def check(schemas: OpenApiSchemas, response: httpx.Response, path: str, method: str = "get") -> Any:
    assert response.status_code == 200, response.text
    body = loads(response.text)
    schemas.validate_against(body, schemas.response_schema(path, method))
    return body


def test_schema_validation_can_fail(accounting: OpenApiSchemas) -> None:
    with pytest.raises(jsonschema.ValidationError):
        accounting.validate({"Invoices": [{"Status": "OPEN"}]}, "Invoices")
    with pytest.raises(jsonschema.ValidationError):
        accounting.validate({"Contacts": [{"Name": 5}]}, "Contacts")


def test_read_endpoints_fit_the_spec(xero: XeroHarness, accounting: OpenApiSchemas) -> None:
    invoice = xero.create_invoice()
    payment = xero.ok(
        xero.send(
            "PUT",
            "Payments",
            {
                "Payments": [
                    {
                        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                        "Account": {"Code": "090"},
                        "Amount": Decimal("10.00"),
                    }
                ]
            },
        )
    )["Payments"][0]
    contacts = check(accounting, xero.get("Contacts"), "/Contacts")
    contact_id = contacts["Contacts"][0]["ContactID"]
    check(accounting, xero.get(f"Contacts/{contact_id}"), "/Contacts/{ContactID}")
    items = check(accounting, xero.get("Items"), "/Items")
    check(accounting, xero.get(f"Items/{items['Items'][0]['ItemID']}"), "/Items/{ItemID}")
    accounts = check(accounting, xero.get("Accounts", params={"where": 'Class=="REVENUE"'}), "/Accounts")
    check(accounting, xero.get(f"Accounts/{accounts['Accounts'][0]['AccountID']}"), "/Accounts/{AccountID}")
    check(accounting, xero.get("TaxRates"), "/TaxRates")
    invoices = check(accounting, xero.get("Invoices", params={"page": 1}), "/Invoices")
    one = check(accounting, xero.get(f"Invoices/{invoice['InvoiceID']}"), "/Invoices/{InvoiceID}")
    check(accounting, xero.get("Payments", params={"page": 1}), "/Payments")
    check(accounting, xero.get(f"Payments/{payment['PaymentID']}"), "/Payments/{PaymentID}")
    org = check(accounting, xero.get("Organisation"), "/Organisation")
    check(accounting, xero.get(f"Invoices/{invoice['InvoiceID']}/OnlineInvoice"), "/Invoices/{InvoiceID}/OnlineInvoice")
    assert invoices["pagination"]["itemCount"] == 1
    assert org["Organisations"][0]["ShortCode"] == "!mBdtL"
    full = one["Invoices"][0]
    for name in _msdate_fields(accounting, "Invoice") & set(full):
        assert MS_DATE.match(full[name]), (name, full[name])
    assert full["DateString"] == "2026-03-02T00:00:00"
    assert MS_DATE.match(contacts["Contacts"][0]["UpdatedDateUTC"])


def test_write_endpoints_and_request_bodies_fit_the_spec(xero: XeroHarness, accounting: OpenApiSchemas) -> None:
    contact_body = {"Contacts": [{"Name": "Spec Check Ltd", "EmailAddress": "a@b.example"}]}
    accounting.validate_against(contact_body, accounting.request_schema("/Contacts", "put"))
    created = check(accounting, xero.send("PUT", "Contacts", contact_body), "/Contacts", "put")
    contact_id = created["Contacts"][0]["ContactID"]
    update = {"Contacts": [{"ContactID": contact_id, "Name": "Spec Check Limited"}]}
    accounting.validate_against(update, accounting.request_schema("/Contacts/{ContactID}", "post"))
    check(accounting, xero.send("POST", f"Contacts/{contact_id}", update), "/Contacts/{ContactID}", "post")
    check(accounting, xero.send("POST", "Contacts", update), "/Contacts", "post")

    item_body = {"Items": [{"Code": "SPEC", "Name": "Spec item", "SalesDetails": {"UnitPrice": Decimal("5.00")}}]}
    accounting.validate_against(item_body, accounting.request_schema("/Items", "put"))
    item = check(accounting, xero.send("PUT", "Items", item_body), "/Items", "put")["Items"][0]
    check(accounting, xero.send("POST", "Items", item_body), "/Items", "post")
    check(
        accounting,
        xero.send("POST", f"Items/{item['ItemID']}", {"Items": [{"Name": "Renamed"}]}),
        "/Items/{ItemID}",
        "post",
    )

    invoice_body = {"Invoices": [xero.invoice_body()]}
    accounting.validate_against(invoice_body, accounting.request_schema("/Invoices", "put"))
    invoice = check(accounting, xero.send("PUT", "Invoices", invoice_body), "/Invoices", "put")["Invoices"][0]
    check(
        accounting,
        xero.send("POST", "Invoices", {"Invoices": [xero.invoice_body(status="DRAFT")]}),
        "/Invoices",
        "post",
    )
    check(
        accounting,
        xero.send("POST", f"Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Reference": "R1"}]}),
        "/Invoices/{InvoiceID}",
        "post",
    )

    payment_body = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Amount": Decimal("5.00"),
        "Date": "2026-03-02",
    }
    accounting.validate_against(payment_body, accounting.request_schema("/Payments", "post"))
    accounting.validate_against({"Payments": [payment_body]}, accounting.request_schema("/Payments", "put"))
    check(accounting, xero.send("PUT", "Payments", {"Payments": [payment_body]}), "/Payments", "put")
    payment = check(accounting, xero.send("POST", "Payments", payment_body), "/Payments", "post")["Payments"][0]
    delete = {"Status": "DELETED"}
    accounting.validate_against(delete, accounting.request_schema("/Payments/{PaymentID}", "post"))
    check(accounting, xero.send("POST", f"Payments/{payment['PaymentID']}", delete), "/Payments/{PaymentID}", "post")


def test_validation_errors_fit_the_error_schema(xero: XeroHarness, accounting: OpenApiSchemas) -> None:
    xero.create_invoice(InvoiceNumber="DUP-1")
    response = xero.send("PUT", "Invoices", {"Invoices": [xero.invoice_body(InvoiceNumber="DUP-1")]})
    assert response.status_code == 400
    body = loads(response.text)
    accounting.validate_against(body, accounting.response_schema("/Invoices", "put", "400"))
    assert body["Type"] == "ValidationException" and body["ErrorNumber"] == 10
    assert body["Elements"][0]["ValidationErrors"] == [{"Message": "Invoice # must be unique."}]


def test_identity_endpoints_fit_the_spec(xero: XeroHarness, identity: OpenApiSchemas) -> None:
    connections = xero.http.get("/connections")
    assert connections.status_code == 200
    body = loads(connections.text)
    identity.validate_against(body, identity.response_schema("/Connections", "get"))
    assert body[0]["tenantId"] == xero.tenant and body[0]["authEventId"] == xero.tokens["auth_event_id"]
    basic = base64.b64encode(b"ledgerbridge-demo-client:ledgerbridge-demo-secret").decode()
    refreshed = httpx.post(
        f"{xero.base_url}/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": xero.tokens["refresh_token"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    token = loads(refreshed.text)
    identity.validate(token, "AccessToken")
    assert set(token) == {"id_token", "access_token", "expires_in", "token_type", "refresh_token", "scope"}
    assert token["expires_in"] == 1800 and token["token_type"] == "Bearer"
    gone = xero.http.delete(f"/connections/{body[0]['id']}")
    assert gone.status_code == 204
    assert xero.http.delete(f"/connections/{body[0]['id']}").status_code == 404
    assert API  # the accounting API prefix is shared with the harness


#: What Xero returns by default for each served endpoint (Xero's OpenAPI marks nearly nothing required,
#: so this list, from the spec's examples and xero-python's recorded cassettes (FACTS XPY), is what makes
#: a field that goes missing fail). ``[]`` steps into every element of a list.
RETURNED: dict[str, tuple[str, ...]] = {
    "envelope": ("Id", "Status", "ProviderName", "DateTimeUTC"),
    "Contacts[]": (
        "ContactID", "ContactStatus", "Name", "Addresses", "Phones", "ContactGroups",
        "ContactPersons", "UpdatedDateUTC", "IsSupplier", "IsCustomer", "HasAttachments",
    ),
    "Items[]": ("ItemID", "Code", "Name", "UpdatedDateUTC", "IsSold", "IsPurchased", "SalesDetails.UnitPrice"),
    "Accounts[]": ("AccountID", "Code", "Name", "Type", "Status", "TaxType", "Class", "UpdatedDateUTC"),
    "TaxRates[]": ("Name", "TaxType", "Status", "EffectiveRate", "DisplayTaxRate", "TaxComponents[].Name"),
    "Invoices[]": (
        "InvoiceID", "InvoiceNumber", "Type", "Status", "LineAmountTypes", "Date", "DateString", "DueDate",
        "DueDateString", "CurrencyCode", "CurrencyRate", "SubTotal", "TotalTax", "Total", "AmountDue",
        "AmountPaid", "AmountCredited", "UpdatedDateUTC", "HasErrors", "IsDiscounted", "HasAttachments",
        "Payments", "CreditNotes", "Prepayments", "Overpayments", "Contact.ContactID", "Contact.Name",
        "Contact.ContactStatus", "Contact.Addresses", "Contact.Phones", "Contact.ContactGroups",
        "Contact.ContactPersons", "Contact.HasValidationErrors", "LineItems[].LineItemID",
        "LineItems[].Description", "LineItems[].Quantity", "LineItems[].UnitAmount", "LineItems[].LineAmount",
        "LineItems[].AccountCode", "LineItems[].TaxType", "LineItems[].TaxAmount", "LineItems[].Tracking",
    ),
    "Payments[]": (
        "PaymentID", "Date", "Amount", "Reference", "CurrencyRate", "Status", "PaymentType", "UpdatedDateUTC",
        "HasAccount", "HasValidationErrors", "Invoice.InvoiceID", "Invoice.InvoiceNumber", "Invoice.Contact.Name",
        "Account.AccountID", "Account.Code",
    ),
    "Organisations[]": (
        "OrganisationID", "Name", "LegalName", "PaysTax", "Version", "OrganisationType", "BaseCurrency",
        "CountryCode", "IsDemoCompany", "OrganisationStatus", "TaxNumber", "FinancialYearEndDay",
        "FinancialYearEndMonth", "SalesTaxBasis", "SalesTaxPeriod", "DefaultSalesTax", "DefaultPurchasesTax",
        "PeriodLockDate", "EndOfYearLockDate", "CreatedDateUTC", "Timezone", "OrganisationEntityType",
        "ShortCode", "Class", "Edition", "LineOfBusiness", "Addresses[].AddressType", "Addresses[].AddressLine1",
        "Addresses[].City", "Addresses[].PostalCode", "Addresses[].Country", "Phones[].PhoneType",
        "Phones[].PhoneNumber", "ExternalLinks", "PaymentTerms",
    ),
    "OnlineInvoices[]": ("OnlineInvoiceUrl",),
    "Connections[]": ("id", "authEventId", "tenantId", "tenantType", "tenantName", "createdDateUtc",
                      "updatedDateUtc"),
}


def _returns(body: Any, collection: str) -> None:
    """Every element of ``collection`` in ``body`` (and the envelope) carries its RETURNED paths."""
    if collection != "Connections":
        assert_returns(body, RETURNED["envelope"], "envelope")
    rows = body if collection == "Connections" else body[collection]
    assert rows, collection
    for row in rows:
        assert_returns(row, RETURNED[f"{collection}[]"], collection)


def test_every_endpoint_returns_what_xero_returns_by_default(xero: XeroHarness) -> None:
    invoice = xero.create_invoice()
    payment = xero.ok(
        xero.send(
            "PUT",
            "Payments",
            {"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"},
                           "Amount": Decimal("10.00")}]},
        )
    )["Payments"][0]
    contacts = xero.ok(xero.get("Contacts"))
    _returns(contacts, "Contacts")
    _returns(xero.ok(xero.get(f"Contacts/{contacts['Contacts'][0]['ContactID']}")), "Contacts")
    items = xero.ok(xero.get("Items"))
    _returns(items, "Items")
    _returns(xero.ok(xero.get(f"Items/{items['Items'][0]['ItemID']}")), "Items")
    _returns(xero.ok(xero.get("Accounts", params={"where": 'Class=="REVENUE"'})), "Accounts")
    _returns(xero.ok(xero.get("TaxRates", params={"where": 'Status=="ACTIVE"'})), "TaxRates")
    _returns(xero.ok(xero.get("Invoices", params={"page": 1})), "Invoices")
    _returns(xero.ok(xero.get(f"Invoices/{invoice['InvoiceID']}")), "Invoices")
    _returns(xero.ok(xero.get("Payments", params={"page": 1})), "Payments")
    _returns(xero.ok(xero.get(f"Payments/{payment['PaymentID']}")), "Payments")
    _returns(xero.ok(xero.get("Organisation")), "Organisations")
    _returns(xero.ok(xero.get(f"Invoices/{invoice['InvoiceID']}/OnlineInvoice")), "OnlineInvoices")
    _returns(xero.ok(xero.http.get("/connections")), "Connections")
    # writes answer with the same shape as reads
    created = xero.ok(xero.send("PUT", "Contacts", {"Contacts": [{"Name": "Returned Fields Ltd"}]}))
    _returns(created, "Contacts")
    _returns(xero.ok(xero.send("PUT", "Invoices", {"Invoices": [xero.invoice_body()]})), "Invoices")


def test_returned_fields_check_can_fail(xero: XeroHarness) -> None:
    org = xero.ok(xero.get("Organisation"))
    del org["Organisations"][0]["Addresses"][0]["City"]
    with pytest.raises(AssertionError, match=r"Addresses\[0\]\.City"):
        _returns(org, "Organisations")
