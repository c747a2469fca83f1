"""A QuickBooks plugin connected to the sandbox the way the core connects it, for the plugin tests.

The realm is connected through the sandbox's real OAuth flow (consent page, approval form, code
exchange) run by the core's `ledgerbridge.oauth` from the plugin's declared authorization server,
then a `ProviderSession` is built by hand as `ledgerbridge.connections.open_session` does: an httpx
client carrying the bearer token. Every request the plugin sends through the session is captured,
and at teardown every JSON body is checked against Intuit's XSDs (when the spec folder is configured).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from ledgerbridge import oauth
from ledgerbridge.provider import ProviderSession, TokenSet
from ledgerbridge.settings import ProviderSettings
from ledgerbridge_quickbooks import plugin
from ledgerbridge_quickbooks.sandbox import SandboxConfig
from ledgerbridge_quickbooks.sandbox.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from ledgerbridge_testing.consent import approve_consent
from ledgerbridge_testing.sessions import capturing_session
from qbo_harness import REALM, QboHarness, loads, running_sandbox

REDIRECT = "http://127.0.0.1:8000/oauth/quickbooks/callback"
VERIFIER = "plugin-test-verifier-token"
ENTITY_TYPES = {
    "customer": "Customer", "item": "Item", "invoice": "Invoice", "payment": "Payment", "employee": "Employee",
    "timeactivity": "TimeActivity",
}


def settings_for(base_url: str) -> ProviderSettings:
    return ProviderSettings(key="quickbooks", client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                            webhook_secret=VERIFIER, base_url=base_url)


async def oauth_connect(base_url: str, realm: str = REALM) -> tuple[TokenSet, dict[str, str], list[Any]]:
    """Consent through the sandbox's pages, the core's code exchange, then the plugin's connected_tenants."""
    settings = settings_for(base_url)
    url = await oauth.consent_url("quickbooks", settings=settings, environment="sandbox", redirect_uri=REDIRECT,
                                  state="st-1", code_verifier=None)
    callback = await approve_consent(url, f"{base_url}/connect/oauth2", {"realm_id": realm}, "Approve")
    tokens = await oauth.exchange_code("quickbooks", settings=settings, environment="sandbox", code=callback["code"],
                                       redirect_uri=REDIRECT, code_verifier=None, params=callback)
    tenants = await plugin.connected_tenants(settings=settings, environment="sandbox", tokens=tokens,
                                             params=callback)
    return tokens, callback, tenants


@dataclass
class Connected:
    """The sandbox, the plugin's session on it, and every request the plugin sent."""

    qbo: QboHarness
    settings: ProviderSettings
    tokens: TokenSet
    session: ProviderSession
    tenant_name: str
    sent: list[httpx.Request] = field(default_factory=list)

    @property
    def sandbox(self) -> Any:
        return self.qbo.sandbox

    def requests_to(self, tail: str) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path.endswith("/" + tail)]

    def new_session(self, tenant_id: str | None = None, token: str | None = None,
                    settings: ProviderSettings | None = None) -> ProviderSession:
        """Another session like the core's (e.g. for another realm or after a refresh)."""
        return capturing_session("quickbooks", tenant_id=tenant_id or self.session.tenant_id, environment="sandbox",
                                 token=token or self.tokens.access_token, settings=settings or self.settings,
                                 provider_data=self.session.provider_data, sent=self.sent)


async def _connected(config: SandboxConfig | None = None) -> AsyncIterator[Connected]:
    with running_sandbox(config) as qbo:
        tokens, _callback, tenants = await oauth_connect(qbo.base_url)
        settings = settings_for(qbo.base_url)
        holder = Connected(qbo, settings, tokens, None, tenants[0].name)  # type: ignore[arg-type]
        holder.session = ProviderSession(provider="quickbooks", connection_id=1, tenant_id=tenants[0].id,
                                         environment="sandbox", access_token=tokens.access_token,
                                         settings=settings, http=httpx.AsyncClient(), provider_data=tenants[0].extra)
        await holder.session.http.aclose()
        holder.session = holder.new_session()
        try:
            yield holder
        finally:
            await holder.session.http.aclose()
        check_bodies_against_xsd(holder.sent)


def check_bodies_against_xsd(sent: list[httpx.Request]) -> None:
    """Every JSON body the plugin sent must be valid for Intuit's schema (when the specs are at hand)."""
    location = os.environ.get("LEDGERBRIDGE_PROVIDER_SPECS")
    if not location:
        return
    sys.path.insert(0, str(Path(__file__).parent))
    from qbo_sandbox_xsd import QboXsd

    xsd = _XSD.get(location) or _XSD.setdefault(location, QboXsd(Path(location) / "quickbooks" / "xsd"))
    for request in sent:
        if request.method != "POST" or not request.content:
            continue
        body = loads(request.content)
        tail = request.url.path.rsplit("/", 1)[-1]
        if tail == "batch":
            for item in body["BatchItemRequest"]:
                entity = next(k for k in item if k not in ("bId", "operation", "optionsData"))
                xsd.assert_valid(entity, item[entity])
        else:
            xsd.assert_valid(ENTITY_TYPES[tail], body)


_XSD: dict[str, Any] = {}


@pytest.fixture
async def qb() -> AsyncIterator[Connected]:
    """The default sandbox with realm 1 connected through OAuth."""
    async for holder in _connected():
        yield holder


@pytest.fixture
async def qb_factory() -> AsyncIterator[Any]:
    """Connect a sandbox built from a custom configuration (one per test: the server is shared)."""
    generators: list[AsyncIterator[Connected]] = []

    async def start(config: SandboxConfig) -> Connected:
        generator = _connected(config)
        generators.append(generator)
        return await generator.__anext__()

    yield start
    for generator in generators:
        async for _ in generator:  # runs the teardown (and the XSD check)
            pass
