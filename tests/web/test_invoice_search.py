"""What "search" finds on the invoice list and in the API, on SQLite and PostgreSQL (issue 18 item 4).

Pinned: an invoice matches when its number contains the text, in any case, with the text's
surrounding spaces dropped; nothing else is searched (not the customer's name, not the host app's
reference); another workspace's invoices never show. The trigram index (migration 0022) only picks
which invoices are looked at: these tests hold the answers to that definition whichever way the
search runs (trigram index, short text, too many matches), and as numbers are added, changed and
deleted, since the index is kept by the database.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from ledgerbridge.bulk_rows import insert_rows
from ledgerbridge.db import current_engine, write_transaction
from ledgerbridge.domain.invoices import number_search
from ledgerbridge.tables import Invoice, utcnow
from litestar.testing import AsyncTestClient

from tests.conftest import Tenant, make_tenant
from tests.web import seeding
from tests.web.conftest import UI

ROW = re.compile(r'<a href="/invoices/(\d+)">([^<]+)</a>')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')

NUMBERS = ["INV-0421", "inv-04210", "XINV-0421-B", "INV-042", "INV-0422", "INV-1421", "A-421", "B-42", "REF-7",
           "INV-00421", "Q4210", "INV_0421"]


@pytest_asyncio.fixture
async def database(any_database: str) -> str:
    """Both databases: PostgreSQL searches through `pg_trgm`, SQLite through an FTS5 table."""
    return any_database


async def _seed(ws: int, numbers: list[str], customer_name: str = "Search customer") -> dict[str, int]:
    """One invoice per number, a day apart (the list shows the newest first); number -> id."""
    customer = await seeding.customer(ws, customer_name)
    now = utcnow()
    async with write_transaction():
        ids = await insert_rows(Invoice, ["workspace", "number", "customer", "issue_date", "status", "subtotal",
                                          "total", "locked", "created_at", "updated_at"], [
            (ws, number, customer.id, date(2026, 1, 1) + timedelta(days=n), "finalized", Decimal("10.00"),
             Decimal("10.00"), False, now, now) for n, number in enumerate(numbers)])
    return dict(zip(numbers, ids, strict=True))


async def _listed(ui: UI, q: str) -> list[str]:
    """The numbers the admin list shows for `q`, every page."""
    shown: list[str] = []
    url: str | None = "/invoices?" + urlencode({"q": q})
    while url:
        page = await ui.get(url)
        shown += [html.unescape(number) for _, number in ROW.findall(page)]
        found = NEXT.search(page)
        url = html.unescape(found.group(1)) if found else None
    return shown


async def _api(api: AsyncTestClient[Any], q: str) -> list[str]:
    answer = await api.get("/api/v1/invoices", params={"q": q, "limit": 200})
    assert answer.status_code == 200, answer.text
    return [item["number"] for item in answer.json()["items"]]


def _expected(numbers: list[str], q: str) -> list[str]:
    """The definition: the number contains the text (spaces around it dropped), ignoring case; newest first."""
    text = q.strip().lower()
    return [number for number in reversed(numbers) if text in number.lower()]


@pytest_asyncio.fixture
async def host(app: Any, tenant: Tenant) -> AsyncIterator[AsyncTestClient[Any]]:
    """The host app calling the API with the tenant's key."""
    async with AsyncTestClient(app=app) as client:
        client.headers.update(tenant.headers)
        yield client


QUERIES = ["INV-0421", "inv-0421", " INV-0421 ", "0421", "42", "B-42", "nothing-matches", "REF-7", "Holdings",
           "xinv-0421-b", "  "]


async def test_search_finds_the_numbers_that_contain_the_text_in_any_case(
        ui: UI, host: AsyncTestClient[Any], tenant: Tenant) -> None:
    await _seed(tenant.workspace_id, NUMBERS, customer_name="INV-0421 Holdings")
    other = await make_tenant("other@example.com", "Other Studio")
    await _seed(other.workspace_id, ["INV-0421-THEIRS", "INV-04219"], customer_name="Theirs")
    await Invoice.update({Invoice.external_ref: "INV-0421"}).where(Invoice.number == "REF-7")

    for q in QUERIES:
        assert await _listed(ui, q) == _expected(NUMBERS, q), ("the admin list", q)
        assert await _api(host, q) == _expected(NUMBERS, q), ("the API's q", q)


async def test_customer_names_and_references_are_not_searched(ui: UI, host: AsyncTestClient[Any],
                                                             tenant: Tenant) -> None:
    await _seed(tenant.workspace_id, ["A-1", "A-2"], customer_name="Globex")
    await Invoice.update({Invoice.external_ref: "order-77"}).where(Invoice.number == "A-2")
    assert await _listed(ui, "Globex") == []
    assert await _listed(ui, "order-77") == []
    assert await _api(host, "Globex") == [] and await _api(host, "order-77") == []


async def test_the_search_follows_numbers_added_changed_and_deleted(ui: UI, tenant: Tenant) -> None:
    ids = await _seed(tenant.workspace_id, ["INV-1000", "INV-1001", "INV-2000"])
    assert await _listed(ui, "inv-100") == ["INV-1001", "INV-1000"]
    await Invoice.update({Invoice.number: "INV-3001"}).where(Invoice.id == ids["INV-1001"])
    await Invoice.delete().where(Invoice.id == ids["INV-1000"])
    await _seed(tenant.workspace_id, ["NEW-1009"])
    assert await _listed(ui, "inv-100") == []
    assert await _listed(ui, "-300") == ["INV-3001"]
    assert await _listed(ui, "00") == ["INV-2000", "INV-3001", "NEW-1009"]  # newest issue date first


async def test_many_matches_are_filtered_by_the_same_definition(ui: UI, host: AsyncTestClient[Any], tenant: Tenant,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `MOST_CANDIDATES` matches the list filters with the contains-match itself: same answers."""
    await _seed(tenant.workspace_id, NUMBERS)
    monkeypatch.setattr(number_search, "MOST_CANDIDATES", 2)
    assert await _listed(ui, "inv-0421") == _expected(NUMBERS, "inv-0421")
    assert await _api(host, "inv-0421") == _expected(NUMBERS, "inv-0421")


async def test_the_trigram_index_is_what_finds_them(ui: UI, tenant: Tenant) -> None:
    """The index is really asked: on SQLite the FTS5 table decides which invoices are looked at (emptied,
    a search of three letters or more finds nothing); on PostgreSQL the planner can use the GIN index for
    the ILIKE (at this size it prefers others, which the test forbids)."""
    await _seed(tenant.workspace_id, NUMBERS)
    engine = current_engine()
    if engine.engine_type == "sqlite":
        await engine.run_ddl("DELETE FROM invoice_number_search")
        assert await _listed(ui, "INV-0421") == []
        assert await _listed(ui, "42") == _expected(NUMBERS, "42"), "too short for trigrams: every number is read"
    else:
        async with engine.transaction():
            for method in ("seqscan", "indexscan", "indexonlyscan"):  # few rows: leave it only the bitmap scans
                await engine.run_ddl(f"SET LOCAL enable_{method} = off")
            plan = await engine.run_ddl("EXPLAIN SELECT id FROM invoice WHERE number ILIKE '%INV-0421%'")
        assert "invoice_number_trgm" in " ".join(row["QUERY PLAN"] for row in plan)
