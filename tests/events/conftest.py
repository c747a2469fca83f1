"""Fixtures of the events tests: short retry waits, a real webhook receiver, a real SMTP server,
and a helper that runs queued delivery and notice runs as a worker would."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import Tenant
from tests.events.receiver import Receiver

RETRY_WAITS = "0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2"


@pytest.fixture(autouse=True)
def quick_webhooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Retries a fifth of a second apart and a one-second timeout, so a test sees the whole schedule."""
    from ledgerbridge.settings import get_settings

    monkeypatch.setenv("LEDGERBRIDGE_WEBHOOK_RETRY_SCHEDULE", RETRY_WAITS)
    monkeypatch.setenv("LEDGERBRIDGE_WEBHOOK_TIMEOUT_SECONDS", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


class Mailbox:
    """A real SMTP server (aiosmtpd) that keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    from ledgerbridge.settings import get_settings

    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a real port number to check it started
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("LEDGERBRIDGE_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setenv("LEDGERBRIDGE_MAIL_FROM", "LedgerBridge <bridge@example.test>")
    get_settings.cache_clear()
    yield box
    controller.stop()
    get_settings.cache_clear()


@pytest.fixture
async def api(app: Litestar, tenant: Tenant) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The host app: calls the API with the tenant's API key."""
    async with AsyncTestClient(app=app) as test_client:
        test_client.headers.update(tenant.headers)
        yield test_client


async def run_queued(*, until: Any = None, within: float = 30.0) -> None:
    """Run queued delivery and notice runs as a worker would, until `until()` holds (or none is left)."""
    from ledgerbridge import jobs
    from ledgerbridge.tables import RunKind, RunState, SyncRun

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        queued = await SyncRun.select(SyncRun.id).where(
            SyncRun.kind.is_in([RunKind.deliver_webhooks, RunKind.send_notices])
            & (SyncRun.state == RunState.queued)
        ).order_by(SyncRun.id)
        for row in queued:
            await jobs.execute(row["id"], owner="test-worker")
        if until is not None and await until():
            return
        if until is None and not queued:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the queued deliveries did not finish in time")
