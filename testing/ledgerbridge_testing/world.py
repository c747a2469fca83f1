"""One end-to-end world per provider: its sandbox over real HTTP, our engine, our database.

The conformance suite proves the engine on every provider that offers a sandbox, so it may speak to
a sandbox only through what all sandboxes share: the consent page's form, the accountant's JSON API
(`/accountant/{tenant}/api`) and the `/_sandbox` control API. :class:`ProviderWorld` is that
vocabulary; :func:`open_world` serves a provider's sandbox (from its plugin's `demo_sandbox` hook)
and points our settings at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import pytest
from ledgerbridge import demo
from ledgerbridge.plugins import get_registry
from ledgerbridge.settings import get_settings

from ledgerbridge_testing.consent import APPROVE_WORDS, ConsentForm

# What the engine calls on every provider the suite runs against.
NEEDED_HOOKS = ("demo_sandbox", "connected_tenants", "import_customers", "export_invoice", "poll_invoices")


def providers_with_sandbox() -> list[str]:
    """Providers with a sandbox and the hooks the engine needs, discovered from installed plugins."""
    registry = get_registry()
    return [key for key in sorted(registry.providers)
            if all(registry.implements(key, hook) for hook in NEEDED_HOOKS)]


def missing_hooks(key: str) -> list[str] | None:
    """The hooks provider ``key`` lacks for the suite, or None when no installed plugin provides it."""
    registry = get_registry()
    if key not in registry.providers:
        return None
    return [hook for hook in NEEDED_HOOKS if not registry.implements(key, hook)]


@dataclass
class ProviderWorld:
    """A provider's sandbox and the way to act in it like a person would."""

    key: str
    url: str
    http: httpx.Client
    tenants: list[str] = field(default_factory=list)

    # -- consent, as a browser ---------------------------------------------------------------

    def consent(self, authorize_url: str, tenant: str | None = None, approve: bool = True) -> dict[str, str]:
        """Open the consent page, pick `tenant` (default: the preselected/first), submit; return the
        callback's query parameters."""
        page = self.http.get(authorize_url)
        assert page.status_code == 200, page.text
        form = ConsentForm()
        form.feed(page.text)
        data = list(form.fields)
        for name, options in form.choices.items():
            if tenant is not None and any(value == tenant for value, _, _ in options):
                data.append((name, tenant))
            else:
                checked = [value for value, on, _ in options if on] or [options[0][0]]
                data.extend((name, value) for value in checked)
        button = next((b for b in form.buttons if any(w in b[1].lower() for w in APPROVE_WORDS)), None)
        if not approve:
            button = next((b for b in form.buttons if b != button), ("decision", "deny"))
        if button is not None:
            data.append(button)
        body: dict[str, list[str]] = {}
        for name, value in data:
            body.setdefault(name, []).append(value)
        answer = self.http.post(urljoin(str(page.url), form.action or str(page.url)), data=body)
        assert answer.status_code in (302, 303), answer.text
        return dict(parse_qsl(urlsplit(answer.headers["location"]).query))

    def consent_choices(self, authorize_url: str) -> list[str]:
        """The companies the consent page offers (the values of its radio buttons or checkboxes)."""
        form = ConsentForm()
        form.feed(self.http.get(authorize_url).text)
        return [value for options in form.choices.values() for value, _, _ in options]

    # -- the bookkeeper --------------------------------------------------------------------

    def accountant(self, tenant: str, action: str, **fields: Any) -> Any:
        response = self.http.post(f"/accountant/{tenant}/api/{action}", json=fields)
        assert response.status_code == 200, response.text
        return response.json()

    def table(self, tenant: str, title: str) -> list[dict[str, str]]:
        state = self.http.get(f"/accountant/{tenant}/api").json()
        table = next(t for t in state["tables"] if t["title"].lower() == title.lower())
        return [dict(zip(table["columns"], row, strict=False)) for row in table["rows"]]

    def invoice_numbers(self, tenant: str) -> list[str]:
        rows = self.table(tenant, "Invoices")
        column = next(c for c in rows[0] if c.lower().rstrip(".") in ("no", "number", "invoice number",
                                                                      "invoicenumber")) if rows else ""
        return sorted(row[column] for row in rows)

    # -- the control panel -----------------------------------------------------------------

    def control(self, path: str, **body: Any) -> Any:
        response = self.http.post(f"/_sandbox/{path}", json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def fault(self, kind: str, path_prefix: str = "/", count: int = 1, **extra: Any) -> Any:
        return self.control("faults", kind=kind, path_prefix=path_prefix, count=count, **extra)


@contextmanager
def open_world(provider: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderWorld]:
    """The provider's sandbox on a free port, with our settings pointed at it for the block."""
    sandbox = demo.serve_sandbox(provider, bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                 base_url=get_settings().base_url)
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with httpx.Client(base_url=sandbox.url, timeout=30) as http:
            yield ProviderWorld(key=provider, url=sandbox.url, http=http)
    finally:
        sandbox.server.stop()
