"""The accountant's view: bookkeeper edits must look exactly like QBO edits to the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import httpx
import pytest
from ledgerbridge_quickbooks.sandbox import SandboxConfig
from qbo_harness import START, QboHarness, loads


@pytest.fixture
def qbo(qbo_factory) -> QboHarness:  # type: ignore[no-untyped-def]
    """Webhooks enabled (never flushed) so that emitted events can be inspected."""
    return qbo_factory(SandboxConfig(webhook_url="http://127.0.0.1:9/unused", webhook_verifier_token="t"))


def act(qbo: QboHarness, action: str, **params: object) -> httpx.Response:
    return qbo.http.post(f"/accountant/{qbo.realm}/api/{action}", json={k: str(v) for k, v in params.items()})


def events(qbo: QboHarness) -> list[tuple[str, str, str]]:
    return [(e.entity, e.entity_id, e.operation) for e in qbo.sandbox.webhooks.pending_events()]


def cdc_ids(qbo: QboHarness, entity: str, since: str) -> dict[str, dict]:
    body = qbo.ok(qbo.get("cdc", params={"entities": entity, "changedSince": since}))
    rows = body["CDCResponse"][0]["QueryResponse"][0].get(entity, [])
    return {row["Id"]: row for row in rows}


def later() -> str:
    return (START + timedelta(minutes=1)).isoformat()


def test_edit_invoice_amount_goes_through_the_api_path(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("100.00"))
    qbo.advance(300)
    response = act(qbo, "edit_invoice_amount", invoice_id=invoice["Id"], amount="125.50")
    assert response.status_code == 200, response.text
    after = qbo.read("invoice", invoice["Id"])
    assert after["TotalAmt"] == Decimal("125.50") and after["Balance"] == Decimal("125.50")
    assert after["SyncToken"] == "1"
    assert after["MetaData"]["LastUpdatedTime"] == "2026-03-02T10:05:00-08:00"
    assert invoice["Id"] in cdc_ids(qbo, "Invoice", later())
    assert ("Invoice", invoice["Id"], "Update") in events(qbo)
    stale = qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "mine"})
    assert qbo.fault(stale)["code"] == "5010"  # the integration's copy is now stale


def test_edit_invoice_number_and_duplicate_refusal(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body())
    assert act(qbo, "edit_invoice_number", invoice_id=invoice["Id"], doc_number="INV-2026-7").status_code == 200
    assert qbo.query("SELECT * FROM Invoice WHERE DocNumber = 'INV-2026-7'")["Invoice"][0]["Id"] == invoice["Id"]
    refused = act(qbo, "edit_invoice_number", invoice_id=invoice["Id"], doc_number="1001")
    assert refused.status_code == 400 and "6140" in refused.json()["error"]


def test_record_payment(qbo: QboHarness) -> None:
    invoice = qbo.create("invoice", qbo.invoice_body("80.00"))
    response = act(qbo, "record_payment", invoice_id=invoice["Id"], amount="30.00", reference="CHK-1")
    payment = response.json()["result"]
    assert qbo.read("invoice", invoice["Id"])["Balance"] == Decimal("50.00")
    assert qbo.read("payment", payment["Id"])["PaymentRefNum"] == "CHK-1"
    assert ("Payment", payment["Id"], "Create") in events(qbo)
    too_much = act(qbo, "record_payment", invoice_id=invoice["Id"], amount="60.00")
    assert too_much.status_code == 400


def test_void_and_delete(qbo: QboHarness) -> None:
    to_void = qbo.create("invoice", qbo.invoice_body("20.00"))
    to_delete = qbo.create("invoice", qbo.invoice_body("21.00"))
    assert act(qbo, "void_invoice", invoice_id=to_void["Id"]).status_code == 200
    assert act(qbo, "delete_invoice", invoice_id=to_delete["Id"]).status_code == 200
    assert qbo.read("invoice", to_void["Id"])["TotalAmt"] == 0
    assert qbo.fault(qbo.get(f"invoice/{to_delete['Id']}"))["code"] == "610"
    changed = cdc_ids(qbo, "Invoice", START.isoformat())
    assert changed[to_delete["Id"]]["status"] == "Deleted"
    assert ("Invoice", to_void["Id"], "Void") in events(qbo)
    assert ("Invoice", to_delete["Id"], "Delete") in events(qbo)


def test_delete_and_void_a_payment(qbo: QboHarness) -> None:
    """Deleted: gone, shown in CDC as Deleted; voided: kept at zero. Either way the invoice owes the
    amount again and changes (a new LastUpdatedTime, so CDC returns it), as in QuickBooks."""
    invoice = qbo.create("invoice", qbo.invoice_body("80.00"))
    deleted = act(qbo, "record_payment", invoice_id=invoice["Id"], amount="30.00").json()["result"]
    voided = act(qbo, "record_payment", invoice_id=invoice["Id"], amount="20.00").json()["result"]
    qbo.advance(300)
    assert act(qbo, "delete_payment", payment_id=deleted["Id"]).status_code == 200
    assert qbo.fault(qbo.get(f"payment/{deleted['Id']}"))["code"] == "610"
    assert cdc_ids(qbo, "Payment", later())[deleted["Id"]]["status"] == "Deleted"
    after = qbo.read("invoice", invoice["Id"])
    assert after["Balance"] == Decimal("60.00") and invoice["Id"] in cdc_ids(qbo, "Invoice", later())
    assert act(qbo, "void_payment", payment_id=voided["Id"]).status_code == 200
    kept = qbo.read("payment", voided["Id"])
    assert kept["TotalAmt"] == 0 and kept["PrivateNote"] == "Voided"
    after = qbo.read("invoice", invoice["Id"])
    assert after["Balance"] == Decimal("80.00")
    assert [x for x in after.get("LinkedTxn", []) if x.get("TxnType") == "Payment"] == []
    assert ("Payment", deleted["Id"], "Delete") in events(qbo) and ("Payment", voided["Id"], "Void") in events(qbo)


def test_rename_and_deactivate_customer(qbo: QboHarness) -> None:
    customer = qbo.find("Customer", "DisplayName", "Cool Cars")
    assert act(qbo, "rename_customer", customer_id=customer["Id"], display_name="Cooler Cars").status_code == 200
    assert qbo.read("customer", customer["Id"])["DisplayName"] == "Cooler Cars"
    duplicate = act(qbo, "rename_customer", customer_id=customer["Id"], display_name="Bill's Windsurf Shop")
    assert duplicate.status_code == 400 and "6240" in duplicate.json()["error"]
    assert act(qbo, "deactivate_customer", customer_id=customer["Id"]).status_code == 200
    names = [c["DisplayName"] for c in qbo.query("SELECT * FROM Customer")["Customer"]]
    assert "Cooler Cars" not in names
    assert qbo.read("customer", customer["Id"])["SyncToken"] == "2"


def test_merge_customers(qbo: QboHarness) -> None:
    source = qbo.find("Customer", "DisplayName", "Cool Cars")
    target = qbo.find("Customer", "DisplayName", "Bill's Windsurf Shop")
    invoice = qbo.create("invoice", qbo.invoice_body("15.00"))
    assert act(qbo, "merge_customers", from_id=source["Id"], into_id=target["Id"]).status_code == 200
    assert qbo.read("invoice", invoice["Id"])["CustomerRef"]["value"] == target["Id"]
    assert cdc_ids(qbo, "Customer", START.isoformat())[source["Id"]]["status"] == "Deleted"
    merge = [e for e in qbo.sandbox.webhooks.pending_events() if e.operation == "Merge"]
    assert merge and merge[0].entity_id == target["Id"] and merge[0].deleted_id == source["Id"]


class Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.actions.append(dict(attrs).get("action") or "")


def test_html_page_and_form_post(qbo: QboHarness) -> None:
    page = qbo.http.get(f"/accountant/{qbo.realm}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "1001" in page.text and "Amy&#x27;s Bird Sanctuary" in page.text
    forms = Forms()
    forms.feed(page.text)
    assert f"/accountant/{qbo.realm}/do/void_invoice" in forms.actions
    invoice = qbo.find("Invoice", "DocNumber", "1001")
    posted = qbo.http.post(
        f"/accountant/{qbo.realm}/do/edit_invoice_number", data={"invoice_id": invoice["Id"], "doc_number": "A-1001"}
    )
    assert posted.status_code == 303 and "msg=" in posted.headers["location"]
    assert qbo.read("invoice", invoice["Id"])["DocNumber"] == "A-1001"
    failed = qbo.http.post(
        f"/accountant/{qbo.realm}/do/edit_invoice_number", data={"invoice_id": invoice["Id"], "doc_number": "Z" * 30}
    )
    assert failed.status_code == 303 and "err=" in failed.headers["location"]
    assert qbo.http.get("/accountant/000").status_code == 404


def test_deep_link_renders_the_invoice(qbo: QboHarness) -> None:
    invoice = qbo.find("Invoice", "DocNumber", "1001")
    page = qbo.http.get("/app/invoice", params={"txnId": invoice["Id"]})
    assert page.status_code == 200
    assert "Invoice 1001" in page.text and "Partially paid" in page.text and "250.00" in page.text
    qbo.ok(
        qbo.post("invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, params={"operation": "delete"})
    )
    assert qbo.http.get("/app/invoice", params={"txnId": invoice["Id"]}).status_code == 404


def test_api_state_lists_tables_and_actions(qbo: QboHarness) -> None:
    state = loads(qbo.http.get(f"/accountant/{qbo.realm}/api").text)
    assert {t["title"] for t in state["tables"]} == {"Invoices", "Payments", "Time", "Customers"}
    assert "record_payment" in {a["name"] for a in state["actions"]}
