"""Harness for the FreshBooks sandbox tests: a real uvicorn server per session, a fresh sandbox per test.

Swapping the app behind one live server keeps the suite fast while each test still gets its own sandbox
and talks real HTTP. Sandboxes run on a frozen clock (time moves only when a test advances it).
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
from ledgerbridge_freshbooks.sandbox import FbSandbox, FbSandboxApp, SandboxConfig, create_app
from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.oauth import IssuedTokens
from ledgerbridge_testing.sandbox.server import AppSwitch

START = datetime(2026, 3, 2, 15, 0, 0, tzinfo=UTC)  # 10:00 in US/Eastern
ACCOUNT = "LBD7x2"
ACCOUNT_2 = "LBK9q4"
DANA = 4101  # member of both businesses
SAM = 4102  # member of ACCOUNT_2 only


def loads(text: str | bytes) -> Any:
    """JSON with exact decimals, as an integration should parse FreshBooks responses."""
    return json.loads(text, parse_float=Decimal)


SWITCH = AppSwitch()  # one uvicorn server for the session; conftest starts it


@dataclass
class FbHarness:
    """A running sandbox plus a client authenticated as one user, working in one business."""

    base_url: str
    app: FbSandboxApp
    account: str
    tokens: IssuedTokens
    http: httpx.Client
    extra: list[httpx.Client] = field(default_factory=list)

    @property
    def sandbox(self) -> FbSandbox:
        return self.app.sandbox

    def path(self, tail: str, account: str | None = None) -> str:
        return f"/accounting/account/{account or self.account}/{tail}"

    def get(self, tail: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(self.path(tail), **kwargs)

    def send(self, method: str, tail: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["content"] = jsoncodec.dumps(body)
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        return self.http.request(method, self.path(tail), **kwargs)

    @staticmethod
    def ok(response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return loads(response.text)

    def result(self, response: httpx.Response) -> Any:
        return self.ok(response)["response"]["result"]

    def create(self, tail: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.result(self.send("POST", tail, {key: body}))[key]

    def update(self, tail: str, key: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self.result(self.send("PUT", tail, {key: body}, params=params))[key]

    def listing(self, tail: str, **params: Any) -> dict[str, Any]:
        return self.result(self.get(tail, params=params))

    def client_id(self, organization: str = "Cool Cars") -> int:
        clients = self.listing("users/clients", **{"search[organization]": organization})["clients"]
        assert len(clients) == 1, clients
        return clients[0]["id"]

    def invoice(self, amount: str = "100.00", number: str | None = "T-1", **extra: Any) -> dict[str, Any]:
        """Create a one-line invoice for a seeded client (explicit number unless ``number`` is None)."""
        body: dict[str, Any] = {
            "customerid": self.client_id(),
            "create_date": "2026-03-02",
            "lines": [{"name": "Design", "qty": "1", "unit_cost": {"amount": amount, "code": "USD"}}],
            **extra,
        }
        if number is not None:
            body["invoice_number"] = number
        return self.result(self.send("POST", "invoices/invoices", {"invoice": body},
                                     params={"include[]": "lines"}))["invoice"]

    def pay(self, invoice_id: int, amount: str, date: str = "2026-03-02") -> dict[str, Any]:
        return self.create("payments/payments", "payment", {
            "invoiceid": invoice_id, "amount": {"amount": amount, "code": "USD"}, "date": date, "type": "Check"})

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock and refresh the access token (they last 12 hours)."""
        self.sandbox.advance(seconds)
        client = self.sandbox.oauth.client(self.tokens.grant.client_id)
        assert client is not None
        self.tokens = self.sandbox.oauth.refresh(client, self.tokens.refresh_token)
        self.http.headers["Authorization"] = f"Bearer {self.tokens.access_token}"

    def authed(self, tokens: IssuedTokens) -> httpx.Client:
        """Another client with the given tokens."""
        client = httpx.Client(base_url=self.base_url, timeout=10,
                              headers={"Authorization": f"Bearer {tokens.access_token}"})
        self.extra.append(client)
        return client


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, clock: SandboxClock | None = None, identity: int = DANA,
    account: str = ACCOUNT, dedicated: bool = False,
) -> Iterator[FbHarness]:
    """A sandbox over real HTTP with a harness connected as ``identity`` working in ``account``."""
    clock = clock or SandboxClock(scale=0, start=START)
    app = create_app(config, clock=clock)
    with SWITCH.serving(app, dedicated) as base_url:
        tokens = app.sandbox.connect(identity)
        http = httpx.Client(base_url=base_url, timeout=10,
                            headers={"Authorization": f"Bearer {tokens.access_token}"})
        harness = FbHarness(base_url, app, account, tokens, http)
        try:
            yield harness
        finally:
            http.close()
            for client in harness.extra:
                client.close()
