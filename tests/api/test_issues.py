"""Issues API: grouped by reason, resolved, retried."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_connection
from tests.api.test_sync_runs import make_run


async def make_issue(workspace_id: int, code: str, **values) -> int:
    from ledgerbridge.tables import SyncIssue, utcnow

    issue = SyncIssue(
        workspace=workspace_id,
        code=code,
        message=values.pop("message", code),
        first_seen_at=utcnow(),
        last_seen_at=utcnow(),
        **values,
    )
    await issue.save()
    return issue.id


async def test_grouped_by_code(api: AsyncTestClient, tenant: Tenant) -> None:
    for _ in range(3):
        await make_issue(tenant.workspace_id, "item_not_mapped")
    await make_issue(tenant.workspace_id, "duplicate_number")
    response = await api.get("/api/v1/issues/groups")
    assert response.status_code == 200
    groups = response.json()["groups"]
    assert [(g["code"], g["count"]) for g in groups] == [("item_not_mapped", 3), ("duplicate_number", 1)]
    assert "income account" in groups[0]["message"]  # the reason's wording
    assert len(groups[0]["issues"]) == 3
    assert response.json()["total"] == 4


async def test_resolve(api: AsyncTestClient, tenant: Tenant) -> None:
    issue = await make_issue(tenant.workspace_id, "stale_object")
    response = await api.post(f"/api/v1/issues/{issue}/resolve")
    assert response.status_code == 200 and response.json()["resolved_at"]
    assert (await api.get("/api/v1/issues")).json()["total"] == 0
    assert (await api.get("/api/v1/issues", params={"resolved": "true"})).json()["total"] == 1


async def test_retry_repeats_the_run_or_re_exports_the_record(api: AsyncTestClient, tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    run_id = await make_run(tenant.workspace_id, connection.id, "failed", kind="import_items")
    from_run = await make_issue(tenant.workspace_id, "rate_limited", run=run_id, connection=connection.id)
    response = await api.post(f"/api/v1/issues/{from_run}/retry")
    assert response.status_code == 200
    assert response.json()["run"]["kind"] == "import_items"

    on_invoice = await make_issue(
        tenant.workspace_id, "validation_failed", connection=connection.id, record_type="invoice", record_id=7
    )
    response = await api.post(f"/api/v1/issues/{on_invoice}/retry")
    run = response.json()["run"]
    assert (run["kind"], run["params"]) == ("export_invoice", {"invoice_id": 7})

    orphan = await make_issue(tenant.workspace_id, "wrong_account")
    assert (await api.post(f"/api/v1/issues/{orphan}/retry")).status_code == 409


async def test_another_workspaces_issues_are_hidden(api: AsyncTestClient, other_tenant: Tenant) -> None:
    theirs = await make_issue(other_tenant.workspace_id, "stale_object")
    assert (await api.get(f"/api/v1/issues/{theirs}")).status_code == 404
    assert (await api.post(f"/api/v1/issues/{theirs}/resolve")).status_code == 404
    assert (await api.get("/api/v1/issues/groups")).json()["groups"] == []
