"""Error translation (limits, tokens, tenants, outages, missing records, validation), webhooks and deep links."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from ledgerbridge import oauth
from ledgerbridge.errors import AccessTokenExpired, AuthorizationError, ProviderError, ProviderUnavailable, RateLimited
from ledgerbridge.provider import CustomerData, LinkRef, Tenant
from ledgerbridge_testing.sandbox.server import serve
from ledgerbridge_xero import plugin, webhooks
from ledgerbridge_xero.sandbox import SandboxConfig
from litestar import Litestar, Request, Response, post
from test_xero_plugin_export import invoice_data, mapped
from xero_harness import NZ
from xero_plugin_harness import WEBHOOK_KEY, Connected, settings_for

pytest_plugins = ("xero_plugin_harness",)


async def test_the_daily_limit_says_when_it_resets(xero_connect):
    xero: Connected = await xero_connect(SandboxConfig(requests_per_day=3))
    # Connecting read the organisation once; two more calls use the day up.
    await plugin.import_tax_rates(session=xero.session, cursor=None)
    await plugin.import_tax_rates(session=xero.session, cursor=None)
    with pytest.raises(RateLimited) as caught:
        await plugin.import_items(session=xero.session, cursor=None)
    error = caught.value
    assert error.code == "daily_limit" and error.provider_code == "day" and error.retry_after > 3600
    assert "daily allowance" in error.message and "UTC" in error.message


async def test_the_minute_limit_is_a_short_wait(xero_connect):
    xero: Connected = await xero_connect(SandboxConfig(requests_per_minute=2))
    await plugin.import_tax_rates(session=xero.session, cursor=None)
    with pytest.raises(RateLimited) as caught:
        await plugin.import_tax_rates(session=xero.session, cursor=None)
    assert caught.value.code == "rate_limited" and 1 <= caught.value.retry_after <= 60


async def test_token_and_tenant_problems(xero_connect):
    xero: Connected = await xero_connect()
    stranger = Tenant(id=str(uuid.uuid4()), name="Someone else's books")
    with pytest.raises(AuthorizationError) as caught:
        await plugin.import_customers(session=xero.new_session(tenant=stranger), cursor=None)
    assert caught.value.code == "token_revoked" and caught.value.status == 403
    with pytest.raises(AuthorizationError) as caught:
        await plugin.import_customers(session=xero.new_session(tenant=Tenant(id="", name="")), cursor=None)
    assert caught.value.code == "not_connected"
    xero.sandbox.expire_access_tokens()
    with pytest.raises(AccessTokenExpired) as caught:
        await plugin.import_customers(session=xero.session, cursor=None)
    assert caught.value.status == 401 and caught.value.provider_code == "TokenExpired"


async def test_outages_missing_records_and_validation(xero_connect):
    xero: Connected = mapped(await xero_connect())
    xero.sandbox.add_fault("error", path_prefix="/api.xro/2.0/", status=503)
    with pytest.raises(ProviderUnavailable):
        await plugin.import_items(session=xero.session, cursor=None)
    with pytest.raises(ProviderError) as caught:
        await plugin.void_invoice(session=xero.session, link=LinkRef(str(uuid.uuid4())), idempotency_key="k1")
    assert caught.value.code == "remote_not_found" and caught.value.status == 404
    contact = xero.xero.contact()["ContactID"]
    with pytest.raises(ProviderError) as caught:
        await plugin.export_invoice(session=xero.session, invoice=invoice_data(contact, "E-1"),
                                    link=LinkRef(str(uuid.uuid4())), idempotency_key="k2")
    assert caught.value.code == "remote_not_found"
    bad = xero.new_session(default_income_account_id="999")
    with pytest.raises(ProviderError) as caught:
        await plugin.export_invoice(session=bad, invoice=invoice_data(contact, "E-2"), link=None,
                                    idempotency_key="k3")
    assert caught.value.code == "validation_failed" and "Account code '999'" in caught.value.message
    closed = settings_for("http://127.0.0.1:9")
    with pytest.raises(ProviderUnavailable):
        await oauth.refresh("xero", settings=closed, environment="production", refresh_token="x")
    with pytest.raises(ProviderError) as caught:
        await plugin.export_customer(session=xero.session, customer=CustomerData(local_id=1, name=" "), link=None,
                                     idempotency_key="k4")
    assert caught.value.code == "validation_failed" and "name must be specified" in caught.value.message


def test_signatures_are_checked_against_the_raw_body():
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"x"}'
    good = {"X-Xero-Signature": webhooks.SIGNATURE.sign(WEBHOOK_KEY, body)}
    settings = settings_for("http://127.0.0.1:9")
    assert plugin.verify_webhook(settings=settings, headers=good, body=body)
    assert not plugin.verify_webhook(settings=settings, headers=good, body=body + b" ")
    assert not plugin.verify_webhook(settings=settings, headers={}, body=body)
    assert not plugin.verify_webhook(settings=settings_for("http://127.0.0.1:9", webhook_secret=""), headers=good,
                                     body=body)
    assert plugin.parse_webhook(settings=settings, headers=good, body=body) == []


def receiver(got: list[tuple[int, bytes]]) -> Litestar:
    """What the core's webhook endpoint does with the plugin: 401 unless the signature verifies."""
    settings = settings_for("http://127.0.0.1:9")

    @post("/webhooks/xero", status_code=200)
    async def hook(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        ok = plugin.verify_webhook(settings=settings, headers=dict(request.headers), body=body)
        got.append((200 if ok else 401, body))
        return Response(b"", status_code=200 if ok else 401)

    return Litestar(route_handlers=[hook])


async def test_intent_to_receive_and_a_delivered_event(xero_connect):
    got: list[tuple[int, bytes]] = []
    with serve(receiver(got)) as url:
        xero: Connected = mapped(await xero_connect(SandboxConfig(webhook_url=f"{url}/webhooks/xero",
                                                                  webhook_key=WEBHOOK_KEY)))
        assert (await xero.sandbox.intent_to_receive())["ok"], got
        contact = xero.xero.contact()["ContactID"]
        result = await plugin.export_invoice(session=xero.session, invoice=invoice_data(contact, "W-1"), link=None,
                                             idempotency_key="k1")
        await xero.sandbox.flush_webhooks()
    status, body = got[-1]
    assert status == 200
    events = plugin.parse_webhook(settings=xero.settings, headers={}, body=body)
    assert [(e.tenant_id, e.record_type, e.remote_id, e.operation) for e in events] == [
        (NZ, "invoice", result.remote_id, "create")]


async def test_record_url_opens_the_invoice_in_xero(xero_connect):
    real = plugin.record_url(provider_data={"short_code": "!mBdtL"}, environment="production",
                             record_type="invoice", remote_id="abc")
    assert real == ("https://go.xero.com/organisationlogin/default.aspx?shortcode=%21mBdtL"
                    "&redirecturl=/AccountsReceivable/View.aspx%3FInvoiceID%3Dabc")
    assert plugin.record_url(provider_data={}, environment="production", record_type="invoice", remote_id="a") is None
    assert plugin.record_url(provider_data={"short_code": "x"}, environment="production", record_type="item",
                             remote_id="a") is None
    xero: Connected = mapped(await xero_connect())
    contact = xero.xero.contact()["ContactID"]
    result = await plugin.export_invoice(session=xero.session, invoice=invoice_data(contact, "U-1"), link=None,
                                         idempotency_key="k1")
    url = plugin.record_url(provider_data=xero.tenant.extra, environment="production", record_type="invoice",
                            remote_id=result.remote_id)
    assert url.startswith(xero.xero.base_url)
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as http:
        page = await http.get(url)
    assert page.status_code == 200 and "U-1" in page.text
