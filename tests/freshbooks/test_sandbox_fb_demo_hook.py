"""The plugin's demo_sandbox hook serves a configured sandbox whose webhooks reach LedgerBridge signed."""

from __future__ import annotations

import asyncio

import httpx
from ledgerbridge_freshbooks import plugin
from ledgerbridge_freshbooks.sandbox.notifications import signature
from ledgerbridge_testing.sandbox.server import serve


def test_demo_sandbox_is_preconfigured() -> None:
    demo = plugin.demo_sandbox(public_url="http://127.0.0.1:8703", webhook_url="http://127.0.0.1:9/webhooks/fb")
    sandbox = demo.app.sandbox
    assert (demo.client_id, demo.client_secret) == ("ledgerbridge-demo-client", "ledgerbridge-demo-secret")
    business = next(iter(sandbox.state.businesses.values()))
    assert all(c.verified and c.verifier == demo.webhook_secret for c in business.callbacks.values())
    assert {c.event for c in business.callbacks.values()} >= {"invoice.create", "payment.create", "client.update"}
    tokens = sandbox.connect()
    with serve(demo.app) as url:
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        link_base = httpx.post(f"{url}/accounting/account/{business.account_id}/users/clients", headers=headers,
                               json={"client": {"organization": "Demo hook"}})
        assert link_base.status_code == 200
    delivery = sandbox.outbox.pending()[-1]
    fields = dict(httpx.QueryParams(delivery.body.decode()))
    assert fields["name"] == "client.create"
    assert delivery.headers["X-FreshBooks-Hmac-SHA256"] == signature(demo.webhook_secret, fields)
    asyncio.run(sandbox.outbox.flush())  # nothing listens on port 9: the delivery stays queued for retry
    assert sandbox.outbox.pending()
