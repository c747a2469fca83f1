"""Invoices, items, sync history, customers, issues, time entries and members, as a browser without JS uses them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import (
    ExternalLink,
    Invoice,
    Item,
    Payment,
    RunKind,
    RunState,
    SyncIssue,
    SyncRun,
    TimeEntry,
    utcnow,
)

from tests.conftest import Tenant, make_connection
from tests.web import seeding
from tests.web.conftest import UI


async def test_invoices_list_filters_and_bulk_export_with_progress(ui: UI, tenant: Tenant, acme: Any) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    globex = await seeding.customer(ws, "Globex", email="ap@globex.test")
    first = await seeding.invoice(ws, globex.id, "INV-1")
    second = await seeding.invoice(ws, globex.id, "INV-2")
    await seeding.invoice(ws, globex.id, "INV-3", status="draft")
    page = await ui.get("/invoices")
    assert "INV-1" in page and "INV-3" in page and "Not exported" in page
    assert "INV-3" not in await ui.get("/invoices?status=finalized")
    response = await ui.post("/invoices/export", {"ids": [str(first), str(second)]})
    location = response.headers["location"]
    assert location.startswith("/invoices?runs=")
    run_id = int(location.split("runs=")[1].split("&")[0])
    page = await ui.get(location)
    assert f"/sync-history/progress?ids={run_id}" in page and "Exporting" in page
    fragment = await ui.get(f"/sync-history/progress?ids={run_id}")
    assert 'hx-trigger="every 1s"' in fragment and "0 / 2" in fragment  # still queued: keeps polling
    assert await jobs.execute(run_id) == RunState.done
    fragment = await ui.get(f"/sync-history/progress?ids={run_id}")
    assert "hx-trigger" not in fragment and "2 / 2" in fragment  # finished: polling stops
    page = await ui.get("/invoices?sync=synced")
    assert "INV-1" in page and "INV-2" in page and "INV-3" not in page
    assert connection.id


async def test_exporting_a_draft_explains_why_not(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    await make_connection(ws)
    globex = await seeding.customer(ws)
    draft = await seeding.invoice(ws, globex.id, "INV-9", status="draft")
    response = await ui.post("/invoices/export", {"ids": [str(draft)]})
    page = await ui.follow(response)
    assert "drafts" in page and "Finalize them first" in page


async def test_invoice_detail_with_copy_differences_issues_and_preview(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    globex = await seeding.customer(ws)
    invoice_id = await seeding.invoice(ws, globex.id, "INV-7", amount="150.00")
    await ExternalLink(workspace=ws, connection=connection.id, record_type="invoice", record_id=invoice_id,
                       remote_id="77", remote_number="INV-7X", state="warning",
                       remote_data='{"total": "175.00", "status": "open", "raw_status": "Open", '
                                   '"deep_link": "https://acme.invalid/invoices/77"}',
                       created_at=utcnow(), updated_at=utcnow()).save()
    await SyncIssue(workspace=ws, connection=connection.id, record_type="invoice", record_id=invoice_id,
                    code="amount_changed", message="The amount was changed in Acme Books.",
                    fix="Decide which amount is right.", first_seen_at=utcnow(), last_seen_at=utcnow()).save()
    page = await ui.get(f"/invoices/{invoice_id}")
    assert "Amount differs in Acme Books" in page and "175.00" in page and "150.00" in page
    assert "Number differs in Acme Books" in page and "INV-7X" in page
    assert 'href="https://acme.invalid/invoices/77"' in page and "View in Acme Books" in page
    assert "The amount was changed in Acme Books." in page and "Decide which amount is right." in page
    assert "What an export to Acme Books sends" in page and '"total": "150.00"' in page
    confirm = await ui.get(f"/invoices/{invoice_id}/revert")
    assert f'action="/invoices/{invoice_id}/revert"' in confirm
    await Invoice.update({Invoice.locked: True}).where(Invoice.id == invoice_id)
    response = await ui.post(f"/invoices/{invoice_id}/revert")
    assert "Reverted to draft" in await ui.follow(response)
    assert (await Invoice.select(Invoice.status).where(Invoice.id == invoice_id).first())["status"] == "draft"
    # The copy taken back stays in view, with the number it keeps there.
    page = await ui.get(f"/invoices/{invoice_id}")
    assert "Earlier copies, taken back" in page and "Number INV-7X: voided there (on its way)" in page


async def test_a_payment_issue_shows_beside_the_payment_and_leaves_the_invoice_badge(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    invoice_id = await seeding.invoice(ws, (await seeding.customer(ws)).id, "INV-8", amount="150.00")
    payment = Payment(workspace=ws, invoice=invoice_id, paid_on=date(2026, 11, 3), amount=Decimal("40.00"),
                      source="acme", created_at=utcnow())
    await payment.save()
    await SyncIssue(workspace=ws, connection=connection.id, record_type="payment", record_id=payment.id,
                    code="shared_payment", message="Voided here, but it is one payment with invoice INV-9 there.",
                    fix="Edit that payment in Acme Books.", first_seen_at=utcnow(), last_seen_at=utcnow()).save()
    page = await ui.get(f"/invoices/{invoice_id}")
    payments = page[page.index("<h2>Payments</h2>"):]
    assert "Payment of 40.00 on 2026-11-03:" in payments and "one payment with invoice INV-9 there" in payments
    assert "Edit that payment in Acme Books." in payments
    assert "one payment with invoice INV-9" not in page[:page.index("<h2>Payments</h2>")]
    listed = await ui.get("/invoices?sync=error")
    assert "INV-8" not in listed  # a payment's issue is not the invoice's: its badge is unchanged


async def test_item_mapping_in_bulk_and_per_item(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    sales = await seeding.account(ws, connection.id, "Sales", "4000")
    services = await seeding.account(ws, connection.id, "Services", "4100")
    design = await seeding.item(ws, "Design")
    await seeding.item(ws, "Hosting")
    page = await ui.get("/items")
    assert "2 items without an income account" in page
    page = await ui.get("/items/mapping")
    assert f'name="account_{design.id}"' in page and "Services (4100)" in page
    await ui.post("/items/mapping/unmapped", {"account_id": str(sales.id)})
    accounts = {row["name"]: row["income_account"] for row in await Item.select(Item.name, Item.income_account)}
    assert accounts == {"Design": sales.id, "Hosting": sales.id}
    response = await ui.post("/items/mapping", {f"account_{design.id}": str(services.id)})
    assert "Saved 1 item." in await ui.follow(response)
    assert (await Item.select(Item.income_account).where(Item.id == design.id).first())["income_account"] == services.id
    assert "Every item has an income account" in await ui.get("/items")


async def test_sync_history_drill_down_and_retry(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    run = await jobs.enqueue(RunKind.import_customers, workspace_id=ws, connection_id=connection.id, trigger="user:1")
    await SyncRun.update({SyncRun.state: RunState.failed, SyncRun.error: "Acme was down."}).where(SyncRun.id == run.id)
    await SyncIssue(workspace=ws, connection=connection.id, run=run.id, code="provider_unavailable",
                    message="Acme Books did not answer.", fix="Try again later.", first_seen_at=utcnow(),
                    last_seen_at=utcnow()).save()
    page = await ui.get("/sync-history?state=failed")
    assert "import customers" in page and "Acme was down." in page and "Retry all failed runs" in page
    page = await ui.get(f"/sync-history/{run.id}")
    assert "Acme Books did not answer." in page and "Records it touched" in page
    response = await ui.post(f"/sync-history/{run.id}/retry")
    new_id = int(response.headers["location"].split("/sync-history/")[1].split("?")[0])
    assert new_id != run.id
    assert (await SyncRun.select(SyncRun.kind).where(SyncRun.id == new_id).first())["kind"] == "import_customers"


async def test_customers_search_filter_archive_and_resync(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    await make_connection(ws)
    globex = await seeding.customer(ws, "Globex", email="ap@globex.test", source="acme")
    await seeding.customer(ws, "Initech", active=False)
    page = await ui.get("/customers")
    assert "Globex" in page and "Initech" in page and 'class="picon"' in page
    assert "Initech" not in await ui.get("/customers?q=globex")
    assert "Globex" not in await ui.get("/customers?state=archived")
    response = await ui.post(f"/customers/{globex.id}/archive", {"active": "false"})
    assert "Customer archived." in await ui.follow(response)
    response = await ui.post(f"/customers/{globex.id}/resync")
    assert "Re-sync queued" in await ui.follow(response)
    runs = await SyncRun.select(SyncRun.kind, SyncRun.params).where(SyncRun.kind == RunKind.export_customer)
    assert len(runs) == 1


async def test_issues_grouped_with_bulk_resolve(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    ids = []
    for n in range(2):
        issue = SyncIssue(workspace=ws, code="item_unmapped", message=f"Item {n} has no income account.",
                          fix="Map it.", first_seen_at=utcnow(), last_seen_at=utcnow())
        await issue.save()
        ids.append(issue.id)
    page = await ui.get("/issues")
    assert "Item 0 has no income account." in page and "2 open" in page
    await ui.post("/issues/bulk", {"ids": [str(i) for i in ids], "action": "resolve"})
    assert "No open issue" in await ui.get("/issues")


async def test_time_entries_become_an_invoice(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    globex = await seeding.customer(ws)
    entries = []
    for hours in ("2", "3.5"):
        entry = TimeEntry(workspace=ws, customer=globex.id, person="Ada", worked_on=date(2026, 11, 2),
                          hours=Decimal(hours), rate=Decimal("80"), description="Design",
                          created_at=utcnow(), updated_at=utcnow())
        await entry.save()
        entries.append(entry.id)
    page = await ui.get("/time-entries")
    assert "Globex" in page and "Create invoice from selected" in page
    response = await ui.post("/time-entries/invoice", {"ids": [str(i) for i in entries]})
    invoice_page = await ui.get(response.headers["location"])
    assert "440.00" in invoice_page  # 5.5 h at 80
    billed = await ui.get("/time-entries?billed=1")
    assert "/invoices/" in billed


async def test_owners_create_and_revoke_api_keys(ui: UI, tenant: Tenant) -> None:
    page = await ui.get("/workspace/settings")
    assert tenant.owner_email in page and "Create API key" in page
    response = await ui.client.post("/workspace/api-keys", data={"name": "Billing app", "_csrf_token": ui.token,
                                                                 "scopes": ["read", "records:write"]},
                                    follow_redirects=False,
                                    headers={"accept": "text/html"})
    assert response.status_code == 303 and response.headers["location"] == "/workspace/settings"
    shown = await ui.follow(response)
    assert 'id="new-key">lb_' in shown
    key_text = re.search(r'id="new-key">([^<]+)<', shown).group(1)  # type: ignore[union-attr]
    again = await ui.get("/workspace/settings")  # a reload shows no key and creates none
    assert key_text not in again and 'id="new-key"' not in again
    from ledgerbridge.identity.api_keys import scope_list
    from ledgerbridge.tables import ApiKey

    assert await ApiKey.count().where(ApiKey.name == "Billing app") == 1

    key = await ApiKey.objects().where(ApiKey.name == "Billing app").first()
    assert "read, records:write" in again and sorted(scope_list(key.scopes)) == ["read", "records:write"]
    await ui.post(f"/workspace/api-keys/{key.id}/revoke")
    assert (await ApiKey.objects().where(ApiKey.id == key.id).first()).revoked_at is not None


async def test_an_invoice_is_marked_as_sent_and_shows_when_it_is_paid(ui: UI, tenant: Tenant, acme: Any) -> None:
    ws = tenant.workspace_id
    globex = await seeding.customer(ws, "Globex")
    invoice_id = await seeding.invoice(ws, globex.id, "INV-9", status="draft", amount="150.00")
    page = await ui.get(f"/invoices/{invoice_id}")
    assert f'action="/invoices/{invoice_id}/send"' in page and "Mark as sent" in page
    response = await ui.post(f"/invoices/{invoice_id}/send")
    assert "Invoice marked as sent." in await ui.follow(response)
    assert (await Invoice.objects().where(Invoice.id == invoice_id).first()).status == "sent"
    await Invoice.update({Invoice.amount_paid: Decimal("50.00")}).where(Invoice.id == invoice_id)
    assert "Partly paid" in await ui.get(f"/invoices/{invoice_id}")
    await Invoice.update({Invoice.amount_paid: Decimal("150.00")}).where(Invoice.id == invoice_id)
    page = await ui.get(f"/invoices/{invoice_id}")
    assert '<span class="badge paid">Paid</span>' in page and "Mark as sent" not in page
    assert '<span class="badge paid">Paid</span>' in await ui.get("/invoices")


async def test_after_connecting_the_first_import_shows_its_progress(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection = await make_connection(tenant.workspace_id)
    run = await jobs.enqueue(RunKind.import_all, workspace_id=tenant.workspace_id, connection_id=connection.id,
                             trigger="user:1")
    page = await ui.get(f"/integrations?connection={connection.id}")
    assert 'id="first-import"' in page and f"/sync-history/progress?ids={run.id}" in page
    assert 'id="first-import"' not in await ui.get("/integrations")
