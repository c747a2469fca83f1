"""Sync runs API: history with counts and records, retry and cancel."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_connection


async def make_run(workspace_id: int, connection_id: int | None, state: str = "queued", **values) -> int:
    from ledgerbridge.tables import SyncRun, utcnow

    run = SyncRun(
        workspace=workspace_id,
        connection=connection_id,
        kind=values.pop("kind", "import_customers"),
        state=state,
        created_at=utcnow(),
        queued_at=utcnow(),
        **values,
    )
    await run.save()
    return run.id


async def test_list_and_detail(api: AsyncTestClient, tenant: Tenant) -> None:
    from ledgerbridge.tables import RunRecord, SyncIssue, utcnow

    connection = await make_connection(tenant.workspace_id)
    run_id = await make_run(tenant.workspace_id, connection.id, "done", seen=3, created=2, linked=1)
    await make_run(tenant.workspace_id, connection.id, "failed", kind="export_invoice")
    await RunRecord(
        run=run_id, record_type="customer", record_id=1, remote_id="9", outcome="created", created_at=utcnow()
    ).save()
    await SyncIssue(
        workspace=tenant.workspace_id,
        run=run_id,
        code="duplicate_name",
        message="Twice",
        first_seen_at=utcnow(),
        last_seen_at=utcnow(),
    ).save()

    listed = (await api.get("/api/v1/sync-runs")).json()
    assert listed["total"] == 2
    failed = (await api.get("/api/v1/sync-runs", params={"state": "failed"})).json()
    assert [run["kind"] for run in failed["items"]] == ["export_invoice"]

    detail = (await api.get(f"/api/v1/sync-runs/{run_id}")).json()
    assert detail["run"]["counts"] == {"seen": 3, "created": 2, "updated": 0, "linked": 1, "skipped": 0, "failed": 0}
    assert [(r["outcome"], r["remote_id"]) for r in detail["records"]] == [("created", "9")]
    assert detail["records_total"] == 1
    assert [i["code"] for i in detail["issues"]] == ["duplicate_name"]


async def test_cancel_and_retry(api: AsyncTestClient, tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    queued = await make_run(tenant.workspace_id, connection.id, "queued")
    cancelled = await api.post(f"/api/v1/sync-runs/{queued}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert (await api.post(f"/api/v1/sync-runs/{queued}/cancel")).status_code == 409

    retried = await api.post(f"/api/v1/sync-runs/{queued}/retry")
    assert retried.status_code == 200
    new = retried.json()
    assert new["id"] != queued and new["state"] == "queued" and new["kind"] == "import_customers"
    assert new["trigger"] == f"api_key:{tenant.api_key_prefix}"
    assert (await api.post(f"/api/v1/sync-runs/{new['id']}/retry")).status_code == 409


async def test_another_workspaces_runs_are_hidden(api: AsyncTestClient, other_tenant: Tenant) -> None:
    theirs = await make_run(other_tenant.workspace_id, None)
    assert (await api.get(f"/api/v1/sync-runs/{theirs}")).status_code == 404
    assert (await api.post(f"/api/v1/sync-runs/{theirs}/cancel")).status_code == 404
    assert (await api.get("/api/v1/sync-runs")).json()["total"] == 0
