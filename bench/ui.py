"""Server-side render time of each admin UI page with many invoices in a workspace.

    uv run python bench/ui.py [--invoices 10000] [--renders 7] [--database sqlite|postgres|postgresql://...]

Seeds a fresh database (a SQLite file in a temporary folder by default; `postgres` starts a
throwaway PostgreSQL server, a URL uses yours), signs in through the test client (no server),
renders every page a few times and prints one JSON object last: median and p95 milliseconds per
page, and the slowest p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

PAGES = ["/", "/integrations", "/invoices", "/invoices?sync=not_exported", "/invoices?status=finalized&page=3",
         "/invoices/{invoice}", "/items", "/items/mapping", "/customers", "/sync-history", "/issues",
         "/time-entries", "/workspace/settings",
         # issue 13's forms and live fragments
         "/customers/new", "/items/new", "/time-entries/new", "/invoices/new", "/invoices/{invoice}/edit",
         "/invoices/{invoice}/live", "/dashboard/runs", "/sync-history?state=failed&origin=manual",
         # issue 18's other lists
         "/invoices?sync=synced",
         # session 5: a run's page and its live records, the member password reset, roles on every page
         "/sync-history/{run}", "/sync-history/{run}/live", "/workspace/members/{member}/password",
         "/account/password", "/webhooks", "/audit"]
ACTIVE_RUNS = 20  # queued exports of other invoices: the invoice page must look past them
RUN_RECORDS = 200  # records of the run shown on the run page (as many as it lists)
PASSWORD = "bench password 1"
SEED_CHUNK = 5_000


async def seed(invoices: int) -> tuple[str, dict[str, int]]:
    """Rows go in as multi-row INSERTs (`bulk_rows`), a transaction per chunk: 100,000 invoices and
    their lines take seconds, not the twenty minutes a model instance per row took."""
    from ledgerbridge.bulk_rows import insert_rows
    from ledgerbridge.db import write_transaction
    from ledgerbridge.identity.memberships import create_admin
    from ledgerbridge.tables import (
        Connection,
        Customer,
        ExternalLink,
        Invoice,
        InvoiceLine,
        Item,
        LinkState,
        Membership,
        RecordType,
        RunRecord,
        SyncRun,
        utcnow,
    )

    user, workspace = await create_admin("bench@example.com", PASSWORD, "Bench Co")
    now = utcnow()
    async with write_transaction():
        ids = await insert_rows(Customer, ["workspace", "name", "email", "created_at", "updated_at"],
                                [(workspace.id, f"Customer {n}", f"c{n}@example.com", now, now) for n in range(200)])
        await insert_rows(Item, ["workspace", "name", "unit_price", "created_at", "updated_at"],
                          [(workspace.id, f"Item {n}", Decimal("100"), now, now) for n in range(100)])
        # Two invoices in three were exported, one in fifty of those disagrees: the sync filters have work.
        connection = (await insert_rows(Connection, ["workspace", "provider", "tenant_id", "tenant_name", "status",
                                                     "is_books", "created_at", "updated_at"],
                                        [(workspace.id, "quickbooks", "1", "Bench books", "connected", True, now,
                                          now)]))[0]
    columns = ["workspace", "number", "customer", "issue_date", "status", "subtotal", "total", "created_at",
               "updated_at"]
    line_columns = ["invoice", "description", "quantity", "unit_price", "line_total"]
    link_columns = ["workspace", "connection", "record_type", "record_id", "remote_id", "state", "created_at",
                    "updated_at"]
    first = last = 0
    for start in range(0, invoices, SEED_CHUNK):
        rows = [(workspace.id, f"INV-{n:06d}", ids[n % len(ids)], date(2026, 1, 1) + timedelta(days=n % 300),
                 "finalized" if n % 3 else "sent", Decimal("120.00"), Decimal("120.00"), now, now)
                for n in range(start, min(start + SEED_CHUNK, invoices))]
        async with write_transaction():
            invoice_ids = await insert_rows(Invoice, columns, rows)
            await insert_rows(InvoiceLine, line_columns, [(i, "Work", Decimal("1"), Decimal("120"),
                                                           Decimal("120.00")) for i in invoice_ids])
            await insert_rows(ExternalLink, link_columns, [
                (workspace.id, connection, RecordType.invoice, i, str(i),
                 LinkState.warning if n % 50 == 1 else LinkState.synced, now, now)
                for n, i in enumerate(invoice_ids, start) if n % 3])
        first = first or (invoice_ids[0] if invoice_ids else 0)
        last = invoice_ids[-1] if invoice_ids else 0
    member, _ = await create_admin("member@example.com", PASSWORD, "Bench Co")
    await Membership.update({Membership.role: "member"}).where(Membership.user == member.id)
    runs = [SyncRun(workspace=workspace.id, kind="export_invoice", trigger=f"user:{user.id}", state="queued",
                    params=json.dumps({"invoice_id": last - n}), created_at=now, queued_at=now)
            for n in range(ACTIVE_RUNS)]
    runs.append(SyncRun(workspace=workspace.id, kind="import_customers", trigger=f"user:{user.id}", state="running",
                        progress_total=1, created_at=now, queued_at=now, started_at=now))
    await SyncRun.insert(*runs)
    run_id = max(row["id"] for row in await SyncRun.select(SyncRun.id))
    await RunRecord.insert(*[RunRecord(run=run_id, record_type="customer", record_id=ids[n % len(ids)],
                                       outcome="linked", created_at=now) for n in range(RUN_RECORDS)])
    return user.email, {"invoice": first, "run": run_id, "member": member.id}


async def measure(invoices: int, renders: int) -> dict[str, Any]:
    from ledgerbridge import db
    from ledgerbridge.app import create_app
    from ledgerbridge.cli import migrate_database
    from ledgerbridge.settings import get_settings
    from litestar.testing import AsyncTestClient

    db.use_engine(db.make_engine(get_settings().database_url))
    await db.ensure_pool()
    await migrate_database()
    seeding = time.perf_counter()
    email, ids = await seed(invoices)
    seed_seconds = time.perf_counter() - seeding
    if not get_settings().is_sqlite:
        # PostgreSQL's autovacuum analyzes tables that grew, as a production database's have been; right
        # after a bulk seed the planner has no statistics yet and one render took 161 s. SQLite is left
        # as LedgerBridge leaves it (no ANALYZE).
        await db.current_engine().run_ddl("ANALYZE")
    app = create_app(get_settings(), background=False)
    # The test client serves the app on its own thread and loop: give that loop its PostgreSQL pool,
    # as `serve`'s lifespan does, or every query would open a connection of its own.
    app.on_startup.append(db.ensure_pool)
    app.on_shutdown.append(db.close_pool)
    html = {"accept": "text/html"}
    results: dict[str, Any] = {}
    async with AsyncTestClient(app=app) as client:
        login = await client.get("/login", headers=html)
        token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        await client.post("/login", data={"email": email, "password": PASSWORD, "next": "/", "_csrf_token": token},
                          headers=html)
        for path in PAGES:
            url = path.format(**ids)
            timings = []
            for _ in range(renders):
                started = time.perf_counter()
                response = await client.get(url, headers=html)
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
            timings.sort()
            results[path] = {"median_ms": round(statistics.median(timings), 1),
                             "p95_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))], 1)}
    await db.close_pool()
    slowest = max(results.items(), key=lambda item: item[1]["p95_ms"])
    return {"invoices": invoices, "renders": renders, "seed_seconds": round(seed_seconds, 1), "pages": results,
            "slowest_page": slowest[0],
            "slowest_p95_ms": slowest[1]["p95_ms"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=7)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a throwaway server) or a URL")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lb-bench-"))
    os.environ["LEDGERBRIDGE_DATA_DIR"] = str(folder)
    os.environ.setdefault("LEDGERBRIDGE_SECRET_KEY", "bench-secret")
    from ledgerbridge.settings import get_settings

    from bench.databases import bench_database

    with bench_database(args.database) as url:
        os.environ["LEDGERBRIDGE_DATABASE_URL"] = url
        get_settings.cache_clear()
        report = asyncio.run(measure(args.invoices, args.renders))
    report["database"] = "sqlite" if args.database == "sqlite" else "postgresql"
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
