"""The plugin's demo_sandbox hook hands ``serve`` a working, correctly configured sandbox."""

from __future__ import annotations

import httpx
from ledgerbridge.provider import DemoSandbox
from ledgerbridge_testing.sandbox.server import serve
from ledgerbridge_xero import plugin


def test_demo_sandbox_is_configured_for_the_given_urls() -> None:
    demo = plugin.demo_sandbox(public_url="http://127.0.0.1:8702", webhook_url="http://127.0.0.1:8000/webhooks/xero")
    assert isinstance(demo, DemoSandbox)
    assert (demo.client_id, demo.client_secret) == ("ledgerbridge-demo-client", "ledgerbridge-demo-secret")
    sandbox = demo.app.sandbox
    assert sandbox.webhooks.url == "http://127.0.0.1:8000/webhooks/xero"
    assert sandbox.webhooks.key == demo.webhook_secret != ""
    with serve(demo.app) as url:
        discovery = httpx.get(f"{url}/.well-known/openid-configuration").json()
        assert discovery["token_endpoint"] == "http://127.0.0.1:8702/connect/token"
        page = httpx.get(
            f"{url}/identity/connect/authorize",
            params={
                "client_id": demo.client_id,
                "redirect_uri": "http://localhost:8123/oauth/callback",
                "response_type": "code",
                "scope": "offline_access accounting.transactions",
            },
        )
        assert page.status_code == 200 and "Demo Company (NZ)" in page.text
