"""Importing through the plugin: contacts page by page and by modified-since, items, income accounts, tax rates."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge_xero import plugin
from ledgerbridge_xero.sandbox import SandboxConfig
from xero_plugin_harness import Connected

pytest_plugins = ("xero_plugin_harness",)


async def read_all(hook, session, cursor=None, read=None):
    records, pages = [], 0
    while True:
        page = await hook(session=session, cursor=cursor)
        records.extend(page.records)
        pages += 1
        if read is not None:
            read.append(page)
        if page.next_cursor is None:
            return records, page.cursor, pages
        cursor = page.next_cursor


async def test_customers_page_by_page_then_only_what_changed(xero_connect):
    # The import asks for 1,000 contacts a page; a provider that gives fewer only means more pages.
    xero: Connected = await xero_connect(SandboxConfig(page_size=2, max_page_size=2))
    harness = xero.xero
    harness.sandbox.advance(600)  # reads overlap the last minute before them; start clear of the seeding
    read: list = []
    records, cursor, pages = await read_all(plugin.import_customers, xero.session, read=read)
    assert pages == 2 and sorted(r.name for r in records) == ["Bayside Club", "City Agency", "Ridgeway University"]
    # Xero counts its pages: no page after next is offered when the next one is the last.
    assert [page.after_next for page in read] == [None, None]
    assert all(r.active and not r.deleted and r.email.endswith(".example") for r in records)
    assert cursor and cursor.startswith("since:")
    # Later: one contact renamed, one archived, a supplier added. Only those come back.
    harness.sandbox.advance(600)
    club = harness.contact("Bayside Club")
    bill = harness.invoice_body(Type="ACCPAY")
    agency = harness.contact("City Agency")
    harness.ok(harness.send("POST", f"Contacts/{club['ContactID']}", {"Name": "Bayside Sports Club"}))
    harness.ok(harness.send("POST", f"Contacts/{agency['ContactID']}", {"ContactStatus": "ARCHIVED"}))
    supplier = harness.ok(harness.send("PUT", "Contacts", {"Name": "Paper Supplies Ltd"}))["Contacts"][0]
    bill["Contact"] = {"ContactID": supplier["ContactID"]}
    harness.ok(harness.send("PUT", "Invoices", {"Invoices": [bill]}))
    changed, _, _ = await read_all(plugin.import_customers, xero.session, cursor)
    by_name = {r.name: r for r in changed}
    assert set(by_name) == {"Bayside Sports Club", "City Agency"}, "the supplier-only contact is not a customer"
    assert not by_name["City Agency"].active and not by_name["City Agency"].deleted
    since = [r for r in xero.requests_to("Contacts") if "If-Modified-Since" in r.headers]
    assert since and all(r.headers["xero-tenant-id"] == xero.tenant.id for r in since)


async def test_each_page_says_where_the_page_after_next_starts_while_there_is_one(xero_connect):
    xero: Connected = await xero_connect(SandboxConfig(page_size=1, max_page_size=1))
    read: list = []
    await read_all(plugin.import_customers, xero.session, read=read)
    assert len(read) >= 3
    assert [page.after_next for page in read[:-2]] == [after.next_cursor for after in read[1:-1]]
    assert read[-2].after_next is None and read[-1].after_next is None  # never a page past the last


async def test_items_accounts_and_tax_rates(xero_connect):
    xero: Connected = await xero_connect()
    xero.sandbox.advance(600)
    items, cursor, _ = await read_all(plugin.import_items, xero.session)
    dev = next(i for i in items if i.name == "Development work")
    assert dev.unit_price == Decimal("120.00") and dev.income_account_id == "200" and dev.taxable
    assert dev.tax_rate_id == "OUTPUT2"
    xero.sandbox.advance(600)
    again = await plugin.import_items(session=xero.session, cursor=cursor)
    assert again.records == [], "nothing changed since"
    accounts = (await plugin.import_accounts(session=xero.session, cursor=None)).records
    assert sorted(a.remote_id for a in accounts) == ["200", "260", "270"], "REVENUE class only, keyed by code"
    assert {a.account_type for a in accounts} == {"REVENUE", "OTHERINCOME"}
    rates = {r.remote_id: r for r in (await plugin.import_tax_rates(session=xero.session, cursor=None)).records}
    assert set(rates) == {"OUTPUT2", "ZERORATED", "NONE", "OUTPUT"}, "sales tax types only"
    assert rates["OUTPUT2"].rate == Decimal("15") and rates["OUTPUT2"].active
    assert rates["OUTPUT"].deleted and not rates["OUTPUT"].active
