"""Acme Books for LedgerBridge's own tests: its sandbox on a free port, and a bookkeeper's hands in it.

LedgerBridge's engine tests speak of "the provider" in a few words: seed a customer there, list what
it holds, record a payment, make the next batch request be throttled. `AcmeTestBooks` says those
words against a running Acme sandbox, in its books and its `Idempotency-Key` store, so what a test
seeds is what the plugin then reads over HTTP, exactly as from any provider.

The test books hold two empty companies, "acme-1" ("Acme Test Co", the one a test connects by
default) and "acme-2" (for a second connection). What a test seeds goes into both, as the same
records a bookkeeper would have typed into each (references such as an item's income account point
at that company's own copy); what it reads is "acme-1"'s unless it names another company.

`CALLS` lists the Acme hooks the core called in this process, in order. A batch request is listed as
`export_invoices_batch` followed by one `export_invoice` per invoice it carried, since the batch
exports each of them. `EVENTS` is `ledgerbridge_acme.journal.EVENTS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from ledgerbridge.plugins import get_registry, reset_registry
from ledgerbridge.provider import InvoiceData, TokenSet
from ledgerbridge.settings import get_settings
from ledgerbridge_testing.sandbox.server import serve

from ledgerbridge_acme import client, journal, mapping, webhooks
from ledgerbridge_acme.sandbox import Sandbox, SandboxConfig, create_app

TENANTS = (("acme-1", "Acme Test Co"), ("acme-2", "Acme Test Co 2"))
DEFAULT_TENANT = TENANTS[0][0]
WEBHOOK_SECRET = "acme-secret"
REDIRECT_URI = "http://127.0.0.1/oauth/callback"  # any loopback redirect is accepted by the sandbox
ENV_PREFIX = "LEDGERBRIDGE_ACME_"

#: The old test vocabulary's record kinds -> the sandbox's collections.
KINDS = {"customer": "customers", "item": "items", "account": "accounts", "tax_rate": "tax_rates",
         "invoice": "invoices", "payment": "payments", "time": "time_entries"}

CALLS: list[str] = []
EVENTS = journal.EVENTS


def _plain(value: Any) -> Any:
    """Amounts as the exact strings tests compare with ("300.30")."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class ThrottledBatches:
    """`THROTTLED_BATCHES[0] = n`: the sandbox answers the next n batch requests with 429."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __getitem__(self, index: int) -> int:
        return self.sandbox.refused_batches

    def __setitem__(self, index: int, count: int) -> None:
        self.sandbox.refuse_batches(count)


class AcmeTestBooks:
    """A running Acme sandbox with the test books, and the words tests use to act in it."""

    def __init__(self, sandbox: Sandbox, url: str) -> None:
        self.sandbox = sandbox
        self.url = url
        self.CALLS = CALLS
        self.EVENTS = EVENTS
        self.THROTTLED_BATCHES = ThrottledBatches(sandbox)
        self._twins: dict[str, dict[str, str]] = {}  # acme-1's id -> {company: its copy's id}

    @property
    def books(self) -> Any:
        return self.sandbox.books

    def env(self) -> dict[str, str]:
        """The settings that point LedgerBridge (and worker processes started from this one) here."""
        config = self.sandbox.config
        return {f"{ENV_PREFIX}CLIENT_ID": config.client_id, f"{ENV_PREFIX}CLIENT_SECRET": config.client_secret,
                f"{ENV_PREFIX}BASE_URL": self.url, f"{ENV_PREFIX}WEBHOOK_SECRET": config.webhook_secret}

    # -- seeding and reading -------------------------------------------------------------------

    def _fields(self, kind: str, body: Mapping[str, Any], company: str) -> dict[str, Any]:
        fields = dict(body)
        if kind == "customer":
            fields["display_name"] = fields.pop("name")
        elif kind == "item":
            fields["unit_price"] = Decimal(str(fields.pop("price", "0")))
            account = fields.pop("account", None)
            fields["income_account_id"] = self._twins.get(str(account), {}).get(company) if account else None
        elif kind == "account":
            fields.setdefault("type", "income")
            fields.setdefault("code", "")
        elif kind == "tax_rate":
            fields["rate"] = Decimal(str(fields["rate"]))
        elif kind == "invoice":
            for key in ("total", "balance"):
                fields[key] = Decimal(str(fields.get(key, "0")))
            fields.setdefault("lines", [{"id": "1", "description": "Seeded", "quantity": Decimal("1"),
                                         "unit_price": fields["total"], "amount": fields["total"]}])
            fields.setdefault("payments", [])
        return fields

    def seed(self, kind: str, body: Mapping[str, Any]) -> str:
        """A record the bookkeeper typed into every test company; its id in "acme-1"."""
        copies = {company: str(self.books.create(company, KINDS[kind], self._fields(kind, body, company))["id"])
                  for company, _ in TENANTS}
        first = copies[DEFAULT_TENANT]
        self._twins[first] = copies
        return first

    def remote_records(self, kind: str, company: str = DEFAULT_TENANT) -> list[dict[str, Any]]:
        """What the company holds, deleted records included, in the test vocabulary."""
        rows = []
        for record in self.books.listing(company, KINDS[kind]):
            row = _plain(record)
            if kind == "customer":
                row["name"] = row.get("display_name", "")
            elif kind == "item":
                row["price"], row["account"] = row.get("unit_price"), row.get("income_account_id")
            rows.append(row)
        return rows

    def delete_record(self, kind: str, remote_id: str, company: str = DEFAULT_TENANT) -> None:
        """The bookkeeper deletes a record in Acme."""
        self.books.delete(company, KINDS[kind], remote_id)

    def set_payment(self, remote_id: str, amount: str, company: str = DEFAULT_TENANT) -> None:
        """The bookkeeper records a payment against an invoice in Acme."""
        self.books.record_payment(company, {"invoice_id": remote_id, "amount": Decimal(amount),
                                            "date": self.sandbox.clock.now().date().isoformat()})

    def hold_next_invoice_answer(self, seconds: float, tenant: str = DEFAULT_TENANT) -> None:
        """The next invoice create is applied, then its answer held back (a worker can be killed meanwhile)."""
        self.sandbox.add_fault("timeout_after_apply", path_prefix=f"/api/v1/companies/{tenant}/invoices", count=1,
                               method="POST", delay=seconds)

    # -- as the plugin would -------------------------------------------------------------------

    def tokens(self, tenant: str = DEFAULT_TENANT) -> TokenSet:
        """Tokens the sandbox accepts for `tenant`, as a completed consent would give them."""
        config = self.sandbox.config
        oauth = self.sandbox.oauth
        consented = oauth.client(config.client_id)
        assert consented is not None
        code = oauth.issue_code(config.client_id, REDIRECT_URI, tenant, client.SCOPES)
        issued = oauth.exchange_code(consented, code, REDIRECT_URI)
        now = datetime.now(UTC)
        return TokenSet(access_token=issued.access_token, refresh_token=issued.refresh_token,
                        access_expires_at=now + timedelta(seconds=issued.expires_in),
                        refresh_expires_at=now + timedelta(seconds=issued.refresh_expires_in))

    def apply_invoice(self, invoice: InvoiceData, idempotency_key: str, tenant: str = DEFAULT_TENANT) -> str:
        """Send the invoice create a crashed worker sent (its answer lost); return the new invoice's id."""
        headers = {"Authorization": f"Bearer {self.tokens(tenant).access_token}",
                   client.IDEMPOTENCY_HEADER: idempotency_key, "Content-Type": "application/json"}
        response = httpx.post(f"{self.url}/api/v1/companies/{tenant}/invoices", headers=headers,
                              content=client.dumps(mapping.invoice_body(invoice)), timeout=30)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    @staticmethod
    def sign(secret: str, body: bytes) -> str:
        """The signature Acme puts on a webhook body."""
        return webhooks.signature(secret, body)


_current: list[AcmeTestBooks] = []


def current() -> AcmeTestBooks | None:
    """The sandbox `running` serves now, if any."""
    return _current[-1] if _current else None


def _journal_calls(hook_name: str, hook_impls: list[Any], kwargs: Mapping[str, Any]) -> None:
    if any(impl.plugin_name == "acme" for impl in hook_impls):
        CALLS.append(hook_name)
        if hook_name == "export_invoices_batch":
            CALLS.extend(["export_invoice"] * len(kwargs.get("invoices") or []))


def _nothing(outcome: Any, hook_name: str, hook_impls: list[Any], kwargs: Mapping[str, Any]) -> None:
    return None


@contextmanager
def running(setenv: Callable[[str, str], None]) -> Iterator[AcmeTestBooks]:
    """Acme's sandbox with the test books on a free port, LedgerBridge's settings pointed at it
    (through `setenv`, e.g. pytest's `monkeypatch.setenv`, so worker processes inherit them), a fresh
    plugin registry, and `CALLS` and `EVENTS` emptied and recording."""
    sandbox = Sandbox(SandboxConfig(webhook_secret=WEBHOOK_SECRET))
    sandbox.books.clear()
    for company, name in TENANTS:
        sandbox.books.add_company(company, name, "USD")
    with serve(create_app(sandbox=sandbox)) as url:
        acme = AcmeTestBooks(sandbox, url)
        for name, value in acme.env().items():
            setenv(name, value)
        get_settings.cache_clear()
        reset_registry()
        undo = get_registry().manager.add_hookcall_monitoring(_journal_calls, _nothing)
        CALLS.clear()
        EVENTS.clear()
        _current.append(acme)
        try:
            yield acme
        finally:
            _current.remove(acme)
            undo()
            reset_registry()
            get_settings.cache_clear()


def placeholder_tokens() -> TokenSet:
    """Tokens for a connection no test will use to reach a provider (API-only tests)."""
    return TokenSet(access_token=f"unused-{os.getpid()}", refresh_token="unused",
                    access_expires_at=datetime.now(UTC) + timedelta(hours=1))
