"""Xero matches routes without regard to case and answers every refusal under the API root its own way:
plain-text 404s, the 405 ``{"Message"}`` body of its front end, and 413 for a body over 3.5 MB."""

from __future__ import annotations

from xero_harness import API, XeroHarness


def test_routes_match_in_any_case(xero: XeroHarness) -> None:
    lower = xero.ok(xero.http.get("/connections"))
    upper = xero.ok(xero.http.get("/Connections"))
    assert lower == upper and upper[0]["tenantId"] == xero.tenant
    invoice = xero.create_invoice()
    for path in (f"{API}/Invoices", f"{API.upper()}/INVOICES", "/API.xro/2.0/invoices"):
        assert [i["InvoiceID"] for i in xero.ok(xero.http.get(path))["Invoices"]] == [invoice["InvoiceID"]], path
    by_id = xero.ok(xero.http.get(f"/Api.Xro/2.0/Invoices/{invoice['InvoiceID']}"))
    assert by_id["Invoices"][0]["InvoiceNumber"] == invoice["InvoiceNumber"]


def test_unknown_resources_are_xero_404s(xero: XeroHarness) -> None:
    for path in (f"{API}/NoSuchThing", f"{API}/Invoices/abc/Nope", f"{API}/Invoices/a/b/c/d"):
        response = xero.http.get(path)
        assert response.status_code == 404, path
        assert response.text == "The resource you're looking for cannot be found"
        assert response.headers["content-type"].startswith("text/plain")


def test_unsupported_method_is_a_405_message(xero: XeroHarness) -> None:
    response = xero.http.request("PATCH", f"{API}/Invoices")
    assert response.status_code == 405
    assert response.json() == {"Message": "The requested resource does not support http method 'PATCH'."}


def test_body_over_three_and_a_half_megabytes_is_refused(xero: XeroHarness) -> None:
    response = xero.http.post(
        f"{API}/Contacts", content=b'{"Contacts":[]' + b" " * 3_500_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.text == "Request Entity Too Large"


def test_invoice_pdf_for_accept_application_pdf(xero: XeroHarness) -> None:
    invoice = xero.create_invoice()
    response = xero.http.get(f"{API}/Invoices/{invoice['InvoiceID']}", headers={"Accept": "application/pdf"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and invoice["InvoiceNumber"].encode() in response.content
