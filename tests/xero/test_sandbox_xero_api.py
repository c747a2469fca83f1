"""Accounting API rules: uniqueness, invoice statuses, totals, paging, If-Modified-Since, where,
summarizeErrors=false and Idempotency-Key replay."""

from __future__ import annotations

from decimal import Decimal

from xero_harness import XeroHarness, loads


def errors_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.text
    return [m["Message"] for e in loads(response.text)["Elements"] for m in e["ValidationErrors"]]


def test_contact_names_are_unique_among_active_contacts(xero: XeroHarness) -> None:
    clash = xero.send("PUT", "Contacts", {"Contacts": [{"Name": "bayside club"}]})
    assert "must be unique across all active contacts" in errors_of(clash)[0]
    contact = xero.contact()
    archived = xero.send("POST", f"Contacts/{contact['ContactID']}", {"Contacts": [{"ContactStatus": "ARCHIVED"}]})
    assert xero.ok(archived)["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert xero.send("PUT", "Contacts", {"Contacts": [{"Name": "Bayside Club"}]}).status_code == 200
    active = xero.ok(xero.get("Contacts"))["Contacts"]
    assert [c["Name"] for c in active].count("Bayside Club") == 1
    everything = xero.ok(xero.get("Contacts", params={"includeArchived": "true"}))["Contacts"]
    assert [c["Name"] for c in everything].count("Bayside Club") == 2
    reactivate = xero.send("POST", f"Contacts/{contact['ContactID']}", {"Contacts": [{"ContactStatus": "ACTIVE"}]})
    assert reactivate.status_code == 400


def test_item_codes_are_unique(xero: XeroHarness) -> None:
    clash = xero.send("PUT", "Items", {"Items": [{"Code": "dev", "Name": "Other"}]})
    assert "unique item code" in errors_of(clash)[0]
    upsert = xero.ok(xero.send("POST", "Items", {"Items": [{"Code": "DEV", "Name": "Dev renamed"}]}))
    assert upsert["Items"][0]["Name"] == "Dev renamed"
    assert len(xero.ok(xero.get("Items"))["Items"]) == 3


def test_invoice_numbers_are_unique_and_generated(xero: XeroHarness) -> None:
    first = xero.create_invoice()
    second = xero.create_invoice()
    assert (first["InvoiceNumber"], second["InvoiceNumber"]) == ("INV-0001", "INV-0002")
    clash = xero.send("PUT", "Invoices", {"Invoices": [xero.invoice_body(InvoiceNumber="INV-0001")]})
    assert errors_of(clash) == ["Invoice # must be unique."]


def test_a_number_is_free_again_once_its_invoice_is_renumbered_and_the_new_one_is_taken(xero: XeroHarness) -> None:
    """Numbers are indexed (`store.InvoiceBook`): the index follows a renumbering, as a scan would."""
    first = xero.create_invoice(InvoiceNumber="A-1")
    renumbered = xero.send("POST", f"Invoices/{first['InvoiceID']}", {"Invoices": [{"InvoiceNumber": "A-2"}]})
    assert xero.ok(renumbered)["Invoices"][0]["InvoiceNumber"] == "A-2"
    clash = xero.send("PUT", "Invoices", {"Invoices": [xero.invoice_body(InvoiceNumber="A-2")]})
    assert errors_of(clash) == ["Invoice # must be unique."]
    again = xero.ok(xero.send("PUT", "Invoices", {"Invoices": [xero.invoice_body(InvoiceNumber="A-1")]}))
    assert again["Invoices"][0]["InvoiceNumber"] == "A-1"
    assert xero.ok(xero.get("Invoices/A-2"))["Invoices"][0]["InvoiceID"] == first["InvoiceID"]


def test_totals_are_exact_decimals(xero: XeroHarness) -> None:
    body = xero.invoice_body()
    body["LineItems"] = [
        {
            "Description": "a",
            "Quantity": Decimal("3"),
            "UnitAmount": Decimal("33.33"),
            "AccountCode": "200",
            "TaxType": "OUTPUT2",
        },
        {"Description": "b", "Quantity": 1, "UnitAmount": Decimal("0.10"), "AccountCode": "200", "TaxType": "NONE"},
    ]
    exclusive = xero.ok(xero.send("PUT", "Invoices", {"Invoices": [body]}))["Invoices"][0]
    assert (exclusive["SubTotal"], exclusive["TotalTax"], exclusive["Total"]) == (
        Decimal("100.09"),
        Decimal("15.00"),
        Decimal("115.09"),
    )
    body["LineAmountTypes"] = "Inclusive"
    inclusive = xero.ok(xero.send("PUT", "Invoices", {"Invoices": [body]}))["Invoices"][0]
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (
        Decimal("87.05"),
        Decimal("13.04"),
        Decimal("100.09"),
    )
    body["LineAmountTypes"] = "NoTax"
    assert xero.ok(xero.send("PUT", "Invoices", {"Invoices": [body]}))["Invoices"][0]["TotalTax"] == 0


def test_status_transitions(xero: XeroHarness) -> None:
    draft = xero.create_invoice(status="DRAFT")
    path = f"Invoices/{draft['InvoiceID']}"
    assert xero.ok(xero.send("POST", path, {"Status": "SUBMITTED"}))["Invoices"][0]["Status"] == "SUBMITTED"
    assert xero.ok(xero.send("POST", path, {"Status": "DELETED"}))["Invoices"][0]["Status"] == "DELETED"
    assert xero.send("POST", path, {"Status": "DRAFT"}).status_code == 400
    approved = xero.create_invoice()
    path = f"Invoices/{approved['InvoiceID']}"
    assert "void" in errors_of(xero.send("POST", path, {"Status": "DELETED"}))[0]
    assert xero.send("POST", path, {"Status": "DRAFT"}).status_code == 400
    assert xero.send("PUT", "Invoices", {"Invoices": [xero.invoice_body(status="PAID")]}).status_code == 400
    payment = {"Invoice": {"InvoiceID": approved["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": "40.00"}
    made = xero.ok(xero.send("PUT", "Payments", {"Payments": [payment]}))["Payments"][0]
    assert "payments" in errors_of(xero.send("POST", path, {"Status": "VOIDED"}))[0]
    over = dict(payment, Amount="80.01")
    assert "exceeds" in errors_of(xero.send("PUT", "Payments", {"Payments": [over]}))[0]
    xero.ok(xero.send("PUT", "Payments", {"Payments": [dict(payment, Amount="75.00")]}))
    paid = xero.ok(xero.get(path))["Invoices"][0]
    assert (paid["Status"], paid["AmountDue"], paid["AmountPaid"]) == ("PAID", 0, Decimal("115.00"))
    assert "FullyPaidOnDate" in paid
    assert errors_of(xero.send("POST", path, {"Reference": "late edit"})) == [
        "Invoice not of valid status for modification"
    ]
    xero.ok(xero.send("POST", f"Payments/{made['PaymentID']}", {"Status": "DELETED"}))
    reopened = xero.ok(xero.get(path))["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"]) == ("AUTHORISED", Decimal("40.00"))


def test_paging(xero: XeroHarness) -> None:
    for _ in range(5):
        xero.create_invoice()
    page1 = xero.ok(xero.get("Invoices", params={"page": 1, "pageSize": 2}))
    assert page1["pagination"] == {"page": 1, "pageSize": 2, "pageCount": 3, "itemCount": 5}
    page3 = xero.ok(xero.get("Invoices", params={"page": 3, "pageSize": 2}))
    assert [i["InvoiceNumber"] for i in page3["Invoices"]] == ["INV-0005"]
    assert xero.ok(xero.get("Invoices", params={"page": 4, "pageSize": 2}))["Invoices"] == []
    default = xero.ok(xero.get("Invoices"))
    assert default["pagination"]["pageSize"] == 100


def test_if_modified_since_and_where(xero: XeroHarness) -> None:
    old = xero.create_invoice()
    xero.sandbox.advance(60)
    mark = xero.sandbox.clock.now()
    xero.sandbox.advance(1)
    new = xero.create_invoice(status="DRAFT")
    since = {"If-Modified-Since": mark.isoformat()}
    changed = xero.ok(xero.get("Invoices", headers=since))["Invoices"]
    assert [i["InvoiceID"] for i in changed] == [new["InvoiceID"]]
    xero.send("POST", f"Invoices/{old['InvoiceID']}", {"Status": "VOIDED"})
    changed = xero.ok(xero.get("Invoices", headers=since))["Invoices"]
    assert {i["Status"] for i in changed} == {"DRAFT", "VOIDED"}
    drafts = xero.ok(xero.get("Invoices", params={"where": 'Type=="ACCREC" AND Status=="DRAFT"'}))["Invoices"]
    assert [i["InvoiceID"] for i in drafts] == [new["InvoiceID"]]
    by_contact = xero.get("Invoices", params={"where": f'Contact.ContactID==Guid("{xero.contact()["ContactID"]}")'})
    assert len(xero.ok(by_contact)["Invoices"]) == 2
    assert len(xero.ok(xero.get("Invoices", params={"Statuses": "VOIDED,DRAFT"}))["Invoices"]) == 2
    revenue = xero.ok(xero.get("Accounts", params={"where": 'Class=="REVENUE"'}))["Accounts"]
    assert {a["Class"] for a in revenue} == {"REVENUE"} and len(revenue) == 3
    bad = xero.get("Invoices", params={"where": 'Status=="DRAFT" AND'})
    assert bad.status_code == 400 and loads(bad.text)["Type"] == "QueryParseException"


def test_summarize_errors_false_reports_each_element(xero: XeroHarness) -> None:
    good = xero.invoice_body()
    bad = xero.invoice_body()
    bad["LineItems"][0]["AccountCode"] = "999"
    response = xero.send("PUT", "Invoices", {"Invoices": [good, bad]}, params={"summarizeErrors": "false"})
    results = xero.ok(response)["Invoices"]
    assert [r["StatusAttributeString"] for r in results] == ["OK", "ERROR"]
    assert results[1]["HasErrors"] is True
    assert "not a valid code" in results[1]["ValidationErrors"][0]["Message"]
    assert xero.ok(xero.get("Invoices"))["pagination"]["itemCount"] == 1
    summarized = xero.send("PUT", "Invoices", {"Invoices": [good, bad]})
    assert summarized.status_code == 400
    assert len(loads(summarized.text)["Elements"]) == 1


def test_idempotency_key_replays_the_first_answer(xero: XeroHarness) -> None:
    headers = {"Idempotency-Key": "export-run-42"}
    body = {"Invoices": [xero.invoice_body()]}
    first = xero.send("PUT", "Invoices", body, headers=headers)
    second = xero.send("PUT", "Invoices", body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert xero.ok(xero.get("Invoices"))["pagination"]["itemCount"] == 1
    other = xero.send("PUT", "Invoices", {"Invoices": [xero.invoice_body(amount="5.00")]}, headers=headers)
    assert other.status_code == 400
    too_long = xero.send("PUT", "Invoices", body, headers={"Idempotency-Key": "k" * 129})
    assert too_long.status_code == 400
    xero.sandbox.advance(86400)
    assert xero.send("PUT", "Invoices", body, headers=headers).content != first.content


def test_contact_by_name_on_invoice_is_created(xero: XeroHarness) -> None:
    body = xero.invoice_body()
    body["Contact"] = {"Name": "Brand New Customer"}
    invoice = xero.ok(xero.send("PUT", "Invoices", {"Invoices": [body]}))["Invoices"][0]
    created = xero.contact("Brand New Customer")
    assert invoice["Contact"]["ContactID"] == created["ContactID"] and created["IsCustomer"] is True


def test_unknown_invoice_is_plain_text_404(xero: XeroHarness) -> None:
    response = xero.get("Invoices/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.text == "The resource you're looking for cannot be found"
