"""The example host app (examples/host_app) against a real LedgerBridge over HTTP: it pushes a
customer, time entries and an invoice; the invoice is exported to the (Acme) books, the bookkeeper
records the payment there, and the example's receiver gets `invoice.exported`, `payment.recorded`
and `invoice.status_changed` (paid), each verified by `standardwebhooks` on the receiving side."""

from __future__ import annotations

from typing import Any

import httpx
from ledgerbridge import jobs
from ledgerbridge.app import create_app
from ledgerbridge.asgi_thread import ThreadServer
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import DeliveryState, RunKind, WebhookDelivery

from examples.host_app.push import push_work, register_receiver
from examples.host_app.receiver import create_receiver
from tests.conftest import make_connection
from tests.events.conftest import run_queued


async def _delivered() -> bool:
    return await WebhookDelivery.count().where(WebhookDelivery.state != DeliveryState.delivered) == 0


async def test_the_example_host_app_pushes_work_and_hears_it_paid(tenant, acme, jobs_run_in_the_test) -> None:
    connection = await make_connection(tenant.workspace_id)
    bridge = ThreadServer(create_app(get_settings(), background=False))
    bridge_url = bridge.start()
    seen: list[dict[str, Any]] = []
    host = None
    try:
        with httpx.Client(base_url=bridge_url, headers={"Authorization": f"Bearer {tenant.api_key}"}) as api:
            # The receiver needs the secret, which exists once the endpoint does: register, then serve.
            probe = ThreadServer(create_receiver("whsec_" + "A" * 43 + "=", []))
            port = probe.port
            probe.sock.close()
            secret = register_receiver(api, f"http://127.0.0.1:{port}")
            host = ThreadServer(create_receiver(secret, seen), port=port)
            host.start()
            pushed = push_work(api)
        assert pushed["invoice"]["total"] == "900.00"
        for run in pushed["runs"]:
            assert await jobs.execute(run["id"], owner="test-worker") == "done"
        remote_id = acme.remote_records("invoice")[0]["id"]
        acme.set_payment(remote_id, "900.00")  # the bookkeeper records the payment in the books
        poll = await jobs.enqueue(RunKind.poll_status, workspace_id=tenant.workspace_id, connection_id=connection.id)
        assert await jobs.execute(poll.id, owner="test-worker") == "done"
        await run_queued(until=_delivered)
    finally:
        bridge.stop()
        if host is not None:
            host.stop()
    assert [event["type"] for event in seen] == ["invoice.exported", "payment.recorded", "invoice.status_changed"]
    assert seen[-1]["data"]["status"] == "paid" and seen[-1]["data"]["invoice_id"] == pushed["invoice"]["id"]
    assert seen[1]["data"]["amount"] == "900.00"
