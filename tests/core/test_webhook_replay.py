"""A captured signed webhook cannot be replayed to queue provider reads again and again."""

from __future__ import annotations

import json

import pytest
from ledgerbridge import jobs
from ledgerbridge.plugins import get_registry
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import SyncRun
from ledgerbridge.webhooks import handle_events


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)


def _body(record_id: str) -> bytes:
    return json.dumps({"events": [
        {"company_id": "acme-1", "record_type": "invoice", "record_id": record_id, "action": "updated"},
    ]}).encode()


async def test_the_same_delivery_twice_queues_its_reads_once(connection, acme):
    registry = get_registry()
    settings = get_settings().provider("acme")
    body = _body("17")
    events = await registry.call("acme", "parse_webhook", settings=settings, headers={}, body=body)
    first = await handle_events("acme", events, body=body)
    assert first and await SyncRun.count() == len(first)
    for _ in range(5):
        assert await handle_events("acme", events, body=body) == []
    assert await SyncRun.count() == len(first)
    other = _body("18")
    later = await registry.call("acme", "parse_webhook", settings=settings, headers={}, body=other)
    assert await handle_events("acme", later, body=other)  # a new delivery is handled as usual
