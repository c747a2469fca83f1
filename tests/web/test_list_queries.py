"""The admin lists at scale (issue 18 item 4), on SQLite and PostgreSQL: every sync filter lists exactly
the invoices wearing that badge, page after page by keyset; a number search and a filter combine; a
list costs the same number of queries however many rows the workspace holds; the audit trail's count
stops at 1,000 and says so. Timings are the bench's job (`bench/ui.py`); these check behaviour."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import pytest_asyncio
from ledgerbridge.bulk_rows import insert_rows
from ledgerbridge.db import current_engine, write_transaction
from ledgerbridge.invoicing import SyncBadge, sync_badge
from ledgerbridge.tables import (
    AuditEntry,
    Customer,
    ExternalLink,
    Invoice,
    LinkState,
    RecordType,
    SyncIssue,
    TimeEntry,
    utcnow,
)

from tests.conftest import Tenant, make_connection, make_tenant
from tests.web import seeding
from tests.web.conftest import UI

ROW = re.compile(r'<a href="/invoices/(\d+)">([^<]+)</a>')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')

# (links by connection, locked, open issue): every way an invoice comes to wear each badge, and the
# combinations where a worse state must win.
KINDS: list[tuple[tuple[str, ...], bool, bool]] = [
    ((), False, False),  # not exported
    ((), True, False),  # locked, its first export on the way: exporting
    ((), True, True),  # ... with an open issue: error
    ((), False, True),  # never exported, an issue all the same: error
    ((LinkState.synced,), True, False),
    ((LinkState.archived,), True, False),
    ((LinkState.synced, LinkState.needs_sync), True, False),
    ((LinkState.pending,), True, False),
    ((LinkState.needs_sync, LinkState.pending), True, False),
    ((LinkState.warning,), True, False),
    ((LinkState.deleted_remote,), True, False),
    ((LinkState.warning, LinkState.pending), True, False),
    ((LinkState.error,), True, False),
    ((LinkState.uncertain, LinkState.warning), True, False),
    ((LinkState.synced,), True, True),
]
COPIES = 21  # of each kind: the error filter (5 kinds) and the others run past a page of 50


@pytest_asyncio.fixture
async def database(any_database: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL: their planners differ, the answers must not."""
    return any_database


async def _seed(ws: int, copies: int = COPIES, prefix: str = "S") -> dict[str, SyncBadge]:
    """`copies` invoices of every kind, three to an issue date (ties the sort breaks by id), kinds
    interleaved; returns number -> the badge `invoicing.sync_badge` gives it."""
    connections = [(await make_connection(ws, tenant=f"{prefix}-books-{n}")).id for n in range(2)]
    customer = await seeding.customer(ws, f"{prefix} customer")
    now = utcnow()
    specs = [(f"{prefix}-{n:05d}", KINDS[n % len(KINDS)]) for n in range(copies * len(KINDS))]
    async with write_transaction():
        ids = await insert_rows(Invoice, ["workspace", "number", "customer", "issue_date", "status", "subtotal",
                                          "total", "locked", "created_at", "updated_at"], [
            (ws, number, customer.id, date(2026, 1, 1) + timedelta(days=n // 3), "finalized", Decimal("10.00"),
             Decimal("10.00"), locked, now, now) for n, (number, (_, locked, _)) in enumerate(specs)])
        await insert_rows(ExternalLink, ["workspace", "connection", "record_type", "record_id", "remote_id", "state",
                                         "created_at", "updated_at"], [
            (ws, connections[c], RecordType.invoice, i, f"r{i}-{c}", state, now, now)
            for i, (_, (states, _, _)) in zip(ids, specs, strict=True) for c, state in enumerate(states)])
        await insert_rows(SyncIssue, ["workspace", "connection", "record_type", "record_id", "code", "message",
                                      "first_seen_at", "last_seen_at"], [
            (ws, connections[0], RecordType.invoice, i, "validation_failed", "Refused.", now, now)
            for i, (_, (_, _, issue)) in zip(ids, specs, strict=True) if issue])
    return {number: sync_badge(states, locked, int(issue)) for number, (states, locked, issue) in specs}


async def _walk(ui: UI, path: str) -> list[str]:
    """Follow "Next" from `path` to the end: the invoice numbers shown, in order."""
    shown: list[str] = []
    url: str | None = path
    while url:
        page = await ui.get(url)
        shown += [number for _, number in ROW.findall(page)]
        found = NEXT.search(page)
        url = html.unescape(found.group(1)) if found else None
        assert url is None or "after=" in url, "the list pages by keyset"
    return shown


async def test_each_sync_filter_lists_exactly_its_invoices_newest_first(ui: UI, tenant: Tenant) -> None:
    badges = await _seed(tenant.workspace_id)
    newest_first = sorted(badges, reverse=True)  # numbers rise with the issue date, then the id
    for badge in SyncBadge:
        expected = [number for number in newest_first if badges[number] == badge]
        assert expected, f"the seed has invoices wearing {badge}"
        assert await _walk(ui, f"/invoices?sync={badge.value}") == expected, badge


async def test_a_search_and_a_status_combine_with_a_rare_filter(ui: UI, tenant: Tenant) -> None:
    badges = await _seed(tenant.workspace_id)
    await Invoice.update({Invoice.status: "sent"}).where(Invoice.number.like("S-%1"))
    newest_first = sorted(badges, reverse=True)

    shown = await _walk(ui, "/invoices?sync=error&q=s-001")  # any case, as the search always was
    assert shown == [n for n in newest_first if badges[n] == SyncBadge.error and "S-001" in n]
    shown = await _walk(ui, "/invoices?sync=warning&status=sent")
    assert shown == [n for n in newest_first if badges[n] == SyncBadge.warning and n.endswith("1")]
    assert await _walk(ui, "/invoices?q=S-0000") == [n for n in newest_first if n.startswith("S-0000")]
    page = await ui.get("/invoices?sync=pending&q=nothing-like-it")
    assert not ROW.findall(page) and "0 in all" in page


async def test_other_workspaces_invoices_never_show(ui: UI, tenant: Tenant) -> None:
    """A rare filter's invoices are fetched by id: a link naming another workspace's invoice (which
    only a bug could write) must not bring that invoice onto this list."""
    other = await make_tenant("other@example.com", "Other Studio")
    theirs = await _seed(other.workspace_id, copies=1, prefix="T")
    ours = await _seed(tenant.workspace_id, copies=1)
    stray = await Invoice.select(Invoice.id).where(Invoice.number == "T-00009").first()  # a warning there
    assert stray is not None and theirs["T-00009"] == SyncBadge.warning
    connection = await make_connection(tenant.workspace_id, tenant="stray-books")
    await ExternalLink.insert(ExternalLink(workspace=tenant.workspace_id, connection=connection.id,
                                           record_type=RecordType.invoice, record_id=stray["id"],
                                           state=LinkState.warning, created_at=utcnow(), updated_at=utcnow()))
    for badge in SyncBadge:
        shown = await _walk(ui, f"/invoices?sync={badge.value}")
        assert shown == sorted((n for n in ours if ours[n] == badge), reverse=True), badge


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the database engine runs while the test watches (Piccolo's own query log)."""
    engine = current_engine()
    seen: list[str] = []
    monkeypatch.setattr(engine, "log_queries", True)
    monkeypatch.setattr(type(engine), "print_query", lambda _engine, query_id, query: seen.append(query))
    return seen


async def _queries_for(ui: UI, seen: list[str], path: str) -> int:
    await ui.get(path)  # warm: the session and the flash are read once per sign-in
    seen.clear()
    await ui.get(path)
    return len(seen)


@pytest.mark.parametrize("path", ["/invoices", "/invoices?sync=error", "/invoices?sync=pending",
                                  "/invoices?sync=synced", "/invoices?q=S-00", "/invoices?status=finalized&page=2"])
async def test_a_list_costs_the_same_queries_whatever_the_number_of_rows(ui: UI, tenant: Tenant,
                                                                           queries: list[str], path: str) -> None:
    await _seed(tenant.workspace_id, copies=4)
    few = await _queries_for(ui, queries, path)
    await _seed(tenant.workspace_id, copies=40, prefix="S-00")  # ten times the rows, each with its lines
    many = await _queries_for(ui, queries, path)
    assert few == many, (path, few, many)
    assert not [q for q in queries if '"invoice_line"' in q], "the list shows stored totals: no lines are read"


async def test_the_audit_trail_counts_to_a_thousand_and_says_more(ui: UI, tenant: Tenant) -> None:
    now = utcnow()
    async with write_transaction():
        await insert_rows(AuditEntry, ["workspace", "occurred_at", "actor", "action", "target_type", "target_id",
                                       "before", "after"], [
            (tenant.workspace_id, now - timedelta(minutes=n), "owner@example.com",
             "invoice.updated" if n % 2 else "customer.updated", "invoice" if n % 2 else "customer", str(n), "{}",
             "{}") for n in range(1_060)])
    first = await ui.get("/audit")
    assert "more than 1,000 in all" in first
    assert "530 in all" in await ui.get("/audit?action=invoice.updated"), "below the cap the count is exact"
    # Page 21 holds entries 1,001 to 1,050: the count goes to the end of the page asked for.
    assert "more than 1,050 in all" in await ui.get("/audit?page=21")
    last = await ui.get("/audit?page=22")
    assert re.search(r"\b1,06\d in all", last) and "more than" not in last, "the last page counts them all"


async def _more_of_the_rest(ws: int, count: int, start: int) -> None:
    now = utcnow()
    async with write_transaction():
        await insert_rows(AuditEntry, ["workspace", "occurred_at", "actor", "action", "target_type", "target_id",
                                       "before", "after"], [
            (ws, now - timedelta(minutes=n), "owner@example.com", "customer.updated", "customer", str(n), "{}", "{}")
            for n in range(start, start + count)])
        await insert_rows(Customer, ["workspace", "name", "email", "created_at", "updated_at"], [
            (ws, f"Customer {n:05d}", f"c{n}@example.com", now, now) for n in range(start, start + count)])


@pytest.mark.parametrize("path", ["/audit", "/audit?action=customer.updated&page=3", "/customers",
                                  "/customers?q=Customer 0&page=2"])
async def test_the_other_lists_cost_the_same_queries_whatever_their_rows(ui: UI, tenant: Tenant,
                                                                         queries: list[str], path: str) -> None:
    await _more_of_the_rest(tenant.workspace_id, 200, 0)
    few = await _queries_for(ui, queries, path)
    await _more_of_the_rest(tenant.workspace_id, 2_000, 200)
    many = await _queries_for(ui, queries, path)
    assert few == many, (path, few, many)


async def _time_entries(ws: int, count: int, start: int, billed_by: int | None = None) -> None:
    customers = [(await seeding.customer(ws, f"Time customer {start}-{n}")).id for n in range(3)]
    now = utcnow()
    async with write_transaction():
        await insert_rows(TimeEntry, ["workspace", "customer", "person", "worked_on", "hours", "rate", "description",
                                      "billable", "invoice", "created_at", "updated_at"], [
            (ws, customers[n % 3], "Ada", date(2026, 1, 1) + timedelta(days=n % 40), Decimal("1.50"), Decimal("80"),
             f"Task {n:05d}", True, billed_by if n % 2 else None, now, now) for n in range(start, start + count)])


ENTRY = re.compile(r'<td class="wrap">(Task \d+)</td>')


async def test_the_time_list_pages_through_every_entry_once(ui: UI, tenant: Tenant) -> None:
    """It showed the first 500 entries and no more; now 50 a page, each entry on exactly one page."""
    await _time_entries(tenant.workspace_id, 130, 0)
    first = await ui.get("/time-entries")
    assert len(ENTRY.findall(first)) == 50 and "Page 1 of 3" in first and "130 in all" in first
    shown = []
    for number in (1, 2, 3):
        shown += ENTRY.findall(await ui.get(f"/time-entries?page={number}"))
    assert sorted(shown) == [f"Task {n:05d}" for n in range(130)]


@pytest.mark.parametrize("path", ["/time-entries", "/time-entries?billed=1", "/time-entries?billed=1&page=2"])
async def test_the_time_list_costs_the_same_queries_and_rows_whatever_its_size(ui: UI, tenant: Tenant,
                                                                              queries: list[str], path: str) -> None:
    billed_by = await seeding.invoice(tenant.workspace_id, (await seeding.customer(tenant.workspace_id)).id, "T-1")
    await _time_entries(tenant.workspace_id, 120, 0, billed_by=billed_by)
    few = await _queries_for(ui, queries, path)
    await _time_entries(tenant.workspace_id, 1_200, 120, billed_by=billed_by)
    many = await _queries_for(ui, queries, path)
    assert few == many, (path, few, many)
    assert len(ENTRY.findall(await ui.get(path))) == 50, "a page, not the first 500"


async def _link_counts(ws: int) -> dict[int, tuple[int, int]]:
    """Each invoice's stored `link_count` beside its links counted afresh."""
    rows = await Invoice.raw(
        'SELECT "id", "link_count", (SELECT count(*) FROM "external_link" WHERE "record_type" = \'invoice\' '
        'AND "record_id" = "invoice"."id") AS "links" FROM "invoice" WHERE "workspace" = {}', ws)
    return {row["id"]: (row["link_count"], row["links"]) for row in rows}


async def test_exporting_follows_links_as_they_come_move_and_go(ui: UI, tenant: Tenant) -> None:
    """"Exporting" reads the link count the database keeps (migration 0021's triggers): a link added,
    moved to another invoice or deleted, by any path, changes the list at once."""
    badges = await _seed(tenant.workspace_id, copies=2)
    pending = sorted((n for n in badges if badges[n] == SyncBadge.pending), reverse=True)
    assert await _walk(ui, "/invoices?sync=pending") == pending
    waiting = [n for n in pending if not await ExternalLink.exists().where(
        ExternalLink.record_id == (await Invoice.select(Invoice.id).where(Invoice.number == n).first())["id"])]
    first, second = [(await Invoice.select(Invoice.id).where(Invoice.number == n).first())["id"] for n in waiting[:2]]
    connection = await make_connection(tenant.workspace_id, tenant="later-books")
    link = ExternalLink(workspace=tenant.workspace_id, connection=connection.id, record_type=RecordType.invoice,
                        record_id=first, remote_id="x1", state=LinkState.synced, created_at=utcnow(),
                        updated_at=utcnow())
    await link.save()
    assert waiting[0] not in await _walk(ui, "/invoices?sync=pending")
    await ExternalLink.update({ExternalLink.record_id: second}).where(ExternalLink.id == link.id)
    shown = await _walk(ui, "/invoices?sync=pending")
    assert waiting[0] in shown and waiting[1] not in shown
    await ExternalLink.delete().where(ExternalLink.id == link.id)
    assert await _walk(ui, "/invoices?sync=pending") == pending
    counts = await _link_counts(tenant.workspace_id)
    assert all(stored == fresh for stored, fresh in counts.values()), counts
    assert any(fresh > 1 for _, fresh in counts.values()), "invoices with two links are counted too"


async def test_a_rare_filter_counts_its_invoices_and_pages_by_number_too(ui: UI, tenant: Tenant) -> None:
    """A rare filter reads its invoices' sort keys once for the page and the count: both stay exact."""
    badges = await _seed(tenant.workspace_id, copies=30)
    newest_first = sorted(badges, reverse=True)
    for badge in (SyncBadge.error, SyncBadge.pending, SyncBadge.warning, SyncBadge.needs_sync):
        expected = [n for n in newest_first if badges[n] == badge]
        first = await ui.get(f"/invoices?sync={badge.value}")
        assert f"{len(expected):,} in all" in first, badge
        assert [n for _, n in ROW.findall(first)] == expected[:50]
        second = await ui.get(f"/invoices?sync={badge.value}&page=2")
        assert [n for _, n in ROW.findall(second)] == expected[50:100], badge
