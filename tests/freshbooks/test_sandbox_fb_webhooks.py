"""Webhooks: registration, the verification handshake, form-encoded events and their signature."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fb_harness import ACCOUNT, FbHarness
from ledgerbridge_testing.sandbox.server import serve


class Receiver:
    """An ASGI endpoint recording every POST it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.requests.append(({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    app = Receiver()
    with serve(app) as url:
        yield app, url + "/hooks"


def expected_signature(verifier: str, fields: list[tuple[str, str]]) -> str:
    """FreshBooks' construction, written independently: json.dumps of the form dict, HMAC-SHA256, base64."""
    message = json.dumps(dict(fields)).encode()
    return base64.b64encode(hmac.new(verifier.encode(), message, hashlib.sha256).digest()).decode()


def test_signature_construction_uses_python_json_separators() -> None:
    from ledgerbridge_freshbooks.sandbox.notifications import signature

    fields = {"name": "invoice.create", "object_id": "4001", "account_id": "LBD7x2"}
    assert signature("secret", fields) == expected_signature("secret", list(fields.items()))
    compact = json.dumps(fields, separators=(",", ":")).encode()
    compact_signature = base64.b64encode(hmac.new(b"secret", compact, hashlib.sha256).digest()).decode()
    assert signature("secret", fields) != compact_signature


def flush(fb: FbHarness) -> dict[str, Any]:
    return asyncio.run(fb.sandbox.flush_webhooks())


def register(fb: FbHarness, event: str, uri: str) -> dict[str, Any]:
    response = fb.http.post(f"/events/account/{ACCOUNT}/events/callbacks", json={"callback": {"event": event,
                                                                                             "uri": uri}})
    return fb.ok(response)["response"]["result"]["callback"]


def test_handshake_then_signed_events(fb: FbHarness, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    callback = register(fb, "invoice.create", url)
    assert callback["verified"] is False
    fb.invoice(number="W-0")  # before verification: nothing is sent
    flush(fb)
    assert len(hook.requests) == 1
    headers, body = hook.requests[0]
    form = dict(parse_qsl(body.decode()))
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert form["name"] == "callback.verify" and form["object_id"] == str(callback["callbackid"])
    verifier = form["verifier"]
    base = f"/events/account/{ACCOUNT}/events/callbacks/{callback['callbackid']}"
    wrong = fb.http.put(base, json={"callback": {"verifier": "nope"}})
    assert wrong.status_code == 422
    verified = fb.ok(fb.http.put(base, json={"callback": {"verifier": verifier}}))
    assert verified["response"]["result"]["callback"]["verified"] is True
    invoice = fb.invoice(number="W-1")
    fb.update(f"invoices/invoices/{invoice['id']}", "invoice", {"notes": "not subscribed to updates"})
    flush(fb)
    assert len(hook.requests) == 2
    headers, body = hook.requests[1]
    fields = parse_qsl(body.decode())
    assert [k for k, _ in fields] == ["name", "object_id", "account_id", "business_id", "identity_id", "user_id"]
    assert dict(fields)["name"] == "invoice.create" and dict(fields)["object_id"] == str(invoice["id"])
    assert dict(fields)["identity_id"] == str(fb.tokens.grant.subject)
    assert headers["x-freshbooks-hmac-sha256"] == expected_signature(verifier, fields)


def test_resend_issues_a_new_verifier(fb: FbHarness, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    callback = register(fb, "payment.create", url)
    base = f"/events/account/{ACCOUNT}/events/callbacks/{callback['callbackid']}"
    fb.ok(fb.http.put(base, json={"callback": {"resend": True}}))
    flush(fb)
    codes = [dict(parse_qsl(body.decode()))["verifier"] for _, body in hook.requests]
    assert len(codes) == 2 and codes[0] != codes[1]
    assert fb.http.put(base, json={"callback": {"verifier": codes[0]}}).status_code == 422
    assert fb.http.put(base, json={"callback": {"verifier": codes[1]}}).status_code == 200


def test_registration_rules_and_listing(fb: FbHarness) -> None:
    base = f"/events/account/{ACCOUNT}/events/callbacks"
    assert fb.http.post(base, json={"callback": {"event": "invoice", "uri": "http://x.example/h"}}).status_code == 422
    for event in ("invoice.create", "invoice.update", "client.create"):
        register(fb, event, "http://127.0.0.1:9/h")
    invoice_only = fb.ok(fb.http.get(base, params={"search[event]": "invoice"}))["response"]["result"]
    assert sorted(c["event"] for c in invoice_only["callbacks"]) == ["invoice.create", "invoice.update"]
    exact = fb.ok(fb.http.get(base, params={"search[event]": "client.create"}))["response"]["result"]
    assert [c["event"] for c in exact["callbacks"]] == ["client.create"]
    first = invoice_only["callbacks"][0]["callbackid"]
    assert fb.http.delete(f"{base}/{first}").status_code == 200
    assert fb.http.get(f"{base}/{first}").status_code == 404
