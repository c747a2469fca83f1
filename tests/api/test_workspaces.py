"""Owners create workspaces and switch between them; API keys and members cannot create them."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, csrf_token, sign_in


async def test_an_owner_creates_a_workspace_and_lands_in_it(
    api: AsyncTestClient, client: AsyncTestClient, tenant: Tenant
) -> None:
    assert (await sign_in(client, tenant.owner_email, tenant.password)).status_code == 200
    headers = {"x-csrftoken": await csrf_token(client)}
    created = await client.post("/api/v1/workspaces", json={"name": "Globex Client"}, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Globex Client" and body["role"] == "owner" and body["current"] is True
    listing = (await client.get("/api/v1/workspaces")).json()["items"]
    assert sorted((w["name"], w["current"]) for w in listing) == [("Acme Studio", False), ("Globex Client", True)]
    me = (await client.get("/auth/me")).json()
    assert me["workspace_id"] == body["id"]
    # It starts empty: its own books, records and members.
    assert (await client.get("/api/v1/connections")).json()["items"] == []
    back = await client.post("/auth/workspace", json={"workspace_id": tenant.workspace_id}, headers=headers)
    assert back.status_code == 200 and back.json()["workspace_id"] == tenant.workspace_id

    # The host app's API key belongs to one workspace and cannot mint others.
    refused = await api.post("/api/v1/workspaces", json={"name": "Sneaky"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert [w["name"] for w in (await api.get("/api/v1/workspaces")).json()["items"]] == ["Acme Studio"]
