"""The invoice and time forms' customer and item pickers (`ledgerbridge_web.pickers`), on SQLite and PostgreSQL.

A form reads and renders the same whatever the number of customers and items: the same queries, each
with a limit, and the same options (the chosen records and a short list). The option route answers the
active customers or items matching what was typed, by name, at most 20, behind the forms' permission.
Timings are the bench's job (`bench/ui.py`); these check behaviour. The browser side is test_picker_browser.py.
"""

from __future__ import annotations

import re

import pytest_asyncio
from ledgerbridge.bulk_rows import insert_rows
from ledgerbridge.db import write_transaction
from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.tables import Customer, Invoice, InvoiceLine, Item, Membership, Role, utcnow
from ledgerbridge_web.pickers import SHORT_LIST

from tests.conftest import OWNER_PASSWORD, Tenant
from tests.web import seeding
from tests.web.conftest import HTML, UI, submit_login
from tests.web.test_list_queries import queries  # noqa: F401  (the fixture that logs every statement)

SELECT = re.compile(r'<select id="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="(\d+)"')
LISTED = re.compile(r'<li role="option" id="([^"]+)" data-value="(\d+)" data-label="([^"]*)"')


@pytest_asyncio.fixture
async def database(any_database: str) -> str:
    """On both databases: the pickers' search is ILIKE on PostgreSQL and LIKE on SQLite."""
    return any_database


async def _many(ws: int, count: int, start: int = 0) -> None:
    now = utcnow()
    async with write_transaction():
        await insert_rows(Customer, ["workspace", "name", "email", "created_at", "updated_at"], [
            (ws, f"Bulk customer {n:05d}", f"bulk{n}@example.com", now, now) for n in range(start, start + count)])
        await insert_rows(Item, ["workspace", "name", "unit_price", "created_at", "updated_at"], [
            (ws, f"Bulk item {n:05d}", "10", now, now) for n in range(start, start + count)])


async def _cost(ui: UI, seen: list[str], path: str) -> tuple[int, int]:
    """The statements a render of `path` costs and the `<option>`s of customers and items it holds."""
    await ui.get(path)
    seen.clear()
    page = await ui.get(path)
    return len(seen), len(OPTION.findall(page))


async def test_the_forms_cost_the_same_whatever_the_number_of_customers_and_items(
        ui: UI, tenant: Tenant, queries: list[str]) -> None:  # noqa: F811
    ws = tenant.workspace_id
    zed = await seeding.customer(ws, "Zed Works")
    last = await seeding.item(ws, "Zz last item", "5")
    invoice_id = await seeding.invoice(ws, zed.id, "P-1", status="draft")
    await InvoiceLine.update({InvoiceLine.item: last.id}).where(InvoiceLine.invoice == invoice_id)
    paths = ["/invoices/new", f"/invoices/{invoice_id}/edit", "/time-entries/new"]
    await _many(ws, 30)
    few = {path: await _cost(ui, queries, path) for path in paths}
    await _many(ws, 600, start=30)
    many = {path: await _cost(ui, queries, path) for path in paths}
    assert few == many, (few, many)
    for path in paths:
        for name, body in SELECT.findall(await ui.get(path)):
            if "_id" in name and "tax_rate" not in name:  # a blank, the short list and the chosen one at most
                assert body.count("<option") <= SHORT_LIST + 2, (path, name, body.count("<option"))

    edit = await ui.get(f"/invoices/{invoice_id}/edit")
    assert f'<option value="{zed.id}" selected>Zed Works</option>' in edit, "the chosen customer, far down the list"
    assert f'<option value="{last.id}" selected>Zz last item (5.00)</option>' in edit
    assert 'data-picker="/customers/options"' in edit and 'data-picker="/items/options"' in edit
    assert "the first 20 by name" in edit, "without JavaScript the person is told the list is short"


async def test_a_refused_form_shows_the_chosen_records_again(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    await _many(ws, 40)
    far = await seeding.customer(ws, "Zulu Trading")
    item = await seeding.item(ws, "Zebra audit", "12.5")
    await ui.get("/invoices/new")
    refused = await ui.client.post("/invoices/new", data={
        "customer_id": str(far.id), "issue_date": "not a date", "line_count": "1",
        "line-0-item_id": str(item.id), "line-0-quantity": "1", "_csrf_token": ui.token},
        headers=HTML, follow_redirects=False)
    assert refused.status_code == 400
    assert f'<option value="{far.id}" selected>Zulu Trading</option>' in refused.text
    assert f'<option value="{item.id}" selected>Zebra audit (12.50)</option>' in refused.text
    refused = await ui.client.post("/time-entries/new", data={
        "customer_id": str(far.id), "person": "", "worked_on": "2026-11-02", "hours": "2",
        "item_id": str(item.id), "_csrf_token": ui.token}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 400
    assert f'<option value="{far.id}" selected>Zulu Trading</option>' in refused.text
    assert f'<option value="{item.id}" selected>Zebra audit (12.50)</option>' in refused.text
    assert await Invoice.count() == 0


async def test_the_option_routes_answer_active_matches_by_name_at_most_twenty(
        ui: UI, tenant: Tenant, queries: list[str]) -> None:  # noqa: F811
    ws = tenant.workspace_id
    await _many(ws, 45)
    globex = await seeding.customer(ws, 'Globex <"Ltd">', email="ap@globex.test")
    gone = await seeding.customer(ws, "Globex Old", email="old@globex.test", active=False)
    await seeding.item(ws, "Design", "120", description="Brand identity work")
    await seeding.item(ws, "Design retired", "80", active=False)

    listed = LISTED.findall(await ui.get("/customers/options?q=globex&list=f-customer_id-options"))
    assert [(value, label) for _, value, label in listed] == [(str(globex.id), "Globex &lt;&#34;Ltd&#34;&gt;")]
    assert listed[0][0] == f"f-customer_id-options-{globex.id}"
    assert str(gone.id) not in [value for _, value, _ in listed], "an archived customer is never offered"
    by_email = LISTED.findall(await ui.get("/customers/options?q=AP@GLOBEX"))
    assert [value for _, value, _ in by_email] == [str(globex.id)], "the email, whatever its case"
    queries.clear()
    first = LISTED.findall(await ui.get("/customers/options?q=bulk"))
    assert len(first) == 20 and [label for *_, label in first] == sorted(label for *_, label in first)
    assert [q for q in queries if '"customer"' in q and "LIMIT" in q.upper()], "the search is limited in SQL"
    assert "No active customer matches “nothing here”." in await ui.get("/customers/options?q=nothing here")
    assert 'id="picker-' in await ui.get("/customers/options?q=globex&list=\"><script>")

    items = LISTED.findall(await ui.get("/items/options?q=design"))
    assert [label for *_, label in items] == ["Design (120.00)"], "archived items are never offered"
    assert [label for *_, label in LISTED.findall(await ui.get("/items/options?q=identity"))] == ["Design (120.00)"]


async def test_the_option_routes_need_the_forms_permission(client, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    user, _ = await create_admin("viewer@example.com", OWNER_PASSWORD, "Acme Studio")
    await Membership.update({Membership.role: Role.viewer}).where(
        (Membership.user == user.id) & (Membership.workspace == tenant.workspace_id))
    assert (await submit_login(client, "viewer@example.com", OWNER_PASSWORD)).status_code == 303
    for path in ("/customers/options?q=a", "/items/options?q=a", "/invoices/new"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 403, (path, response.status_code)


async def test_add_a_line_answers_the_next_row_and_counts_it(ui: UI, tenant: Tenant) -> None:
    await seeding.item(tenant.workspace_id, "Design", "120")
    row = await ui.get("/invoices/lines/new?line_count=7")
    assert 'id="line-7"' in row and 'name="line-7-item_id"' in row and 'data-picker="/items/options"' in row
    assert "Line 8 item" in row and "Design (120.00)" in row
    assert 'id="line-count" name="line_count" value="8" hx-swap-oob="true"' in row
    refused = await ui.client.get("/invoices/lines/new?line_count=500", headers=HTML)
    assert refused.status_code in (400, 422) and "at most 500" in refused.text
