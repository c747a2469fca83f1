"""Helpers for the Xero sandbox tests: a harness around a sandbox served over real HTTP.

Named uniquely (not ``conftest``) so test modules can import it without clashing with other
provider test folders.
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
from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.server import serve
from ledgerbridge_xero.sandbox import SandboxConfig, create_app
from ledgerbridge_xero.sandbox.app import XeroSandbox, XeroSandboxApp

START = datetime(2026, 3, 2, 18, 0, 0, tzinfo=UTC)
NZ = "7c3e5b0d-5e4e-4b8a-9a77-2b7f0f6b1a01"
UK = "3f2a9c14-8d1b-4f0e-b6c5-91d2e4a7c302"
API = "/api.xro/2.0"


def loads(text: str | bytes) -> Any:
    """JSON with exact decimals, as an integration must parse Xero's answers."""
    return json.loads(text, parse_float=Decimal)


@dataclass
class XeroHarness:
    """A running sandbox and an HTTP client connected to one organisation."""

    base_url: str
    app: XeroSandboxApp
    tenant: str
    tokens: dict[str, Any]
    http: httpx.Client
    extra: list[httpx.Client] = field(default_factory=list)

    @property
    def sandbox(self) -> XeroSandbox:
        return self.app.sandbox

    def get(self, tail: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(f"{API}/{tail}", **kwargs)

    def send(self, method: str, tail: str, body: Any, **kwargs: Any) -> httpx.Response:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{API}/{tail}", content=jsoncodec.dumps(body), headers=headers, **kwargs)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return loads(response.text)

    def contact(self, name: str = "Bayside Club") -> dict[str, Any]:
        contacts = self.ok(self.get("Contacts", params={"where": f'Name=="{name}"', "includeArchived": "true"}))
        return contacts["Contacts"][0]

    def invoice_body(self, amount: str = "100.00", status: str = "AUTHORISED", **extra: Any) -> dict[str, Any]:
        return {
            "Type": "ACCREC",
            "Contact": {"ContactID": self.contact()["ContactID"]},
            "Date": "2026-03-02",
            "DueDate": "2026-04-01",
            "Status": status,
            "LineItems": [
                {
                    "Description": "Consulting",
                    "Quantity": 1,
                    "UnitAmount": Decimal(amount),
                    "AccountCode": "200",
                    "TaxType": "OUTPUT2",
                }
            ],
            **extra,
        }

    def create_invoice(self, **kwargs: Any) -> dict[str, Any]:
        return self.ok(self.send("PUT", "Invoices", {"Invoices": [self.invoice_body(**kwargs)]}))["Invoices"][0]

    def client(self, token: str, tenant: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if tenant:
            headers["xero-tenant-id"] = tenant
        client = httpx.Client(base_url=self.base_url, timeout=10, headers=headers)
        self.extra.append(client)
        return client


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, clock: SandboxClock | None = None, tenant: str = NZ
) -> Iterator[XeroHarness]:
    """Serve a fresh sandbox on a free port; yield a harness connected to ``tenant``."""
    clock = clock or SandboxClock(scale=0, start=START)
    app = create_app(config, clock=clock)
    with serve(app) as base_url:
        tokens = app.sandbox.connect((tenant,))
        http = httpx.Client(
            base_url=base_url,
            timeout=10,
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "xero-tenant-id": tenant,
                "Accept": "application/json",
            },
        )
        harness = XeroHarness(base_url, app, tenant, tokens, http)
        try:
            yield harness
        finally:
            http.close()
            for client in harness.extra:
                client.close()
