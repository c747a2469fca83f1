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
         # session 5: a run's page and its live records, the member password reset, roles on every page
         "/sync-history/{run}", "/sync-history/{run}/live", "/workspace/members/{member}/password",
         "/account/password", "/webhooks", "/audit"]
ACTIVE_RUNS = 20  # queued exports of other invoices: the invoice page must look past them
RUN_RECORDS = 200  # records of the run shown on the run page (as many as it lists)
PASSWORD = "bench password 1"
CHUNK = 500


async def seed(invoices: int) -> tuple[str, dict[str, int]]:
    from ledgerbridge.identity.memberships import create_admin
    from ledgerbridge.tables import Customer, Invoice, InvoiceLine, Item, Membership, RunRecord, SyncRun, utcnow

    user, workspace = await create_admin("bench@example.com", PASSWORD, "Bench Co")
    now = utcnow()
    customers = [Customer(workspace=workspace.id, name=f"Customer {n}", email=f"c{n}@example.com", created_at=now,
                          updated_at=now) for n in range(200)]
    await Customer.insert(*customers)
    ids = [row["id"] for row in await Customer.select(Customer.id)]
    await Item.insert(*[Item(workspace=workspace.id, name=f"Item {n}", unit_price=Decimal("100"), created_at=now,
                             updated_at=now) for n in range(100)])
    first = None
    for start in range(0, invoices, CHUNK):
        rows = [
            Invoice(workspace=workspace.id, number=f"INV-{n:06d}", customer=ids[n % len(ids)],
                    issue_date=date(2026, 1, 1) + timedelta(days=n % 300), status="finalized" if n % 3 else "sent",
                    subtotal=Decimal("120.00"), total=Decimal("120.00"), created_at=now, updated_at=now)
            for n in range(start, min(start + CHUNK, invoices))
        ]
        await Invoice.insert(*rows)
    invoice_ids = [row["id"] for row in await Invoice.select(Invoice.id).order_by(Invoice.id)]
    for start in range(0, len(invoice_ids), CHUNK):
        await InvoiceLine.insert(*[InvoiceLine(invoice=i, description="Work", quantity=Decimal("1"),
                                               unit_price=Decimal("120"), line_total=Decimal("120.00"))
                                   for i in invoice_ids[start:start + CHUNK]])
    first = invoice_ids[0] if invoice_ids else 0
    member, _ = await create_admin("member@example.com", PASSWORD, "Bench Co")
    await Membership.update({Membership.role: "member"}).where(Membership.user == member.id)
    runs = [SyncRun(workspace=workspace.id, kind="export_invoice", trigger=f"user:{user.id}", state="queued",
                    params=json.dumps({"invoice_id": invoice_ids[-1 - n] if invoice_ids else 0}), created_at=now,
                    queued_at=now) for n in range(ACTIVE_RUNS)]
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
    email, ids = await seed(invoices)
    app = create_app(get_settings(), background=False)
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
    return {"invoices": invoices, "renders": renders, "pages": results, "slowest_page": slowest[0],
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
