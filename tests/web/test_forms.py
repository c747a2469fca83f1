"""The record forms of issue 13, posted as a browser without JavaScript posts them.

Each form goes through the same service as the REST API: a refusal comes back on the form (400) naming
the field, with what was typed kept; a success redirects (post/redirect/get) and says so once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge import jobs
from ledgerbridge.tables import Customer, Invoice, InvoiceLine, Item, Payment, RunKind, SyncRun, TimeEntry

from tests.conftest import Tenant
from tests.web import seeding
from tests.web.conftest import UI


async def _post_form(ui: UI, path: str, data: dict[str, Any]) -> Any:
    """A form post that may be refused: the page is shown again with 400."""
    if not ui.token:
        await ui.get("/")
    return await ui.client.post(path, data={**data, "_csrf_token": ui.token}, headers={"accept": "text/html"},
                                follow_redirects=False)


async def test_a_customer_is_created_corrected_and_refusals_name_the_field(ui: UI, tenant: Tenant) -> None:
    form = await ui.get("/customers/new")
    assert '<label for="f-name">Name' in form and 'id="f-currency"' in form
    refused = await _post_form(ui, "/customers/new", {"name": "", "email": "billing@globex.test", "currency": "usd"})
    assert refused.status_code == 400
    assert "Name is required" in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="billing@globex.test"' in refused.text  # what was typed is kept
    assert await Customer.count() == 0

    response = await ui.post("/customers/new", {"name": "Globex", "email": "billing@globex.test", "currency": "eur",
                                                "kind": "business"})
    row = await Customer.objects().where(Customer.name == "Globex").first()
    assert response.headers["location"] == f"/customers/{row.id}" and row.currency == "EUR"
    assert "Customer Globex created." in await ui.follow(response)
    assert "Customer Globex created." not in await ui.get(f"/customers/{row.id}")  # shown once
    assert await Customer.count() == 1  # and the reload created nothing

    edit = await ui.get(f"/customers/{row.id}/edit")
    assert 'value="Globex"' in edit
    response = await ui.post(f"/customers/{row.id}/edit", {"name": "Globex Corp", "currency": "EUR", "kind": "business",
                                                           "email": "ap@globex.test"})
    assert "Customer Globex Corp saved." in await ui.follow(response)
    assert (await Customer.objects().where(Customer.id == row.id).first()).email == "ap@globex.test"


async def test_an_item_gets_its_income_account_in_its_form(ui: UI, tenant: Tenant) -> None:
    from tests.conftest import make_connection

    connection = await make_connection(tenant.workspace_id)
    sales = await seeding.account(tenant.workspace_id, connection.id, "Sales", "4000")
    form = await ui.get("/items/new")
    assert "Income account" in form and "Sales (4000)" in form
    refused = await _post_form(ui, "/items/new", {"name": "Design", "unit_price": "12,50", "active": "on"})
    assert refused.status_code == 400 and "Unit price must be a number" in refused.text
    assert 'value="12,50"' in refused.text
    response = await ui.post("/items/new", {"name": "Design", "unit_price": "120.00", "kind": "service",
                                            "income_account_id": str(sales.id), "active": "on"})
    item = await Item.objects().where(Item.name == "Design").first()
    assert item.income_account == sales.id and item.unit_price == Decimal("120.00")
    assert "Item Design created." in await ui.follow(response)
    await ui.post(f"/items/{item.id}/edit", {"name": "Design work", "unit_price": "130", "kind": "service",
                                             "income_account_id": ""})
    saved = await Item.objects().where(Item.id == item.id).first()
    assert (saved.name, saved.unit_price, saved.income_account, saved.active) == (
        "Design work", Decimal("130"), None, False)  # an unticked box is "archived"


async def test_time_is_recorded_corrected_and_deleted_after_confirming(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    globex = await seeding.customer(ws)
    form = await ui.get("/time-entries/new")
    assert "Globex" in form and 'type="date"' in form
    refused = await _post_form(ui, "/time-entries/new", {"customer_id": str(globex.id), "person": "Ada",
                                                         "worked_on": "2026-11-31", "hours": "2", "billable": "on"})
    assert refused.status_code == 400 and "Worked on must be a real date" in refused.text
    assert 'value="2026-11-31"' in refused.text and await TimeEntry.count() == 0
    response = await ui.post("/time-entries/new", {"customer_id": str(globex.id), "person": "Ada",
                                                   "worked_on": "2026-11-02", "hours": "2.5", "rate": "80",
                                                   "description": "Logo", "billable": "on"})
    assert "Recorded 2.5" in await ui.follow(response)
    entry = await TimeEntry.objects().first()
    assert (entry.hours, entry.worked_on, entry.billable) == (Decimal("2.5"), date(2026, 11, 2), True)
    await ui.post(f"/time-entries/{entry.id}/edit", {"customer_id": str(globex.id), "person": "Ada",
                                                     "worked_on": "2026-11-03", "hours": "3", "rate": "80",
                                                     "description": "Logo sketches", "billable": "on"})
    entry = await TimeEntry.objects().first()
    assert (entry.hours, entry.description) == (Decimal("3"), "Logo sketches")

    confirm = await ui.post("/time-entries/delete/confirm", {"ids": [str(entry.id)]})
    assert confirm.status_code == 200 and "Delete 1 time entry?" in confirm.text
    assert await TimeEntry.count() == 1  # asking changes nothing
    response = await ui.post("/time-entries/delete", {"ids": [str(entry.id)]})
    assert "Deleted 1 time entry." in await ui.follow(response)
    assert await TimeEntry.count() == 0


async def test_an_invoice_is_written_line_by_line_and_a_bad_line_is_named(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    globex = await seeding.customer(ws)
    design = await seeding.item(ws, "Design", "120")
    form = await ui.get(f"/invoices/new?customer_id={globex.id}")
    assert 'name="line-0-item_id"' in form and "Design (120.00)" in form
    lines = {"line_count": "3",
             "line-0-item_id": str(design.id), "line-0-quantity": "2",
             "line-1-description": "Hosting", "line-1-quantity": "1", "line-1-unit_price": "abc",
             "line-2-quantity": "1"}
    refused = await _post_form(ui, "/invoices/new", {"customer_id": str(globex.id), "issue_date": "2026-11-01",
                                                     "due_date": "2026-12-01", **lines})
    assert refused.status_code == 400 and "Line 2 unit price must be a number" in refused.text
    assert 'value="Hosting"' in refused.text and await Invoice.count() == 0
    refused = await _post_form(ui, "/invoices/new", {"customer_id": str(globex.id), "issue_date": "2026-11-01",
                                                     "due_date": "2026-10-01", **lines, "line-1-unit_price": "30"})
    assert refused.status_code == 400 and "is before issue_date" in refused.text

    response = await ui.post("/invoices/new", {"customer_id": str(globex.id), "issue_date": "2026-11-01",
                                               "due_date": "2026-12-01", **lines, "line-1-unit_price": "30"})
    invoice = await Invoice.objects().first()
    assert response.headers["location"] == f"/invoices/{invoice.id}"
    assert (invoice.total, invoice.due_date, invoice.status) == (Decimal("270.00"), date(2026, 12, 1), "draft")
    page = await ui.follow(response)
    assert f"Draft invoice {invoice.number} created." in page and f'href="/invoices/{invoice.id}/edit"' in page

    edit = await ui.get(f"/invoices/{invoice.id}/edit")
    assert 'value="Hosting"' in edit and 'value="30.00"' in edit
    await ui.post(f"/invoices/{invoice.id}/edit", {
        "customer_id": str(globex.id), "issue_date": "2026-11-01", "due_date": "2026-11-15", "line_count": "2",
        "line-0-item_id": str(design.id), "line-0-description": "Design", "line-0-quantity": "2",
        "line-0-unit_price": "120.00", "line-1-description": "Hosting", "line-1-quantity": "1",
        "line-1-unit_price": "30.00", "line-1-remove": "on"})
    invoice = await Invoice.objects().first()
    assert (invoice.total, invoice.due_date) == (Decimal("240.00"), date(2026, 11, 15))
    assert await InvoiceLine.count().where(InvoiceLine.invoice == invoice.id) == 1


async def test_payments_are_recorded_and_voided_and_an_invoice_is_voided_after_confirming(
    ui: UI, tenant: Tenant
) -> None:
    ws = tenant.workspace_id
    globex = await seeding.customer(ws)
    invoice_id = await seeding.invoice(ws, globex.id, "INV-5", amount="150.00")
    page = await ui.get(f"/invoices/{invoice_id}")
    assert f'action="/invoices/{invoice_id}/payments"' in page and 'value="150.00"' in page
    response = await ui.post(f"/invoices/{invoice_id}/payments", {"amount": "200", "paid_on": "2026-11-05"})
    page = await ui.follow(response)
    assert "more than invoice INV-5" in page and await Payment.count() == 0
    response = await ui.post(f"/invoices/{invoice_id}/payments", {"amount": "150.00", "paid_on": "2026-11-05",
                                                                   "method": "bank"})
    page = await ui.follow(response)
    assert "Payment of 150.00 recorded." in page and '<span class="badge paid">Paid</span>' in page
    payment = await Payment.objects().first()
    confirm = await ui.get(f"/payments/{payment.id}/void")
    assert "Void the payment of 150.00 on invoice INV-5?" in confirm and await Payment.count() == 1
    response = await ui.post(f"/payments/{payment.id}/void")
    page = await ui.follow(response)
    assert "Payment voided." in page and '<span class="hint">Voided</span>' in page
    voided = await Payment.objects().first()
    assert voided.voided_at is not None and await Payment.count() == 1  # kept on record, voided
    assert (await Invoice.objects().where(Invoice.id == invoice_id).first()).amount_paid == 0

    confirm = await ui.get(f"/invoices/{invoice_id}/void")
    assert "Void invoice INV-5?" in confirm
    assert (await Invoice.objects().where(Invoice.id == invoice_id).first()).status == "finalized"
    response = await ui.post(f"/invoices/{invoice_id}/void")
    assert "Invoice INV-5 voided." in await ui.follow(response)
    assert (await Invoice.objects().where(Invoice.id == invoice_id).first()).status == "void"


async def test_a_payment_the_books_removed_shows_where_it_went(ui: UI, tenant: Tenant) -> None:
    """The read-back (`sync.payment_removals`) keeps a payment the bookkeeper deleted there, voided and
    marked with the provider: the invoice page says so instead of offering to void it."""
    ws = tenant.workspace_id
    globex = await seeding.customer(ws)
    invoice_id = await seeding.invoice(ws, globex.id, "INV-6", amount="90.00")
    await ui.follow(await ui.post(f"/invoices/{invoice_id}/payments", {"amount": "90.00", "paid_on": "2026-11-05"}))
    payment = await Payment.objects().first()
    await Payment.update({Payment.voided_at: payment.created_at, Payment.removed_in_provider: "quickbooks"}).where(
        Payment.id == payment.id)
    page = await ui.get(f"/invoices/{invoice_id}")
    assert '<span class="hint">Removed in QuickBooks Online</span>' in page, page
    assert f"/payments/{payment.id}/void" not in page


async def test_messages_never_come_from_the_url(ui: UI, tenant: Tenant) -> None:
    for path in ("/", "/customers", "/invoices", "/time-entries", "/sync-history", "/workspace/settings"):
        page = await ui.get(f"{path}?error=Your+account+is+locked&notice=Call+0800&fix=Send+your+password")
        assert "Your account is locked" not in page and "0800" not in page and "Send your password" not in page


async def test_a_run_with_failures_is_not_a_plain_done_and_people_are_named(ui: UI, tenant: Tenant) -> None:
    from tests.conftest import make_connection

    ws = tenant.workspace_id
    connection = await make_connection(ws)
    run = await jobs.enqueue(RunKind.export_invoices, workspace_id=ws, connection_id=connection.id,
                             trigger=f"user:{tenant.owner_id}")
    await SyncRun.update({SyncRun.state: "done", SyncRun.failed: 1, SyncRun.seen: 2}).where(SyncRun.id == run.id)
    poll = await jobs.enqueue(RunKind.import_customers, workspace_id=ws, connection_id=connection.id,
                              trigger="schedule")
    history = await ui.get("/sync-history")
    assert "done with 1 failed" in history and "run-done-failed" in history
    assert f"user:{tenant.owner_id}" not in history and "Automatic (scheduled poll)" in history
    failed = await ui.get("/sync-history?state=failed")
    assert f'href="/sync-history/{run.id}"' in failed and f'href="/sync-history/{poll.id}"' not in failed
    mine = await ui.get("/sync-history?origin=manual")
    assert f'href="/sync-history/{run.id}"' in mine and f'href="/sync-history/{poll.id}"' not in mine
    automatic = await ui.get("/sync-history?origin=automatic&kind=import_customers")
    assert f'href="/sync-history/{poll.id}"' in automatic and f'href="/sync-history/{run.id}"' not in automatic
    assert "No run matches these filters" in await ui.get("/sync-history?state=cancelled")
    dashboard = await ui.get("/")
    assert f'href="/sync-history/{run.id}"' in dashboard and "1 automatic run in progress" in dashboard
