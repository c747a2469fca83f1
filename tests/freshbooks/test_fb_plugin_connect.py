"""Connecting FreshBooks through the core's OAuth flow (`ledgerbridge.oauth`) from the plugin's declared
authorization server: consent URL, code exchange, business choice, refresh, revoke, demo sandbox."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from fb_harness import ACCOUNT, ACCOUNT_2, SAM
from fb_plugin_harness import REDIRECT, Connected, oauth_connect, settings_for
from ledgerbridge import oauth
from ledgerbridge.errors import AccessTokenExpired, AuthorizationError, ProviderUnavailable
from ledgerbridge.settings import ProviderSettings
from ledgerbridge_freshbooks import client, plugin
from ledgerbridge_testing.sandbox.server import serve

pytest_plugins = ("fb_plugin_harness",)

REAL = ProviderSettings(key="freshbooks", client_id="abc", client_secret="s", webhook_secret="", base_url="")


async def test_authorization_url_points_at_freshbooks_with_the_scopes_we_use():
    url = await oauth.consent_url("freshbooks", settings=REAL, environment="production",
                                  redirect_uri="https://lb.example/cb", state="signed-state", code_verifier=None)
    assert url.startswith("https://auth.freshbooks.com/oauth/authorize?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["client_id"] == "abc" and params["response_type"] == "code" and params["state"] == "signed-state"
    assert params["redirect_uri"] == "https://lb.example/cb"
    assert {"user:invoices:write", "user:clients:write", "user:payments:write"} <= set(params["scope"].split())


def test_endpoints_are_freshbooks_hosts_or_the_sandbox():
    real = client.endpoints(REAL)
    assert real.token == "https://api.freshbooks.com/auth/oauth/token"
    assert real.api == "https://api.freshbooks.com" and real.web == "https://my.freshbooks.com"
    local = client.endpoints(settings_for("http://127.0.0.1:9"))
    assert local.authorize == "http://127.0.0.1:9/oauth/authorize" and local.revoke.endswith("/auth/oauth/revoke")


def test_the_declared_server_puts_the_client_credentials_in_the_body():
    server = plugin.authorization_server(settings=REAL, environment="production")
    assert server.client_auth == "client_secret_post" and not server.pkce and server.revoke_body == "form"
    assert (server.token_url, server.revoke_url) == ("https://api.freshbooks.com/auth/oauth/token",
                                                     "https://api.freshbooks.com/auth/oauth/revoke")
    assert server.refresh_token_lifetime is None  # never expires by age; single use instead


async def test_a_two_business_user_gets_one_tenant_per_business(fb_connect):
    fb: Connected = await fb_connect()
    assert [t.id for t in fb.tenants] == [ACCOUNT, ACCOUNT_2]
    assert [t.name for t in fb.tenants] == ["Demo Design Studio", "Demo Consulting (CAD)"]
    extra = fb.tenant.extra
    assert extra["account_id"] == ACCOUNT and extra["business_id"] == 7001
    assert extra["business_uuid"].endswith("7001") and extra["app_url"] == fb.fb.base_url
    other = fb.new_session(tenant=fb.tenants[1])
    names = [c.name for c in (await plugin.import_customers(session=other, cursor=None)).records]
    assert "Diego Rodriguez Ltd" in names


async def test_a_one_business_user_connects_directly(fb_connect):
    fb: Connected = await fb_connect(identity=SAM, account=ACCOUNT_2)
    assert [t.id for t in fb.tenants] == [ACCOUNT_2]


async def test_refresh_is_single_use_and_a_used_token_is_refused(fb_connect):
    fb: Connected = await fb_connect()
    fresh = await oauth.refresh("freshbooks", settings=fb.settings, environment="production",
                                refresh_token=fb.tokens.refresh_token)
    assert fresh.access_token != fb.tokens.access_token and fresh.refresh_token != fb.tokens.refresh_token
    page = await plugin.import_items(session=fb.new_session(token=fresh.access_token), cursor=None)
    assert page.records
    with pytest.raises(AuthorizationError) as caught:
        await oauth.refresh("freshbooks", settings=fb.settings, environment="production",
                            refresh_token=fb.tokens.refresh_token)
    assert caught.value.code == "token_revoked" and caught.value.provider_code == "invalid_grant"


async def test_a_used_code_and_wrong_credentials_are_refused(fb_connect):
    fb: Connected = await fb_connect()
    with pytest.raises(AuthorizationError):
        await oauth.exchange_code("freshbooks", settings=fb.settings, environment="production", code="not-a-code",
                                  redirect_uri=REDIRECT, code_verifier=None, params={})
    wrong = ProviderSettings(key="freshbooks", client_id=fb.settings.client_id, client_secret="wrong",
                             webhook_secret="", base_url=fb.settings.base_url)
    with pytest.raises(AuthorizationError) as caught:
        await oauth.refresh("freshbooks", settings=wrong, environment="production",
                            refresh_token=fb.tokens.refresh_token)
    assert caught.value.code == "environment_mismatch"


async def test_revoke_token_ends_the_connection(fb_connect):
    fb: Connected = await fb_connect()
    assert await oauth.revoke("freshbooks", session=fb.session, refresh_token=fb.tokens.refresh_token) is True
    with pytest.raises(AccessTokenExpired):
        await plugin.import_items(session=fb.session, cursor=None)


async def test_demo_sandbox_serves_oauth_with_the_returned_credentials():
    demo = plugin.demo_sandbox(public_url="http://127.0.0.1:1", webhook_url="http://127.0.0.1:1/webhooks/freshbooks")
    assert demo.webhook_secret and demo.client_id and demo.client_secret
    with serve(demo.app) as base_url:
        tokens, _, tenants = await oauth_connect(base_url)
        settings = ProviderSettings(key="freshbooks", client_id=demo.client_id, client_secret=demo.client_secret,
                                    webhook_secret=demo.webhook_secret, base_url=base_url)
        refreshed = await oauth.refresh("freshbooks", settings=settings, environment="production",
                                        refresh_token=tokens.refresh_token)
    assert len(tenants) == 2 and refreshed.access_token


async def test_an_unreachable_token_endpoint_is_provider_unavailable():
    with pytest.raises(ProviderUnavailable):
        await oauth.refresh("freshbooks", settings=settings_for("http://127.0.0.1:9"), environment="production",
                            refresh_token="x")
