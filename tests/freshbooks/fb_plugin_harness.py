"""The FreshBooks plugin connected to the sandbox the way the core connects it, for the plugin tests.

The business is connected through the sandbox's real OAuth flow (consent page, sign-in form, code
exchange) run by the core's `ledgerbridge.oauth` from the plugin's declared authorization server,
then a `ProviderSession` is built by hand as `ledgerbridge.connections.open_session` does: an httpx
client carrying the bearer token, with the chosen tenant's `extra` as `provider_data`. Every request
the plugin sends through the session is captured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fb_harness import ACCOUNT, DANA, FbHarness, running_sandbox
from ledgerbridge import oauth
from ledgerbridge.provider import ConnectionOptions, ProviderSession, Tenant, TokenSet
from ledgerbridge.settings import ProviderSettings
from ledgerbridge_freshbooks import plugin
from ledgerbridge_freshbooks.sandbox import SandboxConfig
from ledgerbridge_freshbooks.sandbox.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from ledgerbridge_testing.consent import approve_consent
from ledgerbridge_testing.sessions import capturing_session

REDIRECT = "http://127.0.0.1:8000/oauth/freshbooks/callback"
VERIFIER = "plugin-test-verifier"


def settings_for(base_url: str, webhook_secret: str = VERIFIER) -> ProviderSettings:
    return ProviderSettings(key="freshbooks", client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                            webhook_secret=webhook_secret, base_url=base_url)


async def oauth_connect(base_url: str, identity: int = DANA) -> tuple[TokenSet, dict[str, str], list[Tenant]]:
    """Consent through the sandbox's pages as `identity`, the core's code exchange, the plugin's connected_tenants."""
    settings = settings_for(base_url)
    url = await oauth.consent_url("freshbooks", settings=settings, environment="production", redirect_uri=REDIRECT,
                                  state="st-1", code_verifier=None)
    choice = {"identity_id": str(identity)}
    callback = await approve_consent(url, f"{base_url}/oauth/authorize", choice, "Allow")
    tokens = await oauth.exchange_code("freshbooks", settings=settings, environment="production",
                                       code=callback["code"], redirect_uri=REDIRECT, code_verifier=None,
                                       params=callback)
    tenants = await plugin.connected_tenants(settings=settings, environment="production", tokens=tokens,
                                             params=callback)
    return tokens, callback, tenants


@dataclass
class Connected:
    """The sandbox, the plugin's session on one business, and every request the plugin sent."""

    fb: FbHarness
    settings: ProviderSettings
    tokens: TokenSet
    tenants: list[Tenant]
    tenant: Tenant
    session: ProviderSession = field(init=False)
    sent: list[httpx.Request] = field(default_factory=list)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def sandbox(self) -> Any:
        return self.fb.sandbox

    def requests_to(self, tail: str) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path.endswith("/" + tail)]

    def new_session(self, tenant: Tenant | None = None, token: str | None = None, timeout: float = 10.0,
                    **options: Any) -> ProviderSession:
        """Another session like the core's (another business, a refreshed token, a shorter timeout)."""
        tenant = tenant or self.tenant
        session = capturing_session("freshbooks", tenant_id=tenant.id, environment="production",
                                    token=token or self.tokens.access_token, settings=self.settings,
                                    provider_data=tenant.extra, sent=self.sent, timeout=timeout,
                                    options=ConnectionOptions(**options))
        self.clients.append(session.http)
        return session

    def account(self, tenant: Tenant | None = None) -> str:
        return (tenant or self.tenant).id

    async def advance(self, seconds: float) -> None:
        """Move the sandbox clock, then refresh through the core's flow (access tokens last 12 hours)."""
        self.sandbox.advance(seconds)
        self.tokens = await oauth.refresh("freshbooks", settings=self.settings, environment="production",
                                          refresh_token=self.tokens.refresh_token)
        self.fb.http.headers["Authorization"] = f"Bearer {self.tokens.access_token}"
        self.session = self.new_session()


@pytest.fixture
async def fb_connect() -> AsyncIterator[Any]:
    """Start a sandbox (optionally configured) and connect a business through OAuth; all stop at the end.

    FreshBooks keeps one live connection per user and app, so the harness's own client (used to arrange
    data as a bookkeeper's app would) borrows the plugin's access token instead of connecting again.
    """
    managers: list[Any] = []
    holders: list[Connected] = []

    async def start(config: SandboxConfig | None = None, identity: int = DANA, account: str = ACCOUNT) -> Connected:
        manager = running_sandbox(config, identity=identity, account=account)
        managers.append(manager)
        harness = manager.__enter__()
        tokens, _, tenants = await oauth_connect(harness.base_url, identity)
        harness.http.headers["Authorization"] = f"Bearer {tokens.access_token}"
        tenant = next(t for t in tenants if t.id == account)
        holder = Connected(harness, settings_for(harness.base_url), tokens, tenants, tenant)
        holder.session = holder.new_session()
        holders.append(holder)
        return holder

    yield start
    for holder in holders:
        for http in holder.clients:
            await http.aclose()
    for manager in reversed(managers):
        manager.__exit__(None, None, None)
