"""POST /api/v1/time-entries/sync: selected entries to the books on their own, or a clear refusal."""

from __future__ import annotations

from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import RunKind, SyncRun
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_customer
from tests.conftest import make_connection


async def _entry(api: AsyncTestClient, customer_id: int) -> int:
    response = await api.post("/api/v1/time-entries", json={
        "customer_id": customer_id, "person": "Ada", "worked_on": "2026-11-02", "hours": "2", "rate": "90"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_selected_entries_are_queued_and_sent(api: AsyncTestClient, tenant: Tenant, acme: Any) -> None:
    connection = await make_connection(tenant.workspace_id)
    [listed] = (await api.get("/api/v1/connections")).json()["items"]
    assert listed["syncs_time"] is True
    entry_id = await _entry(api, (await make_customer(api, "Grace"))["id"])
    response = await api.post("/api/v1/time-entries/sync", json={"time_entry_ids": [entry_id]})
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["connection_id"], body["count"]) == (connection.id, 1)
    assert await jobs.execute(body["run_id"], owner="test-worker") == "done"
    assert [r["person"] for r in acme.remote_records("time")] == ["Ada"]


async def test_a_provider_without_time_records_is_refused_before_anything_is_queued(
        api: AsyncTestClient, tenant: Tenant) -> None:
    await make_connection(tenant.workspace_id, provider="xero")
    [listed] = (await api.get("/api/v1/connections")).json()["items"]
    assert listed["syncs_time"] is False
    entry_id = await _entry(api, (await make_customer(api, "Grace"))["id"])
    response = await api.post("/api/v1/time-entries/sync", json={"time_entry_ids": [entry_id]})
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "time_not_supported" and "Xero keeps no time records" in error["message"]
    assert error["fix"]
    assert not await SyncRun.exists().where(SyncRun.kind == RunKind.export_time_entries)


async def test_an_unknown_entry_is_not_found(api: AsyncTestClient, tenant: Tenant) -> None:
    await make_connection(tenant.workspace_id)
    response = await api.post("/api/v1/time-entries/sync", json={"time_entry_ids": [987654]})
    assert response.status_code == 404, response.text
