"""Managing endpoints through /api/v1/webhook-endpoints and reading /api/v1/events."""

from __future__ import annotations

from datetime import timedelta

from ledgerbridge import jobs
from ledgerbridge.events import records
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import OutboxEvent, WebhookDelivery

from tests.conftest import make_connection, make_tenant
from tests.events.conftest import run_queued


async def test_endpoints_are_created_listed_changed_and_deleted(api, app, tenant, receiver):
    created = await api.post("/api/v1/webhook-endpoints", json={
        "url": receiver.url, "description": "host app", "event_types": ["invoice.exported", "connection.*"]})
    assert created.status_code == 201, created.text
    body = created.json()
    endpoint, secret = body["endpoint"], body["secret"]
    assert secret.startswith("whsec_") and endpoint["enabled"] and endpoint["pending"] == 0

    listed = (await api.get("/api/v1/webhook-endpoints")).json()["items"]
    assert [item["id"] for item in listed] == [endpoint["id"]]
    assert secret not in (await api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}")).text  # shown once

    changed = await api.patch(f"/api/v1/webhook-endpoints/{endpoint['id']}", json={"event_types": ["issue.*"]})
    assert changed.status_code == 200 and changed.json()["event_types"] == ["issue.*"]
    refused = await api.patch(f"/api/v1/webhook-endpoints/{endpoint['id']}", json={"event_types": ["invoice.paid"]})
    assert refused.status_code == 400 and "invoice.paid" in refused.json()["message"]

    from litestar.testing import AsyncTestClient

    other = await make_tenant("other@elsewhere.test", "Elsewhere")
    async with AsyncTestClient(app=app) as stranger:
        stranger.headers.update(other.headers)
        assert (await stranger.get(f"/api/v1/webhook-endpoints/{endpoint['id']}")).status_code == 404
        assert (await stranger.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}")).status_code == 404

    assert (await api.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}")).status_code == 200
    assert (await api.get("/api/v1/webhook-endpoints")).json()["items"] == []


async def test_a_url_outside_the_allow_list_is_refused(api, monkeypatch):
    monkeypatch.setenv("LEDGERBRIDGE_WEBHOOK_ALLOWED_HOSTS", "hooks.example.com,.trusted.test")
    get_settings.cache_clear()
    refused = await api.post("/api/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/x"})
    assert refused.status_code == 400 and refused.json()["fields"][0]["field"] == "url"
    assert (await api.post("/api/v1/webhook-endpoints", json={"url": "https://a.trusted.test/x"})).status_code == 201
    assert (await api.post("/api/v1/webhook-endpoints", json={"url": "ftp://hooks.example.com/x"})).status_code == 400


async def test_private_addresses_can_be_refused_at_send_time(api, receiver, monkeypatch):
    endpoint = (await api.post("/api/v1/webhook-endpoints", json={"url": receiver.url})).json()["endpoint"]
    receiver.secrets = []
    monkeypatch.setenv("LEDGERBRIDGE_WEBHOOK_ALLOW_PRIVATE", "false")
    get_settings.cache_clear()
    result = (await api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test")).json()
    assert not result["ok"] and "private address" in result["error"] and receiver.requests == 0


async def test_a_test_event_is_signed_and_answered(api, receiver):
    created = (await api.post("/api/v1/webhook-endpoints", json={"url": receiver.url})).json()
    receiver.secrets = [created["secret"]]
    result = (await api.post(f"/api/v1/webhook-endpoints/{created['endpoint']['id']}/test")).json()
    assert result["ok"] and result["status_code"] == 204 and result["latency_ms"] >= 0
    [received] = receiver.received
    assert received.payload["type"] == "webhook.test" and received.webhook_id == received.payload["id"]
    assert await OutboxEvent.count() == 0  # a test is not an event of the workspace


async def test_resend_sends_the_same_event_under_the_same_id(api, tenant, acme, receiver, jobs_run_in_the_test):
    connection = await make_connection(tenant.workspace_id)
    created = (await api.post("/api/v1/webhook-endpoints", json={"url": receiver.url})).json()
    receiver.secrets = [created["secret"]]
    endpoint_id = created["endpoint"]["id"]
    async with jobs.transaction() as tx:
        await tx.emit(records.connection_changed(connection, "connected", "disconnected", "bye"))
    await run_queued()
    [delivery] = (await api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries")).json()["items"]
    assert delivery["state"] == "delivered" and delivery["attempts"][0]["status_code"] == 204
    resent = await api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery['id']}/resend")
    assert resent.status_code == 200 and resent.json()["state"] == "pending"
    await run_queued()
    assert [item.webhook_id for item in receiver.received] == [delivery["event_id"]] * 2
    assert len(receiver.unique()) == 1
    log = (await api.get(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries")).json()["items"]
    assert [attempt["number"] for attempt in log[0]["attempts"]] == [1, 2]
    missing = await api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/999/resend")
    assert missing.status_code == 404


async def test_the_feed_pages_by_cursor_filters_by_type_and_forgets_after_retention(api, tenant, acme):
    connection = await make_connection(tenant.workspace_id)
    for status, reason in [("disconnected", "a"), ("connected", ""), ("needs_reconnect", "b")]:
        async with jobs.transaction() as tx:
            await tx.emit(records.connection_changed(connection, "", status, reason))
    first = (await api.get("/api/v1/events", params={"limit": 2})).json()
    assert [e["type"] for e in first["items"]] == ["connection.disconnected", "connection.connected"]
    assert first["has_more"]
    rest = (await api.get("/api/v1/events", params={"after": first["next_cursor"]})).json()
    assert [e["type"] for e in rest["items"]] == ["connection.needs_reconnect"] and not rest["has_more"]
    only = (await api.get("/api/v1/events", params={"types": ["connection.needs_reconnect"]})).json()
    assert [e["data"]["reason"] for e in only["items"]] == ["b"]
    assert (await api.get("/api/v1/events", params={"after": "yesterday"})).status_code == 400
    assert (await api.get("/api/v1/events", params={"types": "nope.*"})).status_code == 400
    catalogue = (await api.get("/api/v1/events/types")).json()["items"]
    assert {"invoice.exported", "payment.recorded", "issue.resolved"} <= {t["type"] for t in catalogue}

    old = await OutboxEvent.objects().order_by(OutboxEvent.id).first()
    retention = get_settings().event_retention_days
    await OutboxEvent.update({OutboxEvent.occurred_at: old.occurred_at - timedelta(days=retention + 1)}).where(
        OutboxEvent.id == old.id)
    kept = (await api.get("/api/v1/events")).json()["items"]
    assert [e["type"] for e in kept] == ["connection.connected", "connection.needs_reconnect"]
    from ledgerbridge.events.outbox import prune

    assert await prune() == 1 and await OutboxEvent.count() == 2
    assert await WebhookDelivery.count() == 0
