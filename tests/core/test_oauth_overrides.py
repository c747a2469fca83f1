"""A provider that declares its authorization server may still override single OAuth steps: the
core then calls the override and never the declared endpoint. (Acme, generated from the template,
declares its server and overrides nothing; the bundled providers' connect tests cover declarations.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ledgerbridge import oauth
from ledgerbridge.plugins import Registry, hookimpl, make_manager
from ledgerbridge.provider import AuthorizationServer, Capabilities, ProviderInfo, ProviderSession, TokenSet
from ledgerbridge.settings import ProviderSettings

SETTINGS = ProviderSettings(key="overriding", client_id="id", client_secret="secret", webhook_secret="",
                            base_url="")
UNREACHABLE = "https://overriding.invalid"  # the declared endpoints: any request there would fail


class Overriding:
    """Declares a server whose endpoints cannot be reached, and overrides every step instead."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(key="overriding", name="Overriding Books", capabilities=Capabilities())

    @hookimpl
    def authorization_server(self, settings: ProviderSettings, environment: str) -> AuthorizationServer:
        return AuthorizationServer(authorize_url=f"{UNREACHABLE}/authorize", token_url=f"{UNREACHABLE}/token",
                                   revoke_url=f"{UNREACHABLE}/revoke")

    @hookimpl
    def authorization_url(self, settings: ProviderSettings, environment: str, redirect_uri: str, state: str,
                          code_verifier: str | None) -> str:
        self.calls.append(("authorization_url", state))
        return f"https://consent.example/?state={state}"

    def _tokens(self) -> TokenSet:
        return TokenSet(access_token="a", refresh_token="r", access_expires_at=datetime.now(UTC) + timedelta(hours=1))

    @hookimpl
    async def exchange_code(self, settings: ProviderSettings, environment: str, code: str, redirect_uri: str,
                            code_verifier: str | None, params: dict[str, str]) -> TokenSet:
        self.calls.append(("exchange_code", code))
        return self._tokens()

    @hookimpl
    async def refresh_token(self, settings: ProviderSettings, environment: str, refresh_token: str) -> TokenSet:
        self.calls.append(("refresh_token", refresh_token))
        return self._tokens()

    @hookimpl
    async def revoke_token(self, session: ProviderSession, refresh_token: str) -> bool:
        self.calls.append(("revoke_token", refresh_token))
        return True


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Overriding:
    """The plugin, loaded beside the installed ones into the registry the OAuth flow reads."""
    overriding = Overriding()
    registry = Registry(make_manager([("overriding", overriding)]))
    monkeypatch.setattr(oauth, "get_registry", lambda: registry)
    return overriding


async def test_every_oauth_step_calls_the_plugins_override_not_the_declared_endpoint(plugin: Overriding):
    url = await oauth.consent_url("overriding", settings=SETTINGS, environment="production",
                                  redirect_uri="https://lb.example/cb", state="st-1", code_verifier=None)
    assert url == "https://consent.example/?state=st-1"
    tokens = await oauth.exchange_code("overriding", settings=SETTINGS, environment="production", code="c-1",
                                       redirect_uri="https://lb.example/cb", code_verifier=None, params={})
    assert tokens.access_token == "a"
    await oauth.refresh("overriding", settings=SETTINGS, environment="production", refresh_token="r-1")
    async with httpx.AsyncClient() as http:
        session = ProviderSession(provider="overriding", connection_id=1, tenant_id="t", environment="production",
                                  access_token="a", settings=SETTINGS, http=http)
        assert await oauth.revoke("overriding", session=session, refresh_token="r-2") is True
    assert plugin.calls == [("authorization_url", "st-1"), ("exchange_code", "c-1"), ("refresh_token", "r-1"),
                            ("revoke_token", "r-2")]
