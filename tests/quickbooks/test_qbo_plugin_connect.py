"""Connecting QuickBooks through the core's OAuth flow (`ledgerbridge.oauth`) from the plugin's declared
authorization server: consent URL, code exchange, tenants, refresh, revoke, demo sandbox."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from ledgerbridge import oauth
from ledgerbridge.errors import AccessTokenExpired, AuthorizationError
from ledgerbridge.settings import ProviderSettings
from ledgerbridge_quickbooks import client, plugin
from ledgerbridge_testing.sandbox.server import serve
from qbo_harness import REALM
from qbo_plugin_harness import REDIRECT, Connected, oauth_connect, settings_for

pytest_plugins = ("qbo_plugin_harness",)

REAL = ProviderSettings(key="quickbooks", client_id="abc", client_secret="s", webhook_secret="", base_url="")


async def test_authorization_url_points_at_intuit_with_the_accounting_scope():
    url = await oauth.consent_url("quickbooks", settings=REAL, environment="production",
                                  redirect_uri="https://lb.example/cb", state="signed-state", code_verifier=None)
    assert url.startswith("https://appcenter.intuit.com/connect/oauth2?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params == {"response_type": "code", "client_id": "abc", "redirect_uri": "https://lb.example/cb",
                      "scope": "com.intuit.quickbooks.accounting", "state": "signed-state"}


def test_endpoints_follow_the_environment_or_the_sandbox_base_url():
    prod, sand = client.endpoints(REAL, "production"), client.endpoints(REAL, "sandbox")
    assert prod.api == "https://quickbooks.api.intuit.com" and sand.api == "https://sandbox-quickbooks.api.intuit.com"
    assert prod.token == "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    assert prod.revoke == "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
    local = client.endpoints(settings_for("http://127.0.0.1:9"), "production")
    assert local.authorize == "http://127.0.0.1:9/connect/oauth2" and local.api == "http://127.0.0.1:9"


def test_the_declared_server_is_intuits_with_basic_auth_json_revoke_and_the_hard_expiry():
    server = plugin.authorization_server(settings=REAL, environment="sandbox")
    assert (server.authorize_url, server.token_url, server.revoke_url) == (
        "https://appcenter.intuit.com/connect/oauth2", "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "https://developer.api.intuit.com/v2/oauth2/tokens/revoke")
    assert server.client_auth == "client_secret_basic" and server.revoke_body == "json" and not server.pkce
    assert server.token_request_headers == {"x-include-refresh-token-hard-expires-in": "true"}
    assert server.refresh_expires_in_key == "x_refresh_token_expires_in"
    assert server.refresh_hard_expires_in_key == "x_refresh_token_hard_expires_in"
    local = plugin.authorization_server(settings=settings_for("http://127.0.0.1:9"), environment="production")
    assert local.token_url == "http://127.0.0.1:9/oauth2/v1/tokens/bearer"


async def test_connect_through_the_sandbox_oauth_flow(qb: Connected):
    assert qb.session.tenant_id == REALM
    assert qb.tenant_name == "Sandbox Company US 1"
    assert qb.session.provider_data["realm_id"] == REALM
    assert qb.tokens.refresh_expires_at > qb.tokens.access_expires_at
    assert qb.tokens.refresh_hard_expires_at is not None  # asked for with x-include-refresh-token-hard-expires-in


async def test_refresh_rotates_and_a_revoked_connection_is_refused(qb: Connected):
    fresh = await oauth.refresh("quickbooks", settings=qb.settings, environment="sandbox",
                                refresh_token=qb.tokens.refresh_token)
    assert fresh.access_token != qb.tokens.access_token
    page = await plugin.import_customers(session=qb.new_session(token=fresh.access_token), cursor=None)
    assert page.records
    qb.sandbox.revoke_all_tokens()
    with pytest.raises(AuthorizationError) as caught:
        await oauth.refresh("quickbooks", settings=qb.settings, environment="sandbox",
                            refresh_token=fresh.refresh_token)
    assert caught.value.code == "token_revoked"


async def test_a_used_code_is_refused(qb: Connected):
    with pytest.raises(AuthorizationError):
        await oauth.exchange_code("quickbooks", settings=qb.settings, environment="sandbox", code="not-a-code",
                                  redirect_uri=REDIRECT, code_verifier=None, params={"realmId": REALM})


async def test_revoke_token_ends_the_connection(qb: Connected):
    assert await oauth.revoke("quickbooks", session=qb.session, refresh_token=qb.tokens.refresh_token) is True
    with pytest.raises(AccessTokenExpired):
        await plugin.import_items(session=qb.session, cursor=None)


async def test_demo_sandbox_serves_oauth_with_the_returned_credentials():
    demo = plugin.demo_sandbox(public_url="http://127.0.0.1:1", webhook_url="http://127.0.0.1:1/webhooks/quickbooks")
    assert demo.webhook_secret and demo.client_id and demo.client_secret
    with serve(demo.app) as base_url:
        tokens, callback, tenants = await oauth_connect(base_url)
        settings = ProviderSettings(key="quickbooks", client_id=demo.client_id, client_secret=demo.client_secret,
                                    webhook_secret=demo.webhook_secret, base_url=base_url)
        refreshed = await oauth.refresh("quickbooks", settings=settings, environment="sandbox",
                                        refresh_token=tokens.refresh_token)
        wrong = ProviderSettings(key="quickbooks", client_id=demo.client_id, client_secret="wrong",
                                 webhook_secret="", base_url=base_url)
        with pytest.raises(AuthorizationError):
            await oauth.refresh("quickbooks", settings=wrong, environment="sandbox",
                                refresh_token=refreshed.refresh_token)
    assert tenants[0].id == callback["realmId"] and refreshed.access_token
    assert demo.app.sandbox.webhooks.verifier_token == demo.webhook_secret
    assert demo.app.sandbox.webhooks.url == "http://127.0.0.1:1/webhooks/quickbooks"


async def test_an_unreachable_token_endpoint_is_provider_unavailable():
    from ledgerbridge.errors import ProviderUnavailable

    with pytest.raises(ProviderUnavailable):
        await oauth.refresh("quickbooks", settings=settings_for("http://127.0.0.1:9"), environment="sandbox",
                            refresh_token="x")
