"""Connecting through our HTTP routes, as a browser does: start, the provider's consent page, the
callback, the company picker, and the failures a person can meet on the way."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
from ledgerbridge.app import create_app
from ledgerbridge.identity.api_keys import create_api_key
from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection, ConnectionStatus
from litestar.testing import AsyncTestClient

from ledgerbridge_testing.conformance.steps import OWNER_PASSWORD
from ledgerbridge_testing.world import ProviderWorld

pytestmark = [pytest.mark.asyncio, pytest.mark.conformance("connect")]

HTML = {"accept": "text/html"}


@dataclass
class Owner:
    """The signed-up owner of a workspace, and an API key the host app would use."""

    workspace_id: int
    owner_email: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


@pytest_asyncio.fixture
async def client(world: ProviderWorld, database: str) -> AsyncIterator[Any]:
    """Our app, served to a browser-like client that has no credentials until it signs in.

    Built after ``world`` so the app starts with the settings that point at the sandbox.
    """
    async with AsyncTestClient(app=create_app(get_settings(), background=False)) as test_client:
        yield test_client


async def _signed_in(client: Any) -> tuple[Owner, str]:
    user, workspace = await create_admin("owner@example.com", OWNER_PASSWORD, "Client Co")
    key = await create_api_key(workspace.id, "host app", user.id)
    owner = Owner(workspace_id=workspace.id, owner_email=user.email, api_key=key.key)
    token = (await client.get("/auth/csrf")).json()["csrf_token"]
    signed = await client.post("/auth/login", json={"email": owner.owner_email, "password": OWNER_PASSWORD},
                               headers={"x-csrftoken": token})
    assert signed.status_code == 200, signed.text
    return owner, (await client.get("/auth/csrf")).json()["csrf_token"]


async def _start(client, token: str, provider: str, **form: str) -> str:
    started = await client.post(f"/connect/{provider}", data={"return_to": "/integrations", "_csrf_token": token,
                                                              **form}, headers=HTML, follow_redirects=False)
    assert started.status_code == 303, started.text
    return started.headers["location"]


async def _callback(client, params: dict[str, str]) -> dict[str, list[str]]:
    back = await client.get("/oauth/callback", params=params, headers=HTML, follow_redirects=False)
    assert back.status_code == 303, back.text
    location = urlsplit(back.headers["location"])
    assert location.path == "/integrations"
    return parse_qs(location.query)


async def test_connect_through_the_routes_and_back(world: ProviderWorld, client):
    tenant, token = await _signed_in(client)
    outcome = await _callback(client, world.consent(await _start(client, token, world.key)))
    assert "connect_error" not in outcome, outcome
    connection_id = int(outcome["connection"][0])
    if outcome.get("choose_tenant"):
        row = await Connection.objects().where(Connection.id == connection_id).first()
        pending = json.loads(row.provider_data)["pending_tenants"]
        chosen = await client.post("/connect/tenant", data={"connection_id": connection_id,
                                                             "tenant_id": pending[0]["id"],
                                                             "return_to": "/integrations", "_csrf_token": token},
                                   headers=HTML, follow_redirects=False)
        assert chosen.status_code == 303 and "connect_error" not in chosen.headers["location"]
    row = await Connection.objects().where(Connection.id == connection_id).first()
    assert row.workspace == tenant.workspace_id and row.status == ConnectionStatus.connected and row.tenant_id
    # Connecting the same company again refreshes that connection instead of adding a second one.
    again = await _callback(client, world.consent(await _start(client, token, world.key), tenant=row.tenant_id))
    if not again.get("choose_tenant"):
        assert int(again["connection"][0]) == connection_id
        assert await Connection.count().where(Connection.workspace == tenant.workspace_id) == 1


async def test_a_refused_consent_comes_back_as_a_readable_error(world: ProviderWorld, client):
    _, token = await _signed_in(client)
    outcome = await _callback(client, world.consent(await _start(client, token, world.key), approve=False))
    assert outcome["connect_error"] == ["token_revoked"]
    assert "did not grant access" in outcome["message"][0] and "approve" in outcome["message"][0]
    assert await Connection.count() == 0


async def test_reconnecting_to_another_company_is_refused(world: ProviderWorld, client):
    _, token = await _signed_in(client)
    outcome = await _callback(client, world.consent(await _start(client, token, world.key)))
    connection_id = int(outcome["connection"][0])
    if outcome.get("choose_tenant"):
        row = await Connection.objects().where(Connection.id == connection_id).first()
        first = json.loads(row.provider_data)["pending_tenants"][0]["id"]
        await client.post("/connect/tenant", data={"connection_id": connection_id, "tenant_id": first,
                                                   "return_to": "/integrations", "_csrf_token": token},
                          headers=HTML, follow_redirects=False)
    row = await Connection.objects().where(Connection.id == connection_id).first()
    url = await _start(client, token, world.key, connection_id=str(connection_id))
    others = [value for value in world.consent_choices(url) if value != row.tenant_id]
    assert others, "the sandbox offers another company to sign in to"
    refused = await _callback(client, world.consent(url, tenant=others[-1]))
    assert refused["connect_error"] == ["wrong_account"] and row.tenant_name in refused["message"][0]
    after = await Connection.objects().where(Connection.id == connection_id).first()
    assert after.tenant_id == row.tenant_id and after.status == ConnectionStatus.connected


async def test_the_api_hands_out_the_consent_url_to_a_signed_in_person_only(world: ProviderWorld, client):
    tenant, token = await _signed_in(client)
    answer = await client.post("/api/v1/connections/authorize", json={"provider": world.key},
                               headers={"x-csrftoken": token})
    assert answer.status_code == 200, answer.text
    assert answer.json()["url"].startswith(world.url)
    async with AsyncTestClient(app=client.app) as script:
        refused = await script.post("/api/v1/connections/authorize", json={"provider": world.key},
                                    headers=tenant.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
