"""Webhooks: the built-in receiver verifies through the provider's hook and queues reads."""

from __future__ import annotations

import json

import pytest
from ledgerbridge import jobs
from ledgerbridge.plugins import get_registry
from ledgerbridge.tables import RunKind, SyncRun
from ledgerbridge.webhooks import handle_events


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)


def test_route_handlers_hook_mounts_the_webhook_receiver(acme):
    paths = set().union(*(getattr(h, "paths", set()) for h in get_registry().collect("route_handlers")))
    assert "/webhooks/{provider:str}" in paths


async def test_signed_events_queue_the_reads_they_call_for(connection, acme):
    body = json.dumps({"events": [
        {"company_id": "acme-1", "record_type": "invoice", "record_id": "17", "action": "updated"},
        {"company_id": "acme-1", "record_type": "customer", "record_id": "3", "action": "created"},
        {"company_id": "someone-else", "record_type": "invoice", "record_id": "99", "action": "updated"},
    ]}).encode()
    registry = get_registry()
    settings = __import__("ledgerbridge.settings", fromlist=["get_settings"]).get_settings().provider("acme")
    good = {"x-acme-signature": acme.sign("acme-secret", body)}
    assert await registry.call("acme", "verify_webhook", settings=settings, headers=good, body=body)
    assert not await registry.call("acme", "verify_webhook", settings=settings,
                                   headers={"x-acme-signature": "forged"}, body=body)
    events = await registry.call("acme", "parse_webhook", settings=settings, headers=good, body=body)
    await handle_events("acme", events)
    runs = {r.kind: r for r in await SyncRun.objects()}
    assert set(runs) == {RunKind.poll_status, RunKind.import_customers}
    assert jobs.loads(runs[RunKind.poll_status].params) == {"remote_ids": ["17"]}  # the other tenant's is ignored
