"""Signed webhooks, the intent-to-receive handshake, and the accountant's view actions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from ledgerbridge_testing.sandbox.server import serve
from ledgerbridge_testing.sandbox.webhooks import sign_hmac_sha256_base64
from ledgerbridge_xero.sandbox import SandboxConfig
from xero_harness import NZ, XeroHarness, loads
from xero_schema import OpenApiSchemas

KEY = "test-webhook-key-0123456789"


class Receiver:
    """A webhook endpoint that verifies x-xero-signature as an app must (or, if sloppy, does not)."""

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict
        self.accepted: list[bytes] = []
        self.rejected = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        signature = dict(scope["headers"]).get(b"x-xero-signature", b"").decode()
        expected = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
        ok = hmac.compare_digest(signature, expected) or not self.strict
        if ok:
            self.accepted.append(body)
        else:
            self.rejected += 1
        await send({"type": "http.response.start", "status": 200 if ok else 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    with serve(app) as url:
        yield app, url


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"X"}'
    expected = base64.b64encode(hmac.new(b"key", body, hashlib.sha256).digest()).decode()
    assert sign_hmac_sha256_base64("key", body) == expected
    assert sign_hmac_sha256_base64("key", body + b" ") != expected


async def test_handshake_then_signed_events(
    xero_factory: Any, receiver: tuple[Receiver, str], xero_specs: Path
) -> None:
    app, url = receiver
    xero = xero_factory(config=SandboxConfig(webhook_url=url, webhook_key=KEY))
    invoice = xero.create_invoice()
    xero.send("POST", f"Invoices/{invoice['InvoiceID']}", {"Status": "VOIDED"})
    result = await xero.sandbox.flush_webhooks()
    assert xero.sandbox.webhooks.intent_verified
    assert app.rejected == 1  # the incorrectly signed probe got 401
    probe, delivery = app.accepted[0], app.accepted[1]
    assert json.loads(probe)["events"] == []
    payload = loads(delivery)
    OpenApiSchemas(xero_specs / "xero" / "xero-webhooks.yaml").validate(payload, "WebhookEvent")
    events = payload["events"]
    assert [(e["eventCategory"], e["eventType"]) for e in events] == [("INVOICE", "CREATE"), ("INVOICE", "UPDATE")]
    assert {e["resourceId"] for e in events} == {invoice["InvoiceID"]} and events[0]["tenantId"] == NZ
    assert (payload["firstEventSequence"], payload["lastEventSequence"]) == (1, 2)
    assert result["attempted"][0]["delivered"] is True


async def test_sloppy_endpoint_fails_intent_to_receive(xero_factory: Any) -> None:
    sloppy = Receiver(strict=False)
    with serve(sloppy) as url:
        xero = xero_factory(config=SandboxConfig(webhook_url=url, webhook_key=KEY))
        xero.create_invoice()
        result = await xero.sandbox.flush_webhooks()
        assert result["intent_to_receive"]["ok"] is False
        assert len(sloppy.accepted) == 2 and not xero.sandbox.webhooks.intent_verified  # only the probes
        async with httpx.AsyncClient() as http:
            control = await http.post(f"{xero.base_url}/_sandbox/webhooks/intent-to-receive")
        assert control.status_code == 200 and loads(control.text)["ok"] is False


def act(xero: XeroHarness, action: str, **params: Any) -> httpx.Response:
    return httpx.post(f"{xero.base_url}/accountant/{xero.tenant}/api/{action}", json=params)


def test_accountant_actions(xero_factory: Any, receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    xero = xero_factory(config=SandboxConfig(webhook_url=url, webhook_key=KEY))
    invoice = xero.create_invoice()
    path = f"Invoices/{invoice['InvoiceID']}"
    xero.sandbox.advance(5)
    assert act(xero, "edit_invoice_amount", invoice_id=invoice["InvoiceID"], amount="80.00").status_code == 200
    edited = xero.ok(xero.get(path))["Invoices"][0]
    assert edited["SubTotal"] == Decimal("80.00") and edited["Total"] == Decimal("92.00")
    assert edited["UpdatedDateUTC"] != invoice["UpdatedDateUTC"]
    assert act(xero, "edit_invoice_number", invoice_id=invoice["InvoiceID"], doc_number="X-1").status_code == 200
    assert xero.ok(xero.get(path))["Invoices"][0]["InvoiceNumber"] == "X-1"
    paid = act(
        xero,
        "record_payment",
        invoice_id=invoice["InvoiceID"],
        amount="92.00",
        txn_date="2026-03-03",
        reference="cheque 7",
    )
    assert paid.status_code == 200, paid.text
    assert xero.ok(xero.get(path))["Invoices"][0]["Status"] == "PAID"
    refused = act(xero, "void_invoice", invoice_id=invoice["InvoiceID"])
    assert refused.status_code == 400 and "error" in loads(refused.text)
    payment_id = loads(paid.text)["result"]["PaymentID"]
    before = xero.ok(xero.get(path))["Invoices"][0]
    xero.sandbox.advance(5)
    assert act(xero, "delete_payment", payment_id=payment_id).status_code == 200  # Xero has no payment void
    unpaid = xero.ok(xero.get(path))["Invoices"][0]
    assert (unpaid["Status"], unpaid["AmountDue"]) == ("AUTHORISED", Decimal("92.00"))
    assert unpaid["UpdatedDateUTC"] != before["UpdatedDateUTC"] and not unpaid.get("Payments"), unpaid
    assert xero.ok(xero.get(f"Payments/{payment_id}"))["Payments"][0]["Status"] == "DELETED"
    assert act(xero, "delete_payment", payment_id=payment_id).status_code == 400  # already deleted
    other = xero.create_invoice()
    assert act(xero, "void_invoice", invoice_id=other["InvoiceID"]).status_code == 200
    draft = xero.create_invoice(status="DRAFT")
    assert act(xero, "delete_invoice", invoice_id=draft["InvoiceID"]).status_code == 200
    assert xero.ok(xero.get(f"Invoices/{draft['InvoiceID']}"))["Invoices"][0]["Status"] == "DELETED"
    contact = xero.contact()
    assert act(xero, "rename_customer", customer_id=contact["ContactID"], display_name="Bayside FC").status_code == 200
    assert act(xero, "deactivate_customer", customer_id=contact["ContactID"]).status_code == 200
    archived = xero.ok(xero.get(f"Contacts/{contact['ContactID']}"))["Contacts"][0]
    assert (archived["Name"], archived["ContactStatus"]) == ("Bayside FC", "ARCHIVED")
    kinds = [(e.category, e.event_type) for e in xero.sandbox.webhooks.pending_events()]
    assert kinds.count(("CONTACT", "UPDATE")) == 2 and ("INVOICE", "UPDATE") in kinds
    page = httpx.get(f"{xero.base_url}/accountant/{xero.tenant}")
    assert page.status_code == 200 and "Bayside FC" in page.text


def test_deep_link_lands_on_the_invoice(xero: XeroHarness) -> None:
    invoice = xero.create_invoice()
    short = xero.ok(xero.get("Organisation"))["Organisations"][0]["ShortCode"]
    link = (
        f"{xero.base_url}/organisationlogin/default.aspx?shortcode={short}"
        f"&redirecturl=/AccountsReceivable/View.aspx?InvoiceID={invoice['InvoiceID']}"
    )
    page = httpx.get(link, follow_redirects=True)
    assert page.status_code == 200 and invoice["InvoiceNumber"] in page.text
    newer = httpx.get(f"{xero.base_url}/app/{short}/invoicing/view/{invoice['InvoiceID']}")
    assert newer.status_code == 200 and "115.00" in newer.text
    assert httpx.get(f"{xero.base_url}/organisationlogin/default.aspx?shortcode=nope").status_code == 404
