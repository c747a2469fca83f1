"""Every error translation, and webhooks: the handshake, signed events, and what they become."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fb_harness import ACCOUNT
from fb_plugin_harness import VERIFIER, Connected, settings_for
from ledgerbridge.errors import (
    AccessTokenExpired,
    AuthorizationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UncertainWrite,
)
from ledgerbridge.provider import CustomerData, LinkRef, PaymentData
from ledgerbridge_freshbooks import plugin
from ledgerbridge_freshbooks.sandbox import SandboxConfig
from ledgerbridge_testing.sandbox.server import serve

pytest_plugins = ("fb_plugin_harness",)


def new_customer(name: str = "Err Co") -> CustomerData:
    return CustomerData(local_id=1, name=name)


async def test_401_is_access_token_expired(fb_connect):
    fb: Connected = await fb_connect()
    stale = fb.new_session(token="not-a-token")
    with pytest.raises(AccessTokenExpired) as caught:
        await plugin.import_customers(session=stale, cursor=None)
    assert caught.value.status == 401 and caught.value.provider_code == "1003"


@pytest.mark.parametrize("retry_after, expected", [(False, 60.0), (True, None)])
async def test_429_is_rate_limited_with_retry_after(fb_connect, retry_after, expected):
    fb: Connected = await fb_connect(SandboxConfig(requests_per_minute=3, send_retry_after=retry_after))
    with pytest.raises(RateLimited) as caught:
        for _ in range(5):
            await plugin.import_items(session=fb.session, cursor=None)
    if expected is not None:
        assert caught.value.retry_after == expected
    else:
        assert 1 <= caught.value.retry_after <= 60


async def test_5xx_and_unreachable_are_provider_unavailable(fb_connect):
    fb: Connected = await fb_connect()
    fb.sandbox.add_fault("error", "/accounting/", status=503)
    with pytest.raises(ProviderUnavailable) as caught:
        await plugin.export_customer(session=fb.session, customer=new_customer(), link=None, idempotency_key="k")
    assert caught.value.status == 503
    gone = fb.new_session()
    gone.settings = settings_for("http://127.0.0.1:9")
    with pytest.raises(ProviderUnavailable):
        await plugin.export_customer(session=gone, customer=new_customer(), link=None, idempotency_key="k")


async def test_a_timeout_on_a_read_is_unavailable_and_on_a_write_uncertain(fb_connect):
    fb: Connected = await fb_connect()
    fb.sandbox.add_fault("slow", "/accounting/", delay=0.5, method="GET")
    with pytest.raises(ProviderUnavailable):
        await plugin.import_customers(session=fb.new_session(timeout=0.2), cursor=None)
    fb.sandbox.add_fault("timeout_after_apply", "/accounting/", delay=0.5, method="POST")
    with pytest.raises(UncertainWrite):
        await plugin.export_customer(session=fb.new_session(timeout=0.2), customer=new_customer("Landed"),
                                     link=None, idempotency_key="k")
    assert len(fb.fb.listing("users/clients", **{"search[organization]": "Landed"})["clients"]) == 1


@pytest.mark.parametrize("error_format", ["classic", "rpc"])
async def test_validation_and_not_found_carry_freshbooks_words(fb_connect, error_format):
    fb: Connected = await fb_connect(SandboxConfig(error_format=error_format))
    invoice = fb.fb.invoice(amount="50.00")
    with pytest.raises(ProviderError) as caught:
        await plugin.export_payment(session=fb.session, payment=PaymentData(
            local_id=1, invoice_id=str(invoice["id"]), customer_id="1", paid_on=date(2026, 3, 2),
            amount=Decimal("80.00")), link=None, idempotency_key="k")
    assert caught.value.code == "validation_failed"
    assert "Payment exceeds the amount outstanding on the invoice." in caught.value.message
    with pytest.raises(ProviderError) as missing:
        await plugin.export_customer(session=fb.session, customer=new_customer(), link=LinkRef("999999"),
                                     idempotency_key="k")
    assert missing.value.code == "remote_not_found" and "Client not found." in missing.value.message


async def test_a_business_the_user_left_is_refused_as_authorization(fb_connect):
    fb: Connected = await fb_connect()
    stranger = fb.new_session()
    stranger.provider_data = {**stranger.provider_data, "account_id": "NOPE01"}
    with pytest.raises(AuthorizationError):
        await plugin.import_customers(session=stranger, cursor=None)


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """An ASGI endpoint keeping what FreshBooks posts (headers lower-cased, as the core passes them)."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.posts.append(({k.decode().lower(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_handshake_then_signed_events_verify_and_parse(fb_connect):
    fb: Connected = await fb_connect()
    receiver = Receiver()
    with serve(receiver) as url:
        for event in ("invoice.update", "payment.create", "client.delete"):
            registered = fb.fb.http.post(f"/events/account/{ACCOUNT}/events/callbacks",
                                         json={"callback": {"event": event, "uri": url + "/hooks"}})
            assert registered.status_code == 200, registered.text
        await fb.sandbox.flush_webhooks()
        handshakes = list(receiver.posts)
        assert len(handshakes) == 3
        verify_events = []
        for headers, body in handshakes:
            assert plugin.verify_webhook(settings=fb.settings, headers=headers, body=body)
            [event] = plugin.parse_webhook(settings=fb.settings, headers=headers, body=body)
            assert event.operation == "verify" and event.data["verifier"]
            verify_events.append(event)
        # Each callback is confirmed with its code, which then signs its events.
        secrets = {}
        for event in verify_events:
            confirmed = fb.fb.http.put(f"/events/account/{ACCOUNT}/events/callbacks/{event.remote_id}",
                                       json={"callback": {"verifier": event.data["verifier"]}})
            assert confirmed.status_code == 200
            secrets[event.remote_id] = event.data["verifier"]
        invoice = fb.fb.invoice(amount="40.00")
        fb.fb.update(f"invoices/invoices/{invoice['id']}", "invoice", {"notes": "edited"})
        payment = fb.fb.pay(invoice["id"], "10.00")
        client = fb.fb.create("users/clients", "client", {"organization": "Brief"})
        fb.fb.update(f"users/clients/{client['id']}", "client", {"vis_state": 1})
        await fb.sandbox.flush_webhooks()
    events = receiver.posts[3:]
    assert len(events) == 3
    parsed = []
    for headers, body in events:
        assert any(plugin.verify_webhook(settings=settings_for(fb.fb.base_url, secret), headers=headers, body=body)
                   for secret in secrets.values())
        assert not plugin.verify_webhook(settings=fb.settings, headers=headers, body=body)  # another secret
        assert not plugin.verify_webhook(settings=fb.settings, headers={}, body=body)
        parsed.extend(plugin.parse_webhook(settings=fb.settings, headers=headers, body=body))
    got = {(e.record_type, e.remote_id, e.operation, e.tenant_id) for e in parsed}
    assert got == {("invoice", str(invoice["id"]), "update", ACCOUNT),
                   ("payment", f"payment:{payment['id']}", "create", ACCOUNT),
                   ("customer", str(client["id"]), "delete", ACCOUNT)}


async def test_a_tampered_form_fails_verification(fb_connect):
    from ledgerbridge_freshbooks.sandbox.notifications import signature

    fb: Connected = await fb_connect()
    fields = {"name": "invoice.create", "object_id": "4001", "account_id": ACCOUNT, "business_id": "7001",
              "identity_id": "4101", "user_id": "1"}
    body = httpx.QueryParams(fields).__str__().encode()
    headers = {"x-freshbooks-hmac-sha256": signature(VERIFIER, fields)}
    assert plugin.verify_webhook(settings=fb.settings, headers=headers, body=body)
    assert not plugin.verify_webhook(settings=fb.settings, headers=headers, body=body.replace(b"4001", b"4002"))
    unsigned = settings_for(fb.fb.base_url, webhook_secret="")
    assert not plugin.verify_webhook(settings=unsigned, headers=headers, body=body)
