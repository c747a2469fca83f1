"""Fixtures for the QBO sandbox tests: real uvicorn servers on free local ports, and the spec folder.

Tests talk real HTTP with httpx to a sandbox started in a background thread; the sandbox object is
also available for its Python control API. The default sandbox uses a frozen clock (time moves only
when a test advances it), so no test depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from ledgerbridge.sandbox.clock import SandboxClock
from ledgerbridge.sandbox.oauth import IssuedTokens
from ledgerbridge.sandbox.server import serve
from ledgerbridge_quickbooks.sandbox import SandboxConfig, create_app
from ledgerbridge_quickbooks.sandbox.app import QboSandbox, QboSandboxApp

START = datetime(2026, 3, 2, 18, 0, 0, tzinfo=UTC)  # 10:00 in the companies' Pacific time
REALM = "9341453170013431"
REALM_2 = "9341453170013432"
NAME_LISTS = {"Customer", "Employee", "Item", "Account", "TaxCode", "TaxRate"}


def loads(text: str | bytes) -> Any:
    """JSON with exact decimals, as an integration should parse QBO responses."""
    return json.loads(text, parse_float=Decimal)


class AppSwitch:
    """One uvicorn server for the whole session, dispatching to the current test's sandbox app.

    Starting and stopping uvicorn costs a few hundred milliseconds; swapping the app behind a live
    server keeps the suite fast while every test still gets a fresh sandbox and real HTTP.
    """

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if self.app is None:
            raise RuntimeError("no sandbox app installed")
        await self.app(scope, receive, send)


_SWITCH = AppSwitch()
_SHARED: dict[str, Any] = {}


@pytest.fixture(scope="session", autouse=True)
def _shared_server() -> Iterator[None]:
    with serve(_SWITCH) as base_url:
        _SHARED["base_url"] = base_url
        yield
    _SHARED.clear()


@dataclass
class QboHarness:
    """A running sandbox plus an authenticated client for one company."""

    base_url: str
    app: QboSandboxApp
    realm: str
    tokens: IssuedTokens
    http: httpx.Client
    extra_clients: list[httpx.Client] = field(default_factory=list)

    @property
    def sandbox(self) -> QboSandbox:
        return self.app.sandbox

    def path(self, tail: str, realm: str | None = None) -> str:
        return f"/v3/company/{realm or self.realm}/{tail}"

    def get(self, tail: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(self.path(tail), **kwargs)

    def post(self, tail: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["content"] = _dumps(body)
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        return self.http.post(self.path(tail), **kwargs)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return loads(response.text)

    def query(self, text: str) -> dict[str, Any]:
        return self.ok(self.get("query", params={"query": text}))["QueryResponse"]

    def create(self, entity_url: str, body: Any, **params: Any) -> dict[str, Any]:
        data = self.ok(self.post(entity_url, body, params=params))
        return next(v for k, v in data.items() if k != "time")

    def read(self, entity_url: str, entity_id: str) -> dict[str, Any]:
        data = self.ok(self.get(f"{entity_url}/{entity_id}"))
        return next(v for k, v in data.items() if k != "time")

    def fault(self, response: httpx.Response, status: int = 400) -> dict[str, Any]:
        assert response.status_code == status, response.text
        error = loads(response.text)["Fault"]["Error"][0]
        return error

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock and keep the client's access token fresh (QBO tokens last an hour)."""
        self.sandbox.advance(seconds)
        client = self.sandbox.oauth.client(self.tokens.grant.client_id)
        assert client is not None
        self.tokens = self.sandbox.oauth.refresh(client, self.tokens.refresh_token)
        self.http.headers["Authorization"] = f"Bearer {self.tokens.access_token}"

    def find(self, entity: str, field_name: str, value: str) -> dict[str, Any]:
        """The single record whose ``field_name`` equals ``value`` (inactive ones included)."""
        escaped = value.replace("'", "\\'")
        response = self.query(
            f"SELECT * FROM {entity} WHERE {field_name} = '{escaped}'"
            + (" AND Active IN (true, false)" if entity in NAME_LISTS else "")
        )
        rows = response.get(entity, [])
        assert len(rows) == 1, f"expected one {entity} with {field_name}={value!r}, got {rows}"
        return rows[0]

    def invoice_body(
        self, amount: str = "100.00", customer: str = "Cool Cars", item: str = "Design", **extra: Any
    ) -> dict[str, Any]:
        """A minimal valid invoice for a seeded customer and item."""
        customer_id = self.find("Customer", "DisplayName", customer)["Id"]
        item_id = self.find("Item", "Name", item)["Id"]
        return {
            "CustomerRef": {"value": customer_id},
            "Line": [
                {
                    "Amount": Decimal(amount),
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "TaxCodeRef": {"value": "NON"}},
                }
            ],
            **extra,
        }

    def client_for(self, realm: str) -> httpx.Client:
        """Another authenticated client (e.g. for the second company)."""
        tokens = self.sandbox.connect(realm)
        client = httpx.Client(
            base_url=self.base_url,
            timeout=10,
            headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
        )
        self.extra_clients.append(client)
        return client


@contextmanager
def _server_for(app: Any, dedicated: bool) -> Iterator[str]:
    if dedicated or "base_url" not in _SHARED:
        with serve(app) as base_url:
            yield base_url
        return
    _SWITCH.app = app
    try:
        yield _SHARED["base_url"]
    finally:
        _SWITCH.app = None


def _dumps(body: Any) -> bytes:
    from ledgerbridge.sandbox import jsoncodec

    return jsoncodec.dumps(body)


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None,
    clock: SandboxClock | None = None,
    realm: str = REALM,
    dedicated: bool = False,
) -> Iterator[QboHarness]:
    """Start a sandbox with ``config`` over real HTTP and yield a harness connected to ``realm``.

    ``dedicated`` gives the app its own uvicorn server (needed when its lifespan must run).
    """
    clock = clock or SandboxClock(scale=0, start=START)
    app = create_app(config, clock=clock)
    with _server_for(app, dedicated) as base_url:
        tokens = app.sandbox.connect(realm)
        http = httpx.Client(
            base_url=base_url,
            timeout=10,
            headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
        )
        harness = QboHarness(base_url, app, realm, tokens, http)
        try:
            yield harness
        finally:
            http.close()
            for client in harness.extra_clients:
                client.close()


@pytest.fixture
def qbo() -> Iterator[QboHarness]:
    """Default sandbox (demo companies, production limits, frozen clock at START)."""
    with running_sandbox() as harness:
        yield harness


@pytest.fixture
def qbo_factory() -> Iterator[Callable[..., QboHarness]]:
    """Start sandboxes with custom configuration; all are stopped at the end of the test."""
    stack: list[Any] = []

    def start(
        config: SandboxConfig | None = None,
        clock: SandboxClock | None = None,
        realm: str = REALM,
        dedicated: bool = False,
    ) -> QboHarness:
        manager = running_sandbox(config, clock, realm, dedicated)
        harness = manager.__enter__()
        stack.append(manager)
        return harness

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


REQUIRED_SPEC_FILES = (
    "FACTS.md",
    "quickbooks/xsd/IntuitRestServiceDef.xsd",
    "quickbooks/xsd/Finance.xsd",
    "quickbooks/xsd/IntuitBaseTypes.xsd",
    "quickbooks/xsd/IntuitNamesTypes.xsd",
    "quickbooks/xsd/SalesTax.xsd",
    "quickbooks/xsd/Report.xsd",
    "quickbooks/oauth2-documents/success_token_response.json",
    "quickbooks/oauth2-documents/discovery.json",
    "quickbooks/oauth2-documents/success_userinfo_response.json",
)


@pytest.fixture(scope="session")
def provider_specs() -> Path:
    """The shared provider-spec folder: skipped when unconfigured, an error when incomplete."""
    location = os.environ.get("LEDGERBRIDGE_PROVIDER_SPECS")
    if not location:
        pytest.skip(
            "LEDGERBRIDGE_PROVIDER_SPECS is not set; point it at the provider specs folder "
            "(e.g. /work/shared/providers) to run the spec-fidelity tests"
        )
    root = Path(location)
    missing = [name for name in REQUIRED_SPEC_FILES if not (root / name).is_file()]
    if missing:
        pytest.fail(f"LEDGERBRIDGE_PROVIDER_SPECS={location} lacks: {', '.join(missing)}")
    return root


@pytest.fixture(scope="session")
def qbo_xsd(provider_specs: Path) -> Any:
    """The official QBO schema loaded with xmlschema (once per session)."""
    from qbo_sandbox_xsd import QboXsd

    return QboXsd(provider_specs / "quickbooks" / "xsd")
