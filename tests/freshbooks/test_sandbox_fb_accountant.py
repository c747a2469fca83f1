"""The accountant's view: the shared action names and fields, through the API's code path."""

from __future__ import annotations

from typing import Any

from fb_harness import ACCOUNT, FbHarness


def act(fb: FbHarness, action: str, **params: Any) -> Any:
    response = fb.http.post(f"/accountant/{ACCOUNT}/api/{action}", json=params)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_action_names_and_fields_match_the_other_sandboxes(fb: FbHarness) -> None:
    actions = {a["name"]: a["fields"] for a in fb.http.get(f"/accountant/{ACCOUNT}/api").json()["actions"]}
    assert actions == {
        "edit_invoice_amount": ["invoice_id", "amount", "line_id"],
        "edit_invoice_number": ["invoice_id", "doc_number"],
        "record_payment": ["invoice_id", "amount", "txn_date", "reference"],
        "void_invoice": ["invoice_id"],
        "delete_invoice": ["invoice_id"],
        "delete_payment": ["payment_id"],
        "rename_customer": ["customer_id", "display_name"],
        "deactivate_customer": ["customer_id"],
    }
    assert fb.http.get(f"/accountant/{ACCOUNT}").status_code == 200


def test_invoice_actions_move_updated_and_keep_status_consistent(fb: FbHarness) -> None:
    invoice = fb.invoice("100.00", "A-1")
    fb.advance(60)
    edited = act(fb, "edit_invoice_amount", invoice_id=invoice["id"], amount="120.50")
    assert edited["amount"]["amount"] == "120.50" and edited["updated"] > invoice["updated"]
    renumbered = act(fb, "edit_invoice_number", invoice_id=invoice["id"], doc_number="A-99")
    assert renumbered["invoice_number"] == "A-99"
    fb.invoice(number="A-2")
    clash = fb.http.post(f"/accountant/{ACCOUNT}/api/edit_invoice_number",
                         json={"invoice_id": invoice["id"], "doc_number": "A-2"})
    assert clash.status_code == 409
    act(fb, "record_payment", invoice_id=invoice["id"], amount="20.50", txn_date="2026-03-03", reference="chq 7")
    after = fb.result(fb.get(f"invoices/invoices/{invoice['id']}"))["invoice"]
    assert (after["payment_status"], after["v3_status"], after["outstanding"]["amount"]) == ("partial", "partial",
                                                                                            "100.00")
    payments = fb.listing("payments/payments", **{"search[invoiceid]": str(invoice["id"])})["payments"]
    assert [(p["amount"]["amount"], p["date"], p["note"]) for p in payments] == [("20.50", "2026-03-03", "chq 7")]
    refused = fb.http.post(f"/accountant/{ACCOUNT}/api/void_invoice", json={"invoice_id": invoice["id"]})
    assert refused.status_code == 422
    fb.advance(60)
    act(fb, "delete_payment", payment_id=payments[0]["id"])  # no void for payments: deleted, vis_state 1
    unpaid = fb.result(fb.get(f"invoices/invoices/{invoice['id']}"))["invoice"]
    assert (unpaid["outstanding"]["amount"], unpaid["paid"]["amount"]) == ("120.50", "0.00")
    assert unpaid["updated"] > after["updated"]  # the change read (`updated_since`) sees it
    assert fb.listing("payments/payments", **{"search[invoiceid]": str(invoice["id"])})["payments"] == []


def test_void_writes_off_and_delete_hides(fb: FbHarness) -> None:
    invoice = fb.invoice("80.00", "A-3")
    voided = act(fb, "void_invoice", invoice_id=invoice["id"])
    assert voided["amount"]["amount"] == "0.00" and voided["vis_state"] == 0
    act(fb, "delete_invoice", invoice_id=invoice["id"])
    assert invoice["id"] not in {i["id"] for i in fb.listing("invoices/invoices")["invoices"]}


def test_customer_actions(fb: FbHarness) -> None:
    client_id = fb.client_id("Cool Cars")
    act(fb, "rename_customer", customer_id=client_id, display_name="Cooler Cars")
    renamed = fb.result(fb.get(f"users/clients/{client_id}"))["client"]
    assert renamed["organization"] == "Cooler Cars"
    act(fb, "deactivate_customer", customer_id=client_id)
    archived = fb.listing("users/clients", **{"search[organization]": "Cooler Cars"})["clients"]
    assert [c["vis_state"] for c in archived] == [2]


def test_actions_fire_webhooks_like_api_calls(fb: FbHarness) -> None:
    invoice = fb.invoice("10.00", "A-4")
    business = fb.sandbox.state.businesses[ACCOUNT]
    fb.sandbox.webhooks.register(business, "ledgerbridge-demo-client", "invoice.update", "http://127.0.0.1:9/h",
                                 verifier="known")
    act(fb, "edit_invoice_amount", invoice_id=invoice["id"], amount="11")
    pending = fb.sandbox.outbox.pending()
    assert len(pending) == 1 and b"name=invoice.update" in pending[0].body


def test_deep_link_and_share_link_pages(fb: FbHarness) -> None:
    invoice = fb.invoice("10.00", "A-5")
    root = fb.http.get("/")
    assert "#\\/invoice\\/" in root.text  # the fragment router for https://my.freshbooks.com-style links
    staff = fb.http.get(f"/view/invoice/{ACCOUNT}-{invoice['id']}")
    assert staff.status_code == 200 and "A-5" in staff.text
    assert fb.http.get(f"/view/invoice/{ACCOUNT}-999999").status_code == 404
    link = fb.result(fb.get(f"invoices/invoices/{invoice['id']}/share_link"))["share_link"]["share_link"]
    assert link.startswith(fb.base_url + "/#/link/") and link.endswith("?type=secondary&share_method=share_link")
