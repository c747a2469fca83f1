"""Integrations: provider cards from the registry, connect forms, company picker, settings, sync, disconnect."""

from __future__ import annotations

import json
from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import Connection, ConnectionStatus, RunKind, SyncRun

from tests.conftest import Tenant, make_connection
from tests.web import seeding
from tests.web.conftest import UI


async def test_every_installed_provider_gets_a_card(ui: UI) -> None:
    page = await ui.get("/integrations")
    assert "Nothing is connected yet" in page
    assert 'data-provider="acme"' in page and "Connect Acme Books" in page  # the test plugin, found by entry point
    assert '<form method="post" action="/connect/acme">' in page
    assert 'name="return_to" value="/integrations"' in page


async def test_a_connection_shows_its_health(ui: UI, tenant: Tenant) -> None:
    reason = "The refresh token expired."
    row = await make_connection(tenant.workspace_id, status="needs_reconnect", status_reason=reason)
    page = await ui.get("/integrations")
    assert "needs reconnect" in page and "The refresh token expired." in page
    assert f'name="connection_id" value="{row.id}"' in page and "Reconnect</button>" in page
    assert "API budget this minute" in page and "of 600 calls" in page


async def test_the_company_picker_after_a_consent_for_several(ui: UI, tenant: Tenant) -> None:
    pending = [{"id": "c1", "name": "North Ltd"}, {"id": "c2", "name": "South Ltd"}]
    row = await make_connection(tenant.workspace_id, provider_data=json.dumps({"pending_tenants": pending}))
    page = await ui.get(f"/integrations?connection={row.id}&choose_tenant=1")
    assert '<form method="post" action="/connect/tenant">' in page
    assert 'value="c1"' in page and "South Ltd" in page


async def test_a_failed_connect_is_explained(ui: UI) -> None:
    page = await ui.get("/integrations?connect_error=wrong_account&message=That+is+another+company.")
    assert "Connecting did not work" in page and "wrong account" in page
    assert "different company than the one this connection belongs to" in page  # our words for the reason
    assert "That is another company." not in page  # never the link's words
    crafted = await ui.get("/integrations?connect_error=made_up&message=Call+0800+now")
    assert "Connecting did not work" not in crafted and "0800" not in crafted


async def test_settings_follow_capabilities_and_save(ui: UI, tenant: Tenant) -> None:
    row = await make_connection(tenant.workspace_id)
    sales = await seeding.account(tenant.workspace_id, row.id, "Sales")
    page = await ui.get(f"/integrations/{row.id}")
    assert "Default income account" in page and "Sales (4000)" in page  # acme has income accounts
    assert "Export invoices as" not in page  # and no draft export
    response = await ui.post(
        f"/integrations/{row.id}/settings",
        {"auto_export_on_send": "on", "default_income_account_id": str(sales.id), "number_policy": "provider",
         "revert_action": "delete", "reissue_number": "provider"},
    )
    assert "Settings saved." in await ui.follow(response)
    saved = await Connection.objects().where(Connection.id == row.id).first()
    assert saved.auto_export_on_send and not saved.auto_sync_customers
    assert saved.default_income_account_id == sales.id
    assert (saved.number_policy, saved.revert_action) == ("provider", "delete")
    assert saved.reissue_number == "provider"


async def test_sync_now_queues_the_chosen_reads(ui: UI, tenant: Tenant) -> None:
    row = await make_connection(tenant.workspace_id)
    response = await ui.post(f"/integrations/{row.id}/sync", {"what": ["customers", "items"]})
    assert response.headers["location"] == f"/integrations/{row.id}"
    assert "2 syncs started" in await ui.follow(response)
    kinds = {r["kind"] for r in await SyncRun.select(SyncRun.kind).where(SyncRun.connection == row.id)}
    assert kinds == {RunKind.import_customers, RunKind.import_items}
    page = await ui.get(f"/integrations/{row.id}")
    assert "import customers" in page and "import items" in page


async def test_sync_now_on_a_broken_connection_says_why(ui: UI, tenant: Tenant) -> None:
    row = await make_connection(tenant.workspace_id, status="needs_reconnect")
    response = await ui.post(f"/integrations/{row.id}/sync", {"what": ["customers"]})
    page = await ui.follow(response)
    assert 'class="notice error"' in page and "Reconnect" in page


async def test_disconnect_is_confirmed_and_keeps_provider_data(ui: UI, tenant: Tenant, acme: Any) -> None:
    row = await make_connection(tenant.workspace_id)
    page = await ui.get(f"/integrations/{row.id}/disconnect")
    assert "Your data in Acme Books stays there." in page
    assert f'action="/integrations/{row.id}/disconnect"' in page
    response = await ui.post(f"/integrations/{row.id}/disconnect")
    assert response.headers["location"] == "/integrations"
    assert "is disconnected" in await ui.follow(response)
    saved = await Connection.objects().where(Connection.id == row.id).first()
    assert saved.status == ConnectionStatus.disconnected and saved.refresh_token_enc == ""


async def test_another_workspaces_connection_is_not_found(ui: UI) -> None:
    from tests.conftest import make_tenant

    other = await make_tenant("else@example.com", "Elsewhere")
    row = await make_connection(other.workspace_id)
    await ui.get(f"/integrations/{row.id}", status=404)


async def test_the_dashboard_shows_health_issues_chart_and_runs(ui: UI, tenant: Tenant) -> None:
    row = await make_connection(tenant.workspace_id)
    ws = tenant.workspace_id
    await jobs.enqueue(RunKind.import_customers, workspace_id=ws, connection_id=row.id, trigger="user:1")
    page = await ui.get("/")
    assert "Acme Books" in page and "connected" in page
    assert "<svg" in page and "Invoice exports, last 30 days" in page
    assert "import customers" in page and "No open issues" in page


async def test_a_demo_sandbox_connection_says_so_with_its_address(
    ui: UI, tenant: Tenant, monkeypatch: Any
) -> None:
    row = await make_connection(tenant.workspace_id, environment="production")
    monkeypatch.delenv("LEDGERBRIDGE_ACME_BASE_URL", raising=False)  # the real provider: no demo label
    page = await ui.get("/integrations")
    assert "Demo sandbox" not in page and "· production" in page
    monkeypatch.setenv("LEDGERBRIDGE_ACME_BASE_URL", "http://127.0.0.1:8799")
    for path in ("/integrations", f"/integrations/{row.id}", "/"):
        page = await ui.get(path)
        assert "Demo sandbox" in page and "at http://127.0.0.1:8799" in page, path
        assert "· production" not in page


async def test_a_card_follows_its_running_sync_and_stops_when_it_ends(ui: UI, tenant: Tenant) -> None:
    row = await make_connection(tenant.workspace_id)
    idle = await ui.get("/integrations")
    assert f'id="health-{row.id}"' in idle and f'hx-get="/integrations/{row.id}/health"' not in idle
    response = await ui.post(f"/integrations/{row.id}/sync", {"what": ["customers"]})
    assert response.status_code == 303
    busy = await ui.get("/integrations")
    assert f'hx-get="/integrations/{row.id}/health"' in busy and "Syncing now" in busy
    for run in await SyncRun.select(SyncRun.id).where(SyncRun.connection == row.id):
        await jobs.execute(run["id"])
    done = await ui.get(f"/integrations/{row.id}/health")
    assert 'data-live="off"' in done and "hx-get" not in done and "Syncing now" not in done
