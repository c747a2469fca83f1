"""Webhook notifications delivered over real HTTP to a local receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from ledgerbridge_quickbooks.sandbox import SandboxConfig
from ledgerbridge_testing.sandbox.server import serve
from ledgerbridge_testing.sandbox.webhooks import verify_hmac_sha256_base64
from qbo_harness import REALM, REALM_2, QboHarness

TOKEN = "verifier-token-for-tests"


@dataclass
class Receiver:
    """A tiny ASGI app recording POSTs; answers with queued statuses (default 200)."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

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
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append((headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def bodies(self) -> list[Any]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    with serve(receiver) as base_url:
        receiver.url = base_url + "/hooks/qbo"
        yield receiver


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.received.clear()
    receiver_server.statuses.clear()
    return receiver_server


def hooked(qbo_factory, receiver: Receiver, fmt: str = "legacy", **extra: Any) -> QboHarness:  # type: ignore[no-untyped-def]
    config = SandboxConfig(webhook_url=receiver.url, webhook_verifier_token=TOKEN, webhook_format=fmt, **extra)  # type: ignore[arg-type]
    return qbo_factory(config, **({"dedicated": True} if extra.get("webhook_auto_deliver_interval") else {}))


def make_changes(qbo: QboHarness) -> dict[str, str]:
    customer = qbo.create("customer", {"DisplayName": "Hooked Customer"})
    updated = qbo.create("customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})
    voided = qbo.create("invoice", qbo.invoice_body("10.00"))
    qbo.ok(qbo.post("invoice", {"Id": voided["Id"], "SyncToken": "0"}, params={"operation": "void"}))
    deleted = qbo.create("invoice", qbo.invoice_body("11.00"))
    qbo.ok(qbo.post("invoice", {"Id": deleted["Id"], "SyncToken": "0"}, params={"operation": "delete"}))
    return {"customer": updated["Id"], "voided": voided["Id"], "deleted": deleted["Id"]}


async def test_legacy_payload_signed_and_aggregated_per_realm(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = hooked(qbo_factory, receiver)
    ids = make_changes(qbo)
    assert receiver.received == []  # nothing is sent before a flush
    summary = await qbo.sandbox.flush_webhooks()
    assert summary["delivered"] == 1 and summary["pending"] == 0
    ((headers, body),) = receiver.received
    assert verify_hmac_sha256_base64(TOKEN, body, headers["intuit-signature"])
    assert headers["content-type"].startswith("application/json")
    payload = json.loads(body)
    (notification,) = payload["eventNotifications"]
    assert notification["realmId"] == REALM
    events = [(e["name"], e["id"], e["operation"]) for e in notification["dataChangeEvent"]["entities"]]
    assert events == [
        ("Customer", ids["customer"], "Create"),
        ("Customer", ids["customer"], "Update"),
        ("Invoice", ids["voided"], "Create"),
        ("Invoice", ids["voided"], "Void"),
        ("Invoice", ids["deleted"], "Create"),
        ("Invoice", ids["deleted"], "Delete"),
    ]
    first = notification["dataChangeEvent"]["entities"][0]
    assert set(first) == {"name", "id", "operation", "lastUpdated"}
    assert first["lastUpdated"] == "2026-03-02T10:00:00-0800"


async def test_cloudevents_payload(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = hooked(qbo_factory, receiver, "cloudevents")
    ids = make_changes(qbo)
    await qbo.sandbox.flush_webhooks()
    ((headers, body),) = receiver.received
    assert verify_hmac_sha256_base64(TOKEN, body, headers["intuit-signature"])
    events = json.loads(body)
    assert isinstance(events, list)
    assert [e["type"] for e in events] == [
        "qbo.customer.created.v1",
        "qbo.customer.updated.v1",
        "qbo.invoice.created.v1",
        "qbo.invoice.voided.v1",
        "qbo.invoice.created.v1",
        "qbo.invoice.deleted.v1",
    ]
    for event in events:
        assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
        assert event["intuitaccountid"] == REALM and event["source"].startswith("intuit.")
        assert set(event) == {
            "specversion",
            "id",
            "source",
            "type",
            "datacontenttype",
            "time",
            "intuitentityid",
            "intuitaccountid",
            "data",
        }
    assert events[-1]["intuitentityid"] == ids["deleted"]
    assert len({e["id"] for e in events}) == len(events)


async def test_one_post_per_realm(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = hooked(qbo_factory, receiver)
    qbo.create("customer", {"DisplayName": "Realm One"})
    qbo.sandbox.service.create(REALM_2, "Customer", {"DisplayName": "Realm Two"})
    await qbo.sandbox.flush_webhooks()
    realms = sorted(body["eventNotifications"][0]["realmId"] for body in receiver.bodies())
    assert realms == [REALM, REALM_2]


async def test_failed_delivery_is_retried_later_and_holds_newer_events(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = hooked(qbo_factory, receiver)
    receiver.statuses.extend([500])
    qbo.create("customer", {"DisplayName": "First Event"})
    first = await qbo.sandbox.flush_webhooks()
    assert first["delivered"] == 0 and first["pending"] == 1
    qbo.create("customer", {"DisplayName": "Second Event"})
    held = await qbo.sandbox.flush_webhooks()
    assert held["attempted"] == 0 and held["pending"] == 2  # retry not due; newer event waits behind it
    qbo.sandbox.advance(10)
    done = await qbo.sandbox.flush_webhooks()
    assert done["delivered"] == 2 and done["pending"] == 0
    names = [b["eventNotifications"][0]["dataChangeEvent"]["entities"][0]["id"] for b in receiver.bodies()]
    assert names[0] == names[1]  # the failed notification was delivered again, before the newer one


async def test_payment_notifies_payment_only(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = hooked(qbo_factory, receiver)
    invoice = qbo.create("invoice", qbo.invoice_body("30.00"))
    await qbo.sandbox.flush_webhooks()
    receiver.received.clear()
    qbo.create(
        "payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": Decimal("30"),
            "Line": [{"Amount": Decimal("30"), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    await qbo.sandbox.flush_webhooks()
    entities = receiver.bodies()[0]["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert [(e["name"], e["operation"]) for e in entities] == [("Payment", "Create")]


def test_flush_through_the_control_api(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = hooked(qbo_factory, receiver)
    qbo.create("customer", {"DisplayName": "Via Control"})
    with httpx.Client(base_url=qbo.base_url, timeout=10) as control:
        assert control.get("/_sandbox/webhooks").json()["pending_events"] == 1
        assert control.post("/_sandbox/webhooks/flush").json()["delivered"] == 1
        assert control.get("/_sandbox/webhooks").json()["delivered"][0]["body"]["eventNotifications"]
    assert len(receiver.received) == 1


def test_no_webhooks_without_a_verifier_token(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = qbo_factory(SandboxConfig(webhook_url=receiver.url))
    qbo.create("customer", {"DisplayName": "Silent"})
    assert qbo.sandbox.webhooks.pending_events() == []


def test_automatic_delivery_runs_in_the_app_lifespan(qbo_factory, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    qbo = hooked(qbo_factory, receiver, webhook_auto_deliver_interval=0.2)
    qbo.create("customer", {"DisplayName": "Delivered By Pump"})
    deadline = time.monotonic() + 15
    while not receiver.received:
        assert time.monotonic() < deadline, "the lifespan task never delivered"
        time.sleep(0.02)
    assert receiver.bodies()[0]["eventNotifications"][0]["dataChangeEvent"]["entities"][0]["operation"] == "Create"
