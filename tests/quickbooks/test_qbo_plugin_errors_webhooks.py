"""Error translation (over the wire where the sandbox can produce it), record URLs and webhooks."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from ledgerbridge.errors import ProviderError, ProviderUnavailable, RateLimited
from ledgerbridge.provider import LinkRef
from ledgerbridge.settings import ProviderSettings
from ledgerbridge_quickbooks import client, plugin
from ledgerbridge_quickbooks.sandbox import SandboxConfig
from qbo_plugin_harness import VERIFIER, Connected, check_bodies_against_xsd

pytest_plugins = ("qbo_plugin_harness",)

FACTS_TOKEN = "b5771f19b12ddb4bcdb9f08bdc50bc63878a"
FACTS_BODY = (b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer",'
              b'"id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}')
FACTS_SIGNATURE = "JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q="


def _settings(secret: str) -> ProviderSettings:
    return ProviderSettings(key="quickbooks", client_id="", client_secret="", webhook_secret=secret, base_url="")


async def test_a_5xx_is_provider_unavailable_and_an_unreachable_host_too(qb: Connected):
    qb.sandbox.add_fault("error", path_prefix="/v3/", status=503)
    with pytest.raises(ProviderUnavailable):
        await plugin.import_items(session=qb.session, cursor=None)
    dead = ProviderSettings(key="quickbooks", client_id="", client_secret="", webhook_secret="",
                            base_url="http://127.0.0.1:9")
    with pytest.raises(ProviderUnavailable):
        await plugin.find_invoice(session=qb.new_session(settings=dead), number="1")


async def test_throttling_is_rate_limited_with_retry_after(qb_factory):
    qb = await qb_factory(SandboxConfig(requests_per_minute=2, send_retry_after=True))
    with pytest.raises(RateLimited) as caught:
        for _ in range(4):
            await plugin.find_invoice(session=qb.session, number="1")
    assert caught.value.provider_code == "3001" and 1 <= caught.value.retry_after <= 60


def test_fault_translation_rules():
    def fault(status, code, message="m", detail="d"):
        return client.translate_fault(client.read_fault(status, {"Fault": {"Error": [
            {"Message": message, "Detail": detail, "code": code}], "type": "ValidationFault"}}), name="Acme")

    assert isinstance(fault(429, "3001"), RateLimited) and fault(429, "3001").retry_after == 60
    assert fault(401, "3200", "message=ApplicationAuthenticationFailed; errorCode=003200").code == \
        "environment_mismatch"
    assert fault(401, "3200", "message=AuthenticationFailed").code == "token_expired"
    assert fault(403, "3100").code == "environment_mismatch"
    assert fault(400, "6240").code == "duplicate_name" and "Acme" in fault(400, "6240").message
    fallback = fault(400, "2050", detail="String length is too long : DocNumber is 30 characters")
    assert fallback.code == "validation_failed" and "DocNumber is 30 characters" in fallback.message
    lower = client.read_fault(401, {"fault": {"error": [{"message": "x", "detail": "Token expired", "code": "3200"}]}})
    assert lower.code == "3200" and lower.detail == "Token expired"


async def test_validation_faults_carry_qbos_detail(qb: Connected):
    from test_qbo_plugin_export import _invoice

    bad = _invoice(qb)
    bad = bad.__class__(**{**bad.__dict__, "lines": (bad.lines[0].__class__(**{
        **bad.lines[0].__dict__, "item_id": "99999"}),)})
    with pytest.raises(ProviderError) as caught:
        await plugin.export_invoice(session=qb.session, invoice=bad, link=None, idempotency_key="lb-v1")
    assert caught.value.code == "validation_failed" and "99999" in caught.value.message
    with pytest.raises(ProviderError) as missing:
        await plugin.void_invoice(session=qb.session, link=LinkRef("424242", "0", "X"), idempotency_key="lb-v2")
    assert missing.value.code == "remote_not_found"


def test_xsd_check_catches_an_invented_field(provider_specs):
    request = httpx.Request("POST", "http://x/v3/company/1/invoice", content=json.dumps(
        {"CustomerRef": {"value": "1"}, "Line": [], "Colour": "red"}).encode())
    with pytest.raises(AssertionError, match="Colour"):
        check_bodies_against_xsd([request])


def test_record_urls():
    assert plugin.record_url(provider_data={}, environment="production", record_type="invoice", remote_id="12") == \
        "https://app.qbo.intuit.com/app/invoice?txnId=12"
    assert plugin.record_url(provider_data={}, environment="sandbox", record_type="invoice", remote_id="12") == \
        "https://app.sandbox.qbo.intuit.com/app/invoice?txnId=12"
    local = {"app_url": "http://127.0.0.1:8701", "realm_id": "9"}
    assert plugin.record_url(provider_data=local, environment="sandbox", record_type="invoice", remote_id="12") == \
        "http://127.0.0.1:8701/app/invoice?txnId=12&companyId=9"


async def test_record_url_opens_the_sandbox_invoice_page(qb: Connected):
    found = await plugin.poll_invoices(session=qb.session, cursor=None, remote_ids=None)
    link = found.records[0].deep_link
    async with httpx.AsyncClient() as http:
        page = await http.get(link)
    assert page.status_code == 200 and "Invoice" in page.text


def test_the_facts_test_vector_verifies():
    headers = {"intuit-signature": FACTS_SIGNATURE}
    assert plugin.verify_webhook(settings=_settings(FACTS_TOKEN), headers=headers, body=FACTS_BODY) is True
    assert plugin.verify_webhook(settings=_settings(FACTS_TOKEN), headers=headers, body=FACTS_BODY + b" ") is False
    assert plugin.verify_webhook(settings=_settings(""), headers=headers, body=FACTS_BODY) is False
    events = plugin.parse_webhook(settings=_settings(FACTS_TOKEN), headers=headers, body=FACTS_BODY)
    assert [(e.tenant_id, e.record_type, e.remote_id, e.operation) for e in events] == [
        ("1185883450", "customer", "1", "create")]
    assert events[0].occurred_at is not None and events[0].occurred_at.utcoffset().total_seconds() == -7 * 3600


@pytest.mark.parametrize("payload_format", ["legacy", "cloudevents"])
async def test_sandbox_webhooks_verify_and_parse_in_both_shapes(qb_factory, payload_format):
    qb = await qb_factory(SandboxConfig(webhook_url="http://127.0.0.1:9/hook", webhook_verifier_token=VERIFIER,
                                        webhook_format=payload_format))
    from test_qbo_plugin_export import _invoice

    created = await plugin.export_invoice(session=qb.session, invoice=_invoice(qb, number="W-1"), link=None,
                                          idempotency_key="lb-w1")
    await plugin.void_invoice(session=qb.session, link=LinkRef(created.remote_id, created.version, "W-1"),
                              idempotency_key="lb-w2")
    deliveries = qb.sandbox.webhooks.package()
    assert deliveries
    events = []
    for delivery in deliveries:
        assert plugin.verify_webhook(settings=qb.settings, headers=delivery.headers, body=delivery.body)
        events += plugin.parse_webhook(settings=qb.settings, headers=delivery.headers, body=delivery.body)
    mine = [(e.tenant_id, e.operation) for e in events
            if e.record_type == "invoice" and e.remote_id == created.remote_id]
    assert mine == [(qb.session.tenant_id, "create"), (qb.session.tenant_id, "void")]
    assert Decimal("0") == (await plugin.poll_invoices(session=qb.session, cursor=None,
                                                       remote_ids=[created.remote_id])).records[0].total
