"""Imports through the plugin: paging, change cursors over CDC, deletions, the CDC window, accounts, tax."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from ledgerbridge_quickbooks import plugin, workflows
from ledgerbridge_quickbooks.client import QboClient
from qbo_plugin_harness import Connected

pytest_plugins = ("qbo_plugin_harness",)


async def _read_all(hook, session, cursor=None):
    records, pages = [], 0
    while True:
        page = await hook(session=session, cursor=cursor)
        records += page.records
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return records, page.cursor, pages


async def test_full_read_pages_beyond_one_page_of_1000(qb: Connected):
    realm = qb.session.tenant_id
    for n in range(1000):
        qb.sandbox.service.create(realm, "Customer", {"DisplayName": f"Bulk customer {n:04d}"})
    records, change_cursor, pages = await _read_all(plugin.import_customers, qb.session)
    assert pages == 2
    names = [r.name for r in records]
    assert len(names) == len(set(names)) > 1000
    assert "Inactive Customer Ltd" in names and not next(r for r in records if r.name == "Inactive Customer Ltd").active
    queries = [r.url.params["query"] for r in qb.requests_to("query")]
    assert queries[0].endswith("STARTPOSITION 1 MAXRESULTS 1000")
    assert queries[1].endswith("STARTPOSITION 1001 MAXRESULTS 1000")
    assert all(r.url.params["minorversion"] == "75" for r in qb.sent)
    assert change_cursor.startswith("cdc:")


async def test_small_pages_continue_where_they_stopped(qb: Connected):
    client = QboClient(qb.session, page_size=2)
    seen, cursor, pages = [], None, []
    while True:
        page = await workflows.read_page(client, "Item", "Active IN (true, false)", cursor, lambda r: r["Name"])
        seen += page.records
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    everything, _, _ = await _read_all(plugin.import_items, qb.session)
    assert seen == [r.name if r.active else r.name + " (deleted)" for r in everything]
    assert len(seen) > 4
    # Positions count, so each full page also says where the page after next starts: the cursor the
    # next page gives when it is full too (the last one's points past the end, QBO giving no total).
    assert all(page.after_next == after.next_cursor for page, after in pairwise(pages) if after.next_cursor is not None)
    assert all(page.after_next is not None for page in pages[:-1]) and pages[-1].after_next is None


async def test_change_cursor_reads_changes_through_cdc_including_deletions(qb: Connected):
    realm = qb.session.tenant_id
    qb.sandbox.advance(60)  # the clock is frozen: let the seed be older than the first read
    _, cursor, _ = await _read_all(plugin.import_customers, qb.session)
    qb.sandbox.advance(60)
    service = qb.sandbox.service
    added = service.create(realm, "Customer", {"DisplayName": "New since last time"})
    cool = next(c for c in service.company(realm).records["Customer"].values() if c["DisplayName"] == "Cool Cars")
    bills = next(c for c in service.company(realm).records["Customer"].values()
                 if c["DisplayName"] == "Bill's Windsurf Shop")
    service.update(realm, "Customer", {"Id": cool["Id"], "SyncToken": cool["SyncToken"], "sparse": True,
                                       "Active": False})
    service.merge_customers(realm, bills["Id"], added["Id"])
    qb.sandbox.advance(60)
    before = len(qb.sent)
    page = await plugin.import_customers(session=qb.session, cursor=cursor)
    assert len(qb.sent) - before == 1 and qb.sent[-1].url.path.endswith("/cdc")
    by_id = {r.remote_id: r for r in page.records}
    assert by_id[bills["Id"]].deleted is True
    assert by_id[cool["Id"]].active is False and not by_id[cool["Id"]].deleted
    assert by_id[added["Id"]].name == "New since last time"
    assert page.next_cursor is None and page.cursor != cursor
    again = await plugin.import_customers(session=qb.session, cursor=page.cursor)
    assert again.records == []


async def test_a_cursor_older_than_the_cdc_window_falls_back_to_a_full_read(qb: Connected):
    _, cursor, _ = await _read_all(plugin.import_items, qb.session)
    qb.qbo.advance(31 * 86400)
    qb.session = qb.new_session(token=qb.qbo.tokens.access_token)
    page = await plugin.import_items(session=qb.session, cursor=cursor)
    assert {r.name for r in page.records} >= {"Design", "Installation"}
    assert page.cursor.startswith("cdc:") and page.cursor != cursor


async def test_accounts_are_income_accounts_only(qb: Connected):
    qb.sandbox.advance(60)
    records, cursor, _ = await _read_all(plugin.import_accounts, qb.session)
    assert records and all(r.account_type in ("Income", "Other Income") for r in records)
    assert "Services" in {r.name for r in records}
    qb.sandbox.advance(60)
    qb.sandbox.service.create(qb.session.tenant_id, "Account", {"Name": "Petty Cash", "AccountType": "Bank"})
    qb.sandbox.service.create(qb.session.tenant_id, "Account", {"Name": "Consulting income", "AccountType": "Income"})
    qb.sandbox.advance(60)
    changed = await plugin.import_accounts(session=qb.session, cursor=cursor)
    assert [r.name for r in changed.records] == ["Consulting income"]


async def test_tax_rates_are_the_codes_a_us_sales_line_may_carry(qb: Connected):
    records, cursor, _ = await _read_all(plugin.import_tax_rates, qb.session)
    by_id = {r.remote_id: r for r in records}
    assert set(by_id) == {"TAX", "NON"}
    assert by_id["TAX"].rate == Decimal("8.25") and by_id["NON"].rate == 0
    assert cursor is None  # tax codes are not in CDC: every import reads them all
