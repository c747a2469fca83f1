"""An idle status poll costs one request at the provider's door, on every provider with a sandbox
(issue 18 item 3): after exported invoices were paid and read back, a poll with nothing changed is a
single change read. Requests are counted by an ASGI layer in front of the sandbox, so they are what
the provider would see."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from ledgerbridge import demo
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import RunKind, RunState
from ledgerbridge_testing.conformance import steps
from ledgerbridge_testing.world import ProviderWorld, providers_with_sandbox


class Door:
    """Writes down every provider API request the sandbox receives (not its control or accountant pages)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(("/_sandbox", "/accountant")):
            self.requests.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


@contextmanager
def counted_world(provider: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ProviderWorld, Door]]:
    doors: list[Door] = []
    sandbox = demo.serve_sandbox(provider, bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                 base_url=get_settings().base_url, wrap=lambda app: doors.append(Door(app)) or doors[0])
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with httpx.Client(base_url=sandbox.url, timeout=30) as http:
            yield ProviderWorld(key=provider, url=sandbox.url, http=http), doors[0]
    finally:
        sandbox.server.stop()


@pytest.mark.parametrize("provider", providers_with_sandbox())
async def test_an_idle_status_poll_is_one_request(provider: str, database: str, jobs_run_in_the_test: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with counted_world(provider, monkeypatch) as (world, door):
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        invoices = [await steps.local_invoice(connection, f"LB-81{n}") for n in range(3)]
        for invoice in invoices:
            exported = await steps.run(RunKind.export_invoice, connection, invoice_id=invoice.id)
            assert exported.state == RunState.done, exported.error
        paid = await steps.remote_of(connection, invoices[0])
        assert paid is not None and paid.remote_id
        world.accountant(connection.tenant_id, "record_payment", invoice_id=paid.remote_id, amount="120.00")
        for _ in range(2):  # everything is read back once, and the paid invoice with its payment
            polled = await steps.run(RunKind.poll_status, connection)
            assert polled.state == RunState.done, polled.error

        before = len(door.requests)
        idle = await steps.run(RunKind.poll_status, connection)
        assert idle.state == RunState.done, idle.error
        assert len(door.requests[before:]) == 1, door.requests[before:]
