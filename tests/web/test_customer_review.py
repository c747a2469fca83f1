"""The customer import review: the frame at once, the table by htmx (or inline), import selected."""

from __future__ import annotations

import re
from typing import Any

from ledgerbridge.jobs import loads
from ledgerbridge.tables import Customer, ExternalLink, RunKind, SyncRun

from tests.conftest import Tenant, make_connection
from tests.web import seeding
from tests.web.conftest import UI


async def _book(tenant: Tenant, acme: Any) -> tuple[Any, dict[str, str]]:
    """Acme's customers against a workspace with Ada and two Twin Cos: one link, one ambiguity, two new."""
    connection = await make_connection(tenant.workspace_id)
    await seeding.customer(tenant.workspace_id, "Ada Lovelace", email="ada@example.com")
    await seeding.customer(tenant.workspace_id, "Twin Co")
    await seeding.customer(tenant.workspace_id, "Twin Co")
    ids = {
        "ada": acme.seed("customer", {"name": "Ada L.", "email": "ADA@example.com"}),
        "twin": acme.seed("customer", {"name": "Twin Co"}),
        "grace": acme.seed("customer", {"name": "Grace Hopper", "email": "grace@gmail.com"}),
        "initech": acme.seed("customer", {"name": "Initech LLC", "email": "billing@initech.example"}),
    }
    return connection, ids


def _row(page: str, remote_id: str) -> str:
    """The table row of one remote customer (rows carry their checkbox or, if ambiguous, none)."""
    rows = re.findall(r"<tr class=\"[^\"]*\" data-action=\"\w+\">.*?</tr>", page, flags=re.S)
    mine = [row for row in rows if f'name="kind_{remote_id}"' in row or f'value="{remote_id}"' in row]
    if mine:
        return mine[0]
    return next(row for row in rows if 'data-action="ambiguous"' in row)


async def test_the_page_answers_at_once_and_loads_the_table_with_htmx(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection, _ = await _book(tenant, acme)
    acme.CALLS.clear()
    page = await ui.get(f"/customers/review/{connection.id}")
    assert f'hx-get="/customers/review/{connection.id}/table"' in page and 'hx-trigger="load"' in page
    assert "Reading your customers from Acme Books" in page
    assert f'href="/customers/review/{connection.id}?now=1"' in page  # the way in without JavaScript
    assert "import_customers" not in acme.CALLS  # the provider is read by the fragment, not the frame


async def test_the_table_says_what_each_customer_would_become(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection, ids = await _book(tenant, acme)
    table = await ui.get(f"/customers/review/{connection.id}/table")
    assert "<html" not in table and 'name="_csrf_token"' in table  # a fragment, with its own form token
    ada = _row(table, ids["ada"])
    assert "link to" in ada and "Ada Lovelace" in ada and "same email" in ada and "checked" in ada
    twin = _row(table, ids["twin"])
    assert "ambiguous" in twin and twin.count("Twin Co") >= 3  # the remote one and both candidates named
    assert 'type="checkbox"' not in twin and "Not importable yet" in twin and "archive the duplicates" in twin
    grace = _row(table, ids["grace"])
    assert "create" in grace and '<option value="individual" selected>' in grace
    assert '<option value="business" selected>' in _row(table, ids["initech"])
    assert "Select all" in table and "Import selected" in table and "only the first" not in table
    assert await ExternalLink.count() == 0 and await Customer.count() == 3  # reviewing wrote nothing


async def test_without_javascript_the_review_is_in_the_page(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection, ids = await _book(tenant, acme)
    page = await ui.get(f"/customers/review/{connection.id}?now=1")
    assert "<html" in page and "hx-get" not in page.split("<main", 1)[1].split("</main>")[0]
    assert f'value="{ids["grace"]}"' in page and "Import all that can be imported" in page


async def test_a_truncated_review_says_so(ui: UI, tenant: Tenant, acme: Any, monkeypatch: Any) -> None:
    from ledgerbridge_web import customer_review

    connection, _ = await _book(tenant, acme)
    monkeypatch.setattr(customer_review, "ROWS_SHOWN", 3)  # four customers in Acme, three read
    table = await ui.get(f"/customers/review/{connection.id}/table")
    assert "This review shows only the first 3 of your Acme Books" in table


async def test_a_broken_connection_is_explained_instead_of_read(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection = await make_connection(tenant.workspace_id, status="needs_reconnect")
    table = await ui.get(f"/customers/review/{connection.id}/table")
    assert "Acme Books is not connected" in table and "Reconnect Acme Books" in table
    response = await ui.post(f"/customers/review/{connection.id}/import", {"remote_ids": ["1"]})
    assert 'class="notice error"' in await ui.follow(response)
    assert await SyncRun.count() == 0


async def test_import_selected_records_the_run_with_the_chosen_kinds(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection, ids = await _book(tenant, acme)
    await ui.get(f"/customers/review/{connection.id}/table")
    response = await ui.post(
        f"/customers/review/{connection.id}/import",
        {"remote_ids": [ids["grace"], ids["ada"]], "selectable": list(ids.values()),
         f"kind_{ids['grace']}": "business", f"kind_{ids['ada']}": "individual", f"kind_{ids['initech']}": "business"},
    )
    run = await SyncRun.objects().where(SyncRun.connection == connection.id).first()
    assert response.headers["location"] == f"/sync-history/{run.id}"
    assert run.kind == RunKind.import_customers
    assert loads(run.params) == {"remote_ids": [ids["grace"], ids["ada"]],
                                 "kinds": {ids["grace"]: "business", ids["ada"]: "individual"}}
    page = await ui.follow(response)
    assert "<progress" in page and "import customers" in page and "Importing 2 customers" in page


async def test_import_all_takes_every_selectable_row(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection, ids = await _book(tenant, acme)
    selectable = [ids["ada"], ids["grace"], ids["initech"]]
    await ui.post(f"/customers/review/{connection.id}/import", {"all": "1", "selectable": selectable})
    run = await SyncRun.objects().where(SyncRun.connection == connection.id).first()
    assert loads(run.params)["remote_ids"] == selectable


async def test_nothing_ticked_is_refused(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection, _ = await _book(tenant, acme)
    response = await ui.post(f"/customers/review/{connection.id}/import", {})
    assert "No customer was selected" in await ui.follow(response)
    assert await SyncRun.count() == 0


async def test_customers_page_links_each_connection_to_its_review(ui: UI, tenant: Tenant, acme: Any) -> None:
    connection = await make_connection(tenant.workspace_id)
    page = await ui.get("/customers")
    assert f'href="/customers/review/{connection.id}"' in page


async def test_another_workspaces_connection_cannot_be_reviewed(ui: UI, acme: Any) -> None:
    from tests.conftest import make_tenant

    other = await make_tenant("else@example.com", "Elsewhere")
    connection = await make_connection(other.workspace_id)
    await ui.get(f"/customers/review/{connection.id}", status=404)
    await ui.get(f"/customers/review/{connection.id}/table", status=404)
