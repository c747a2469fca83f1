"""Signed webhook delivery to a real receiver that verifies with `standardwebhooks`: the journey from
the host's API call to `invoice.exported` and `invoice.status_changed` (paid); a receiver that fails,
hangs and goes away still gets everything, in order, each event under one id; secrets rotate
without losing an event; an endpoint that fails for the whole schedule is disabled and owners told.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import (
    DeliveryState,
    Notice,
    OutboxEvent,
    RunKind,
    SyncRun,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from prometheus_client import REGISTRY

from tests.conftest import make_connection
from tests.events.conftest import run_queued
from tests.events.receiver import Receiver


async def _register(api: Any, receiver: Receiver, **values: Any) -> dict[str, Any]:
    answer = await api.post("/api/v1/webhook-endpoints", json={"url": receiver.url, **values})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["secret"].startswith("whsec_")
    receiver.secrets = [created["secret"]]
    return created["endpoint"]


async def _all_delivered() -> bool:
    return await WebhookDelivery.count().where(WebhookDelivery.state != DeliveryState.delivered) == 0


async def _export_and_pay(api: Any, acme: Any, workspace_id: int) -> int:
    customer = (await api.post("/api/v1/customers", json={"name": "Globex"})).json()
    invoice = (await api.post("/api/v1/invoices", json={
        "customer_id": customer["id"], "lines": [{"description": "Audit", "quantity": "3", "unit_price": "100.10"}],
    })).json()
    assert (await api.post(f"/api/v1/invoices/{invoice['id']}/finalize")).status_code == 200
    [export] = (await api.post(f"/api/v1/invoices/{invoice['id']}/export")).json()["runs"]
    assert await jobs.execute(export["id"], owner="test-worker") == "done"
    remote_id = acme.remote_records("invoice")[0]["id"]
    acme.set_payment(remote_id, "300.30")  # the bookkeeper records the payment in the books
    run = await SyncRun.objects().where(SyncRun.id == export["id"]).first()
    poll = await jobs.enqueue(RunKind.poll_status, workspace_id=workspace_id, connection_id=run.connection)
    assert await jobs.execute(poll.id, owner="test-worker") == "done"
    return invoice["id"]


async def test_the_host_hears_its_invoice_exported_then_paid(api, tenant, acme, receiver, jobs_run_in_the_test):
    await make_connection(tenant.workspace_id)
    await _register(api, receiver, event_types=["invoice.*"])
    invoice_id = await _export_and_pay(api, acme, tenant.workspace_id)
    await run_queued(until=_all_delivered)

    assert receiver.refused_signatures == 0
    assert receiver.types() == ["invoice.exported", "invoice.status_changed"]
    exported, paid = [item.payload for item in receiver.unique()]
    assert exported["data"]["invoice_id"] == invoice_id and exported["data"]["provider"] == "acme"
    assert (paid["data"]["status"], paid["data"]["amount_paid"]) == ("paid", "300.30")
    assert [item.webhook_id for item in receiver.unique()] == [exported["id"], paid["id"]]

    # The feed answers the same events, in the same order, with a cursor to read on from.
    feed = (await api.get("/api/v1/events", params={"types": "invoice.*"})).json()
    assert [event["id"] for event in feed["items"]] == [exported["id"], paid["id"]]
    assert feed["items"][0] == exported
    after_first = (await api.get("/api/v1/events", params={"types": "invoice.*", "after": exported["cursor"]})).json()
    assert [event["id"] for event in after_first["items"]] == [paid["id"]]
    empty = (await api.get("/api/v1/events", params={"types": "invoice.*", "after": feed["next_cursor"]})).json()
    assert empty["items"] == [] and empty["next_cursor"] == feed["next_cursor"] and not empty["has_more"]


async def test_a_receiver_down_for_a_while_gets_everything_in_order_once(
        api, tenant, acme, receiver, jobs_run_in_the_test):
    connection = await make_connection(tenant.workspace_id)
    endpoint = await _register(api, receiver)
    expected: list[str] = []
    failed_before, delivered_before = _sent("failed"), _sent("delivered")

    async def change(reason: str) -> None:
        from ledgerbridge.events import records

        async with jobs.transaction() as tx:
            await tx.emit(records.connection_changed(connection, "connected", "needs_reconnect", reason))
        expected.append(reason)

    receiver.mode = "error"  # answers 500
    await change("one")
    await change("two")
    await run_queued(until=lambda: _attempts_at_least(2))
    receiver.mode = "slow"  # answers after the sender's timeout
    await change("three")
    # Wait for the outcome each phase is for, not a number of attempts: on a busy machine a retry
    # of the previous phase can land first.
    await run_queued(until=lambda: _first_delivery_saw("No answer within"))
    receiver.mode = "ok"
    receiver.stop()  # refuses connections
    await change("four")
    await run_queued(until=lambda: _first_delivery_saw("Connect"))
    receiver.start()
    await run_queued(until=_all_delivered)

    reasons = [item.payload["data"]["reason"] for item in receiver.unique()]
    assert reasons == expected
    outbox_ids = [row["event_id"] for row in await OutboxEvent.select(OutboxEvent.event_id).order_by(OutboxEvent.id)]
    assert [item.webhook_id for item in receiver.unique()] == outbox_ids
    log = (await api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries")).json()
    first = log["items"][-1]
    assert first["state"] == "delivered" and len(first["attempts"]) >= 4
    statuses = [attempt["status_code"] for attempt in first["attempts"]]
    errors = [attempt["error"] for attempt in first["attempts"]]
    assert statuses[0] == 500 and statuses[-1] == 204
    assert any("No answer within" in error for error in errors), errors
    assert any("Connect" in error for error in errors), errors
    # Every attempt is counted for /metrics: the failures while the receiver was down, then the deliveries.
    assert _sent("failed") - failed_before >= 4
    assert _sent("delivered") - delivered_before == len(expected)


def _sent(outcome: str) -> float:
    return REGISTRY.get_sample_value(
        "ledgerbridge_webhook_deliveries_total", {"provider": "host_app", "direction": "out", "outcome": outcome}
    ) or 0.0


async def _first_delivery_saw(error: str) -> bool:
    first = await WebhookDelivery.select(WebhookDelivery.id).order_by(WebhookDelivery.event).first()
    return first is not None and await WebhookAttempt.exists().where(
        (WebhookAttempt.delivery == first["id"]) & WebhookAttempt.error.like(f"%{error}%"))


async def _attempts_at_least(count: int) -> bool:
    rows = await WebhookDelivery.select(WebhookDelivery.attempts).order_by(WebhookDelivery.event).first()
    return rows is not None and rows["attempts"] >= count


async def test_a_rotated_secret_signs_with_both_during_the_grace(api, tenant, acme, receiver, jobs_run_in_the_test):
    connection = await make_connection(tenant.workspace_id)
    endpoint = await _register(api, receiver)
    old_secret = receiver.secrets[0]
    rotated = (await api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")).json()
    assert rotated["secret"] != old_secret and rotated["endpoint"]["previous_secret_expires_at"]
    receiver.secrets = [old_secret]  # a receiver that has not switched yet
    from ledgerbridge.events import records

    async with jobs.transaction() as tx:
        await tx.emit(records.connection_changed(connection, "connected", "disconnected", "bye"))
    await run_queued(until=_all_delivered)
    receiver.secrets = [rotated["secret"]]  # ...and one that has
    async with jobs.transaction() as tx:
        await tx.emit(records.connection_changed(connection, "disconnected", "connected", ""))
    await run_queued(until=_all_delivered)
    assert len(receiver.unique()) == 2 and receiver.refused_signatures == 0


async def test_an_endpoint_failing_the_whole_schedule_is_disabled_and_owners_told(
        api, tenant, acme, receiver, jobs_run_in_the_test):
    connection = await make_connection(tenant.workspace_id)
    endpoint = await _register(api, receiver)
    receiver.mode = "error"
    from ledgerbridge.events import records

    async with jobs.transaction() as tx:
        await tx.emit(records.connection_changed(connection, "connected", "disconnected", "bye"))

    async def disabled() -> bool:
        row = await WebhookEndpoint.objects().where(WebhookEndpoint.id == endpoint["id"]).first()
        return not row.enabled

    await run_queued(until=disabled)
    delivery = await WebhookDelivery.objects().first()
    assert delivery.state == DeliveryState.failed and delivery.attempts == 10  # the first try and 9 retries
    notice = await Notice.objects().where(Notice.kind == "endpoint_disabled").first()
    assert notice is not None and receiver.url in notice.subject and notice.user == tenant.owner_id

    receiver.mode = "ok"  # fixed; enabling it again retries what was left
    answer = await api.patch(f"/api/v1/webhook-endpoints/{endpoint['id']}", json={"enabled": True})
    assert answer.status_code == 200 and answer.json()["enabled"] and answer.json()["pending"] == 1
    await run_queued(until=_all_delivered)
    assert receiver.types() == ["connection.disconnected"]
