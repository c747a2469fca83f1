"""Fixtures for the contract tests: each provider's sandbox served over real HTTP on a free port.

The official client libraries speak ``requests`` to a real socket, so each test gets a fresh sandbox on
its own uvicorn server (a frozen clock unless the test advances it), exactly as a library user would
reach the real service.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from ledgerbridge_freshbooks.sandbox import create_app as create_freshbooks_app
from ledgerbridge_quickbooks.sandbox import create_app as create_qbo_app
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.server import serve
from ledgerbridge_xero.sandbox import create_app as create_xero_app

START = datetime(2026, 3, 2, 18, 0, 0, tzinfo=UTC)


class Served:
    """A sandbox app and the base URL it answers on."""

    def __init__(self, app: Any, base_url: str) -> None:
        self.app = app
        self.base_url = base_url

    @property
    def sandbox(self) -> Any:
        return self.app.sandbox


@pytest.fixture
def qbo_served() -> Iterator[Served]:
    app = create_qbo_app(None, clock=SandboxClock(scale=0, start=START))
    with serve(app) as base_url:
        yield Served(app, base_url)


@pytest.fixture
def xero_served() -> Iterator[Served]:
    app = create_xero_app(None, clock=SandboxClock(scale=0, start=START))
    with serve(app) as base_url:
        yield Served(app, base_url)


@pytest.fixture
def freshbooks_served() -> Iterator[Served]:
    app = create_freshbooks_app(None, clock=SandboxClock(scale=0, start=START))
    with serve(app) as base_url:
        yield Served(app, base_url)


@pytest.fixture(autouse=True)
def _plain_http_oauth(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib refuses http:// unless told the transport is local; the sandboxes serve plain HTTP on 127.0.0.1."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
