"""FreshBooks refusals under its API roots in its own shapes (the current accounting form for missing
routes and methods), the invoice extras (``include[]=presentation``, the PDF) and today's invoice fields."""

from __future__ import annotations

from decimal import Decimal

from fb_harness import ACCOUNT, FbHarness


def _invoice(fb: FbHarness) -> dict:
    client = fb.ok(fb.get("users/clients"))["response"]["result"]["clients"][0]
    body = {"invoice": {"customerid": client["id"], "create_date": "2026-03-02",
                        "lines": [{"type": 0, "name": "Design", "unit_cost": {"amount": "40.00"}, "qty": 2}]}}
    return fb.ok(fb.send("POST", "invoices/invoices", body))["response"]["result"]["invoice"]


def test_unknown_accounting_routes_and_methods_in_the_current_form(fb: FbHarness) -> None:
    for response, status in (
        (fb.get("nothing/here"), 404),
        (fb.get("invoices/invoices/1/2/3/4"), 404),
        (fb.send("PATCH", "users/clients/1", {"client": {}}), 405),
    ):
        assert response.status_code == status, response.text
        body = response.json()
        assert body["message"] == f"Request failed with status_code: {status}"
        assert body["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"


def test_unknown_events_route_in_the_events_form(fb: FbHarness) -> None:
    response = fb.http.request("PATCH", f"/events/account/{ACCOUNT}/events/callbacks")
    assert response.status_code == 405 and response.json()["errno"] == 405


def test_oversized_body_is_refused(fb: FbHarness) -> None:
    response = fb.http.post(fb.path("users/clients"), content=b"{" + b" " * 10_000_001 + b"}",
                            headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["details"][0]["metadata"]["message"] == "Request entity too large."


def test_invoice_carries_todays_fields(fb: FbHarness) -> None:
    invoice = _invoice(fb)
    assert invoice["net_paid_amount"] == {"amount": "0.00", "code": "USD"}
    assert invoice["return_uri"] is None and invoice["payment_details"] == ""
    assert invoice["version"] == invoice["updated"]


def test_include_presentation(fb: FbHarness) -> None:
    invoice = _invoice(fb)
    plain = fb.ok(fb.get(f"invoices/invoices/{invoice['id']}"))["response"]["result"]["invoice"]
    assert "presentation" not in plain
    shown = fb.ok(fb.get(f"invoices/invoices/{invoice['id']}", params={"include[]": ["presentation", "lines"]}))
    presentation = shown["response"]["result"]["invoice"]["presentation"]
    assert presentation["invoiceid"] == invoice["id"] and presentation["theme_layout"]
    listed = fb.ok(fb.get("invoices/invoices", params={"include[]": "presentation"}))["response"]["result"]
    assert all(i["presentation"]["invoiceid"] == i["id"] for i in listed["invoices"])


def test_invoice_pdf(fb: FbHarness) -> None:
    invoice = _invoice(fb)
    response = fb.get(f"invoices/invoices/{invoice['id']}/pdf", headers={"Accept": "application/pdf"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and f"Invoice {invoice['invoice_number']}".encode() in response.content
    assert Decimal(invoice["amount"]["amount"]) == Decimal("80.00") and b"80.00" in response.content
