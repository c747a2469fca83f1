"""Every refusal under /v3 is a QBO Fault: unknown sub-resources, unsupported methods, oversized bodies,
and what python-quickbooks sends that real QBO accepts (empty strings for unset fields, Qty 0 lines)."""

from __future__ import annotations

from decimal import Decimal

from qbo_harness import QboHarness


def test_unknown_sub_resource_and_method_are_qbo_faults(qbo: QboHarness) -> None:
    for response in (
        qbo.get("customer/1/5"),
        qbo.get("invoice/1/history"),
        qbo.get("nosuchentity/1"),
        qbo.http.delete(qbo.path("invoice/1")),
        qbo.http.put(qbo.path("customer"), content=b"{}"),
        qbo.http.get(qbo.path("invoice/1/pdf/extra/parts")),
    ):
        assert response.status_code == 400, (response.request.url, response.text)
        error = qbo.fault(response)
        assert error["code"] == "500" and error["Message"] == "Unsupported Operation"


def test_oversized_body_is_a_system_fault(qbo: QboHarness) -> None:
    response = qbo.http.post(
        qbo.path("customer"), content=b"{" + b" " * 10_000_001 + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["Fault"]["type"] == "SystemFault"


def test_outside_the_api_root_the_framework_answers(qbo: QboHarness) -> None:
    response = qbo.http.get("/no/such/page")
    assert response.status_code == 404 and "Fault" not in response.json()


def test_invoice_pdf_is_a_pdf_of_that_invoice(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("42.50"))
    response = qbo.http.get(qbo.path(f"invoice/{invoice['Id']}/pdf"), headers={"Accept": "application/pdf"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-1.4") and response.content.rstrip().endswith(b"%%EOF")
    assert f"Invoice {invoice['DocNumber']}".encode() in response.content and b"42.50" in response.content
    assert qbo.fault(qbo.http.get(qbo.path("invoice/99999/pdf")))["code"] == "610"


def test_empty_strings_for_unset_typed_fields_count_as_unset(qbo: QboHarness) -> None:
    customer = qbo.create(
        "customer", {"DisplayName": "Empty Strings Ltd", "OpenBalanceDate": "", "Balance": "", "Taxable": ""}
    )
    assert "OpenBalanceDate" not in customer
    body = qbo.invoice_body("10.00", DueDate="", TxnDate="", Deposit="")
    invoice = qbo.create("invoice", body)
    assert invoice["DueDate"] and invoice["TxnDate"] and Decimal(invoice["TotalAmt"]) == Decimal("10.00")
    bad = qbo.post("invoice", qbo.invoice_body("10.00", DueDate="not a date"))
    assert qbo.fault(bad)["code"] == "2010"


def test_zero_qty_and_unit_price_with_an_amount_price_the_line_from_the_amount(qbo: QboHarness) -> None:
    body = qbo.invoice_body("75.00")
    body["Line"][0]["SalesItemLineDetail"].update({"Qty": 0, "UnitPrice": 0})
    line = qbo.create("invoice", body)["Line"][0]
    assert Decimal(line["Amount"]) == Decimal("75.00")
    assert "Qty" not in line["SalesItemLineDetail"] and "UnitPrice" not in line["SalesItemLineDetail"]
    mismatched = qbo.invoice_body("75.00")
    mismatched["Line"][0]["SalesItemLineDetail"].update({"Qty": 2, "UnitPrice": 10})
    assert qbo.fault(qbo.post("invoice", mismatched))["code"] == "6000"


def test_addresses_get_ids_that_survive_unchanged_updates(qbo: QboHarness) -> None:
    address = {"Line1": "1 Main St", "City": "Palo Alto", "CountrySubDivisionCode": "CA", "PostalCode": "94301"}
    customer = qbo.create("customer", {"DisplayName": "Address Co", "BillAddr": address})
    bill = customer["BillAddr"]
    assert bill["Id"].isdigit() and bill["Lat"] == "INVALID" and bill["Long"] == "INVALID"
    same = qbo.create("customer", {**customer, "sparse": True, "Notes": "n"})
    assert same["BillAddr"]["Id"] == bill["Id"]
    moved = qbo.create(
        "customer", {"Id": customer["Id"], "SyncToken": same["SyncToken"], "sparse": True,
                     "BillAddr": {**address, "Line1": "2 Main St"}}
    )
    assert moved["BillAddr"]["Id"] != bill["Id"]
    invoice = qbo.create("invoice", qbo.invoice_body("5.00", customer="Address Co"))
    assert invoice["BillAddr"]["Line1"] == "2 Main St" and invoice["BillAddr"]["Id"] not in (bill["Id"],
                                                                                             moved["BillAddr"]["Id"])
