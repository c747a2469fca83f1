"""Connections API: no tokens out, settings in, syncs recorded as runs."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_connection
from tests.api.test_invoices import runs


async def test_connections_never_show_tokens(api: AsyncTestClient, tenant: Tenant) -> None:
    await make_connection(tenant.workspace_id, access_token_enc="SECRET-ACCESS", refresh_token_enc="SECRET-REFRESH")
    response = await api.get("/api/v1/connections")
    assert response.status_code == 200
    [connection] = response.json()["items"]
    assert connection["status"] == "connected"
    assert "SECRET" not in response.text
    assert not any("token" in key for key in connection)


async def test_update_settings(api: AsyncTestClient, tenant: Tenant) -> None:
    from ledgerbridge.identity.api_keys import create_api_key
    from ledgerbridge.tables import Account, utcnow

    connection = await make_connection(tenant.workspace_id)
    # Connection settings need the `connections:manage` scope, which the host app's key lacks.
    refused = await api.patch(f"/api/v1/connections/{connection.id}", json={"auto_export_on_send": True})
    assert refused.status_code == 403 and "connections:manage" in refused.json()["fix"]
    manager = await create_api_key(tenant.workspace_id, "ops", tenant.owner_id, ["read", "connections:manage"])
    api.headers["X-API-Key"] = manager.key
    account = Account(workspace=tenant.workspace_id, connection=connection.id, name="Sales", updated_at=utcnow())
    await account.save()
    response = await api.patch(
        f"/api/v1/connections/{connection.id}",
        json={"auto_export_on_send": True, "number_policy": "provider", "default_income_account_id": account.id},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["auto_export_on_send"], body["number_policy"], body["default_income_account_id"]) == (
        True,
        "provider",
        account.id,
    )
    bad = await api.patch(f"/api/v1/connections/{connection.id}", json={"number_policy": "whatever"})
    assert bad.status_code == 400 and "number_policy" in bad.json()["message"]
    foreign = await api.patch(f"/api/v1/connections/{connection.id}", json={"default_income_account_id": 999})
    assert foreign.status_code == 400 and "default_income_account_id" in foreign.json()["message"]


async def test_sync_records_one_run_per_kind(api: AsyncTestClient, tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    response = await api.post(f"/api/v1/connections/{connection.id}/sync", json={"what": ["customers", "invoices"]})
    assert response.status_code == 200, response.text
    assert [run["kind"] for run in response.json()["runs"]] == ["import_customers", "poll_status"]
    everything = await api.post(f"/api/v1/connections/{connection.id}/sync")
    assert [run["kind"] for run in everything.json()["runs"]] == ["import_all"]
    assert len(await runs()) == 3
    again = await api.post(f"/api/v1/connections/{connection.id}/sync", json={"what": ["customers"]})
    assert again.json()["runs"][0]["id"] == response.json()["runs"][0]["id"]
    bad = await api.post(f"/api/v1/connections/{connection.id}/sync", json={"what": ["planets"]})
    assert bad.status_code == 400 and "what" in bad.json()["message"]


async def test_sync_needs_a_live_connection(api: AsyncTestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    broken = await make_connection(tenant.workspace_id, status="needs_reconnect")
    response = await api.post(f"/api/v1/connections/{broken.id}/sync")
    assert response.status_code == 409 and response.json()["code"] == "not_connected"
    foreign = await make_connection(other_tenant.workspace_id)
    assert (await api.post(f"/api/v1/connections/{foreign.id}/sync")).status_code == 404
    assert (await api.get(f"/api/v1/connections/{foreign.id}")).status_code == 404
    assert await runs() == []
