"""Connecting Xero through the core's OAuth flow (`ledgerbridge.oauth`) from the plugin's declared authorization
server: PKCE consent, organisation choice, rotating refresh with its grace, and the plugin's own revoke."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlsplit

import pytest
from ledgerbridge import oauth
from ledgerbridge.errors import AuthorizationError
from ledgerbridge.settings import ProviderSettings
from ledgerbridge_xero import client, plugin
from xero_harness import NZ, UK
from xero_plugin_harness import REDIRECT, VERIFIER, Connected, consent, oauth_connect, settings_for

pytest_plugins = ("xero_plugin_harness",)

REAL = ProviderSettings(key="xero", client_id="abc", client_secret="s", webhook_secret="", base_url="")


async def test_authorization_url_is_xero_with_an_s256_challenge():
    url = await oauth.consent_url("xero", settings=REAL, environment="production", redirect_uri="https://lb.example/cb",
                                  state="signed-state", code_verifier=VERIFIER)
    assert url.startswith("https://login.xero.com/identity/connect/authorize?")
    params = dict(parse_qsl(urlsplit(url).query))
    expected = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    assert params["code_challenge"] == expected and params["code_challenge_method"] == "S256"
    assert params["state"] == "signed-state" and params["response_type"] == "code"
    assert {"offline_access", "accounting.transactions", "accounting.contacts", "accounting.settings"} <= set(
        params["scope"].split())
    endpoints = client.endpoints(REAL)
    assert endpoints.token == "https://identity.xero.com/connect/token"
    assert endpoints.api == "https://api.xero.com/api.xro/2.0" and endpoints.connections.endswith("/connections")
    server = plugin.authorization_server(settings=REAL, environment="production")
    assert server.pkce and server.client_auth == "client_secret_basic" and server.revoke_body == "form"
    assert (server.token_url, server.revoke_url) == (endpoints.token, "https://identity.xero.com/connect/revocation")
    assert await oauth.uses_pkce("xero", REAL, "production")


def test_capabilities_say_what_the_plugin_does():
    caps = plugin.provider_info().capabilities
    assert (caps.batch_size, caps.requests_per_minute, caps.concurrent_requests, caps.requests_per_day) == (
        50, 60, 5, 5000)
    assert caps.pkce and caps.multiple_tenants_per_consent and caps.draft_export and caps.native_idempotency


async def test_two_organisations_ticked_give_two_tenants_with_short_code_and_currency(xero_connect):
    xero: Connected = await xero_connect(tenants=(NZ, UK))
    assert [t.id for t in xero.tenants] == [NZ, UK]
    assert [t.name for t in xero.tenants] == ["Demo Company (NZ)", "Demo Company (UK)"]
    assert xero.tenants[0].extra["short_code"] == "!mBdtL" and xero.tenants[0].extra["base_currency"] == "NZD"
    assert xero.tenants[1].extra["short_code"] == "!kZ7Qp" and xero.tenants[1].extra["base_currency"] == "GBP"
    uk = xero.new_session(tenant=xero.tenants[1])
    names = [c.name for c in (await plugin.import_customers(session=uk, cursor=None)).records]
    assert "Marine Systems" in names
    assert xero.tokens.extra["auth_event_id"] and xero.tokens.refresh_token


async def test_only_the_organisations_of_this_consent_count(xero_connect):
    xero: Connected = await xero_connect(tenants=(NZ, UK))
    tokens, tenants = await oauth_connect(xero.xero.base_url, (UK,))
    assert [t.id for t in tenants] == [UK]
    assert tokens.extra["auth_event_id"] != xero.tokens.extra["auth_event_id"]


async def test_the_code_needs_the_pkce_verifier_and_the_app_secret(xero_connect):
    xero: Connected = await xero_connect()
    callback = await consent(xero.xero.base_url, (NZ,))
    with pytest.raises(AuthorizationError) as caught:
        await oauth.exchange_code("xero", settings=xero.settings, environment="production", code=callback["code"],
                                  redirect_uri=REDIRECT, code_verifier="not-the-verifier", params=callback)
    assert caught.value.code == "token_revoked" and caught.value.provider_code == "invalid_grant"
    wrong = ProviderSettings(key="xero", client_id=xero.settings.client_id, client_secret="wrong",
                             webhook_secret="", base_url=xero.settings.base_url)
    with pytest.raises(AuthorizationError) as caught:
        await oauth.refresh("xero", settings=wrong, environment="production", refresh_token=xero.tokens.refresh_token)
    assert caught.value.code == "environment_mismatch"


async def test_refresh_rotates_and_the_previous_token_works_only_within_the_grace(xero_connect):
    xero: Connected = await xero_connect()
    first = await oauth.refresh("xero", settings=xero.settings, environment="production",
                                refresh_token=xero.tokens.refresh_token)
    assert first.refresh_token != xero.tokens.refresh_token and first.access_token != xero.tokens.access_token
    page = await plugin.import_items(session=xero.new_session(token=first.access_token), cursor=None)
    assert page.records
    # The answer was "lost": within 30 minutes the previous refresh token still works once more.
    xero.sandbox.advance(20 * 60)
    again = await oauth.refresh("xero", settings=xero.settings, environment="production",
                                refresh_token=xero.tokens.refresh_token)
    assert again.access_token
    xero.sandbox.advance(31 * 60)
    with pytest.raises(AuthorizationError) as caught:
        await oauth.refresh("xero", settings=xero.settings, environment="production",
                            refresh_token=xero.tokens.refresh_token)
    assert caught.value.code == "token_revoked" and caught.value.provider_code == "invalid_grant"
    latest = await oauth.refresh("xero", settings=xero.settings, environment="production",
                                 refresh_token=again.refresh_token)
    assert latest.access_token


async def test_revoke_disconnects_this_organisation_and_keeps_the_other(xero_connect):
    xero: Connected = await xero_connect(tenants=(NZ, UK))
    assert xero.tenant.extra["connection_id"]
    assert await oauth.revoke("xero", session=xero.session, refresh_token=xero.tokens.refresh_token)
    with pytest.raises(AuthorizationError) as caught:
        await plugin.import_customers(session=xero.new_session(), cursor=None)
    assert caught.value.code == "token_revoked" and caught.value.status == 403
    uk = xero.new_session(tenant=xero.tenants[1])
    assert (await plugin.import_customers(session=uk, cursor=None)).records
    # The last organisation goes with the refresh token itself.
    assert await oauth.revoke("xero", session=uk, refresh_token=xero.tokens.refresh_token)
    with pytest.raises(AuthorizationError):
        await oauth.refresh("xero", settings=settings_for(xero.xero.base_url), environment="production",
                            refresh_token=xero.tokens.refresh_token)
