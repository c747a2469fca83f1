"""Importing through the plugin: clients, items and taxes, with paging, archiving, deletions and change cursors."""

from __future__ import annotations

from decimal import Decimal

from fb_plugin_harness import Connected
from ledgerbridge_freshbooks import plugin
from ledgerbridge_freshbooks.sandbox import SandboxConfig

pytest_plugins = ("fb_plugin_harness",)


async def read_all(hook, session, cursor=None):
    """Every page of one read; returns the records, the number of pages and the change cursor."""
    records, pages = [], 0
    while True:
        page = await hook(session=session, cursor=cursor)
        records.extend(page.records)
        pages += 1
        if page.next_cursor is None:
            return records, pages, page.cursor
        cursor = page.next_cursor


async def test_full_import_pages_through_freshbooks_silent_per_page_cap(fb_connect):
    fb: Connected = await fb_connect(SandboxConfig(max_per_page=2))
    customers, pages, cursor = await read_all(plugin.import_customers, fb.session)
    assert pages == 2 and cursor
    assert sorted(c.name for c in customers) == ["Amy's Bird Sanctuary", "Bill's Windsurf Shop", "Cool Cars"]
    cool = next(c for c in customers if c.name == "Cool Cars")
    assert (cool.given_name, cool.family_name, cool.email, cool.currency) == (
        "Grace", "Pariente", "grace@coolcars.example", "USD")
    assert cool.active and not cool.deleted and cool.updated_at is not None
    items, _, _ = await read_all(plugin.import_items, fb.session)
    design = next(i for i in items if i.name == "Design")
    assert design.unit_price == Decimal("75.00") and isinstance(design.unit_price, Decimal)
    taxes, tax_pages, tax_cursor = await read_all(plugin.import_tax_rates, fb.session)
    assert {(t.name, t.rate) for t in taxes} == {("Sales Tax", Decimal("8.25")), ("City Tax", Decimal("1.5"))}
    assert tax_pages == 1 and tax_cursor is None  # taxes are really deleted: always read in full


async def test_incremental_import_sees_changes_archives_and_deletions(fb_connect):
    fb: Connected = await fb_connect()
    _, _, cursor = await read_all(plugin.import_customers, fb.session)
    await fb.advance(3 * 86400)  # days later: a day-granular filter from the last read still covers today
    amy, bill = fb.fb.client_id("Amy's Bird Sanctuary"), fb.fb.client_id("Bill's Windsurf Shop")
    fb.fb.update(f"users/clients/{amy}", "client", {"organization": "Amy's Aviary"})
    fb.fb.update(f"users/clients/{bill}", "client", {"vis_state": 2})
    gone = fb.fb.create("users/clients", "client", {"organization": "Short-lived"})["id"]
    fb.fb.update(f"users/clients/{gone}", "client", {"vis_state": 1})
    asked_before = len(fb.requests_to("clients"))
    changed, _, after = await read_all(plugin.import_customers, fb.session, cursor)
    by_id = {c.remote_id: c for c in changed}
    assert {str(amy), str(bill), str(gone)} <= set(by_id)
    assert by_id[str(amy)].name == "Amy's Aviary"
    assert not by_id[str(bill)].active and not by_id[str(bill)].deleted
    assert by_id[str(gone)].deleted
    assert after > cursor
    # One request reads live, archived and deleted rows together (an "in" search on vis_state).
    assert len(fb.requests_to("clients")) - asked_before == 1
    params = fb.requests_to("clients")[-1].url.params
    assert params["search[updated_min]"] and params.get_list("search[vis_states][]") == ["0", "1", "2"]
    # Days later, with nothing new, only the last changed day is read again (the overlap), not everything.
    await fb.advance(3 * 86400)
    again, _, final = await read_all(plugin.import_customers, fb.session, after)
    assert {c.remote_id for c in again} == {str(amy), str(bill), str(gone)} and final == after
