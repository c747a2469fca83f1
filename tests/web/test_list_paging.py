"""The invoice list at a thousand invoices and more: the count stops at 1,000 and says so, and pages
follow by keyset, so every invoice is shown once, in order, even when invoices arrive while someone
pages through (issue 18 item 4)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

from ledgerbridge.bulk_rows import insert_rows
from ledgerbridge.db import write_transaction
from ledgerbridge.tables import ExternalLink, Invoice, LinkState, RecordType, utcnow

from tests.conftest import Tenant, make_connection
from tests.web import seeding
from tests.web.conftest import UI

ROW = re.compile(r'<a href="/invoices/(\d+)">([^<]+)</a>')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


async def _many_invoices(workspace_id: int, customer_id: int, count: int, connection_id: int) -> list[tuple[int, str]]:
    """`count` invoices, seven to an issue date (ties the sort must break by id); every third exported.
    Returns (id, number) newest first, the list's order."""
    now = utcnow()
    rows = [(workspace_id, f"P-{n:05d}", customer_id, date(2026, 1, 1) + timedelta(days=n // 7), "finalized",
             Decimal("10.00"), Decimal("10.00"), now, now) for n in range(count)]
    async with write_transaction():
        ids = await insert_rows(Invoice, ["workspace", "number", "customer", "issue_date", "status", "subtotal",
                                          "total", "created_at", "updated_at"], rows)
        await insert_rows(ExternalLink, ["workspace", "connection", "record_type", "record_id", "remote_id", "state",
                                         "created_at", "updated_at"],
                          [(workspace_id, connection_id, RecordType.invoice, i, str(i), LinkState.synced, now, now)
                           for n, i in enumerate(ids) if n % 3 == 0])
    keyed = [(row[3], i, row[1], n) for n, (row, i) in enumerate(zip(rows, ids, strict=True))]
    return [(i, number) for _, i, number, _ in sorted(keyed, key=lambda k: (k[0], k[1]), reverse=True)]


async def _walk(ui: UI, path: str) -> tuple[list[str], list[str]]:
    """Follow "Next" from `path` to the end: the numbers shown, and each page's summary line."""
    shown: list[str] = []
    summaries: list[str] = []
    url: str | None = path
    while url:
        page = await ui.get(url)
        shown += [number for _, number in ROW.findall(page)]
        summaries += re.findall(r"((?:more than )?[\d,]+ in all)", page)
        found = NEXT.search(page)
        url = html.unescape(found.group(1)) if found else None
    return shown, summaries


async def test_pages_follow_by_keyset_and_the_count_stops_at_a_thousand(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    globex = await seeding.customer(ws, "Globex")
    expected = [number for _, number in await _many_invoices(ws, globex.id, 1_060, connection.id)]

    first = await ui.get("/invoices")
    assert "more than 1,000 in all" in first, "a count capped at 1,000 says so"
    assert [number for _, number in ROW.findall(first)] == expected[:50]
    second_url = html.unescape(NEXT.search(first).group(1))  # type: ignore[union-attr]
    assert "after=" in second_url and "page=" not in second_url

    # An invoice arrives while the list is open: with numbered pages, page 2 would repeat the last of page 1.
    await seeding.invoice(ws, globex.id, "P-NEW", issued=date(2027, 1, 1))
    second = await ui.get(second_url)
    assert [number for _, number in ROW.findall(second)] == expected[50:100]

    shown, _ = await _walk(ui, "/invoices")
    assert shown == ["P-NEW", *expected], "every invoice once, newest first, ties by id"


async def test_a_filtered_list_keeps_its_filter_across_pages(ui: UI, tenant: Tenant) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    globex = await seeding.customer(ws, "Globex")
    ordered = await _many_invoices(ws, globex.id, 300, connection.id)
    exported = {number for n, (_, number) in enumerate(sorted(ordered, key=lambda r: r[0])) if n % 3 == 0}
    expected = [number for _, number in ordered if number not in exported]

    shown, summaries = await _walk(ui, "/invoices?sync=not_exported")
    assert shown == expected
    assert summaries and set(summaries) == {"200 in all"}, "below the cap the count is exact"
