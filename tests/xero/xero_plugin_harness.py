"""The Xero plugin connected to the sandbox the way the core connects it, for the plugin tests.

Organisations are connected through the sandbox's real consent flow (consent page, organisation ticks,
PKCE code exchange) run by the core's `ledgerbridge.oauth` from the plugin's declared authorization
server, then a `ProviderSession` is built by hand as `ledgerbridge.connections.open_session` does: an
httpx client carrying the bearer token, with the chosen tenant's `extra` as `provider_data`. Every
request the plugin sends through a session is captured, and at teardown every JSON body it wrote is
validated against Xero's OpenAPI request schemas (when the spec folder is configured).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from ledgerbridge import oauth
from ledgerbridge.provider import ConnectionOptions, ProviderSession, Tenant, TokenSet
from ledgerbridge.settings import ProviderSettings
from ledgerbridge_testing.consent import approve_consent
from ledgerbridge_testing.sessions import capturing_session
from ledgerbridge_xero import plugin
from ledgerbridge_xero.sandbox import SandboxConfig
from ledgerbridge_xero.sandbox.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from xero_harness import NZ, XeroHarness, running_sandbox
from xero_schema import OpenApiSchemas

REDIRECT = "http://127.0.0.1:8000/oauth/callback"
VERIFIER = "plugin-test-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
WEBHOOK_KEY = "plugin-test-webhook-key"
API = "/api.xro/2.0/"
SPEC_PATHS = {"Invoices": "{InvoiceID}", "Contacts": "{ContactID}", "Items": "{ItemID}", "Payments": "{PaymentID}"}


def settings_for(base_url: str, webhook_secret: str = WEBHOOK_KEY) -> ProviderSettings:
    return ProviderSettings(key="xero", client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                            webhook_secret=webhook_secret, base_url=base_url)


async def consent(base_url: str, tenants: tuple[str, ...], verifier: str | None = VERIFIER) -> dict[str, str]:
    """Open the core's consent URL for Xero, tick `tenants`, allow; return the callback's parameters."""
    url = await oauth.consent_url("xero", settings=settings_for(base_url), environment="production",
                                  redirect_uri=REDIRECT, state="st-1", code_verifier=verifier)
    choice = {"tenant": list(tenants)}
    callback = await approve_consent(url, f"{base_url}/identity/connect/authorize", choice, "Allow access")
    return callback


async def oauth_connect(base_url: str, tenants: tuple[str, ...] = (NZ,)) -> tuple[TokenSet, list[Tenant]]:
    """The consent, the core's code exchange (with the PKCE verifier), then the plugin's connected_tenants."""
    settings = settings_for(base_url)
    callback = await consent(base_url, tenants)
    tokens = await oauth.exchange_code("xero", settings=settings, environment="production", code=callback["code"],
                                       redirect_uri=REDIRECT, code_verifier=VERIFIER, params=callback)
    found = await plugin.connected_tenants(settings=settings, environment="production", tokens=tokens,
                                           params=callback)
    return tokens, found


@dataclass
class Connected:
    """The sandbox, the plugin's session on one organisation, and every request the plugin sent."""

    xero: XeroHarness
    settings: ProviderSettings
    tokens: TokenSet
    tenants: list[Tenant]
    tenant: Tenant
    session: ProviderSession = field(init=False)
    sent: list[httpx.Request] = field(default_factory=list)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def sandbox(self) -> Any:
        return self.xero.sandbox

    def requests_to(self, collection: str, method: str | None = None) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path.startswith(API + collection)
                and (method is None or r.method == method)]

    def new_session(self, tenant: Tenant | None = None, token: str | None = None, timeout: float = 10.0,
                    **options: Any) -> ProviderSession:
        """Another session like the core's (another organisation, a refreshed token, a shorter timeout)."""
        tenant = tenant or self.tenant
        session = capturing_session("xero", tenant_id=tenant.id, environment="production",
                                    token=token or self.tokens.access_token, settings=self.settings,
                                    provider_data=tenant.extra, sent=self.sent, timeout=timeout,
                                    options=ConnectionOptions(**options))
        self.clients.append(session.http)
        return session


def check_bodies_against_spec(sent: list[httpx.Request]) -> None:
    """Every JSON body the plugin wrote must fit Xero's OpenAPI request schema (when the specs are at hand)."""
    location = os.environ.get("LEDGERBRIDGE_PROVIDER_SPECS")
    if not location:
        return
    schemas = OpenApiSchemas(Path(location) / "xero" / "xero_accounting.yaml")
    for request in sent:
        if request.method not in ("PUT", "POST") or not request.content or API not in request.url.path:
            continue
        parts = request.url.path.split(API, 1)[1].split("/")
        path = f"/{parts[0]}" + (f"/{SPEC_PATHS[parts[0]]}" if len(parts) > 1 else "")
        schemas.validate_against(json.loads(request.content), schemas.request_schema(path, request.method.lower()))


@pytest.fixture
async def xero_connect() -> AsyncIterator[Any]:
    """Start a sandbox (optionally configured) and connect organisations through OAuth; all stop at the end."""
    managers: list[Any] = []
    holders: list[Connected] = []

    async def start(config: SandboxConfig | None = None, tenants: tuple[str, ...] = (NZ,)) -> Connected:
        manager = running_sandbox(config)
        managers.append(manager)
        harness = manager.__enter__()
        tokens, found = await oauth_connect(harness.base_url, tenants)
        holder = Connected(harness, settings_for(harness.base_url), tokens, found, found[0])
        holder.session = holder.new_session()
        holders.append(holder)
        return holder

    yield start
    for holder in holders:
        for http in holder.clients:
            await http.aclose()
    for manager in reversed(managers):
        manager.__exit__(None, None, None)
    for holder in holders:
        check_bodies_against_spec(holder.sent)
