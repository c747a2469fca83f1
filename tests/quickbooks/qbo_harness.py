"""Harness for the QBO sandbox tests: a sandbox over real HTTP and a client connected to one company.

Tests talk real HTTP with httpx to a sandbox served from a background thread (behind the session's
:class:`~ledgerbridge_testing.sandbox.server.AppSwitch`); the sandbox object is also available for its Python
control API. The default sandbox uses a frozen clock (time moves only when a test advances it), so no
test depends on how fast the machine is. Named uniquely (not ``conftest``) so test modules can import
it beside the other provider test folders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from ledgerbridge_quickbooks.sandbox import SandboxConfig, create_app
from ledgerbridge_quickbooks.sandbox.app import QboSandbox, QboSandboxApp
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.oauth import IssuedTokens
from ledgerbridge_testing.sandbox.server import AppSwitch

START = datetime(2026, 3, 2, 18, 0, 0, tzinfo=UTC)  # 10:00 in the companies' Pacific time
REALM = "9341453170013431"
REALM_2 = "9341453170013432"
NAME_LISTS = {"Customer", "Employee", "Item", "Account", "TaxCode", "TaxRate"}


def loads(text: str | bytes) -> Any:
    """JSON with exact decimals, as an integration should parse QBO responses."""
    return json.loads(text, parse_float=Decimal)


SWITCH = AppSwitch()  # one uvicorn server for the session; conftest starts it


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


def _dumps(body: Any) -> bytes:
    from ledgerbridge_testing.sandbox import jsoncodec

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
    with SWITCH.serving(app, dedicated) as base_url:
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
