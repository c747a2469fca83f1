"""Server-side render time of each admin UI page with many invoices in a workspace.

    uv run python bench/ui.py [--invoices 10000] [--renders 7] [--database sqlite|postgres|postgresql://...]
                              [--only PATH-PART ...]

Seeds a fresh database (a SQLite file in a temporary folder by default; `postgres` starts a
throwaway PostgreSQL server, a URL uses yours), signs in through the test client (no server),
renders every page a few times and prints one JSON object last: median and p95 milliseconds per
page (and the median CPU milliseconds of this process, steadier on a shared machine), and the
slowest p95.
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
from datetime import UTC, date, datetime, timedelta
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
         "/account/password", "/webhooks", "/audit",
         # session 6: every filter and sort each list offers, and a late page of each (issue 18 item 4)
         "/invoices?sync=pending", "/invoices?sync=needs_sync", "/invoices?sync=warning", "/invoices?sync=error",
         "/invoices?status=draft", "/invoices?status=sent", "/invoices?status=void", "/invoices?q=INV-0421",
         "/invoices?q=nothing-matches", "/invoices?customer_id={customer}", "/invoices?status=sent&sync=synced",
         "/invoices?after={late_after}", "/invoices?sync=synced&after={late_after}",
         "/invoices?sync=not_exported&after={late_after}", "/invoices?page=40",
         "/customers?q=Customer 421", "/customers?state=archived", "/customers?state=active",
         "/customers?source=quickbooks", "/customers?page=90",
         "/items?q=Item 42", "/items?page=35", "/items/mapping?page=9",
         "/time-entries?billed=1",
         "/issues?connection_id={connection}",
         "/audit?action=invoice.", "/audit?action=customer.updated", "/audit?actor=member",
         "/audit?target_type=invoice", "/audit?since=2026-03-01&until=2026-03-31", "/audit?page=500",
         "/sync-history?page=90", "/sync-history?state=done", "/sync-history?kind=export_invoice",
         "/sync-history?origin=automatic", "/sync-history?connection_id={connection}",
         # session 7: the invoice and time forms' pickers ask these as one types (a match, and none: every row read)
         "/customers/options?q=Customer 42", "/customers/options?q=nothing-matches", "/items/options?q=Item 4",
         "/items/options?q=nothing-matches"]
ACTIVE_RUNS = 20  # queued exports of other invoices: the invoice page must look past them
RUN_RECORDS = 200  # records of the run shown on the run page (as many as it lists)
PASSWORD = "bench password 1"
SEED_CHUNK = 5_000
# What the other lists hold in a workspace with 100,000 invoices (issue 18: "a page that is not in the
# bench is not measured"): customers and items in the thousands, audit entries, issues, time entries
# and finished runs in the tens of thousands. Smaller runs scale them down with the invoices.
AT_100_000 = {"customers": 5_000, "items": 2_000, "audit_entries": 40_000,
              "issues": 20_000,  # a quarter still open
              "time_entries": 20_000,  # half billed
              "finished_runs": 5_000}
SCALE: dict[str, int] = dict(AT_100_000)


def scale_to(invoices: int) -> None:
    SCALE.update({name: max(200 if name == "customers" else 20, count * invoices // 100_000)
                  for name, count in AT_100_000.items()})
ISSUE_CODES = ["validation_failed", "rate_limited", "auth_expired", "not_found_remote", "duplicate_number",
               "tax_rate_unmapped", "account_unmapped", "remote_changed"]
AUDIT_ACTIONS = ["invoice.created", "invoice.updated", "invoice.exported", "customer.created", "customer.updated",
                 "item.updated", "connection.connected", "member.invited"]


def _link_state(n: int) -> str:
    """Most exported invoices agree; a few in each other state, so every sync filter has rows to find
    (and most of the workspace to look past)."""
    from ledgerbridge.tables import LinkState

    for every, state in ((50, LinkState.warning), (97, LinkState.error), (89, LinkState.needs_sync),
                         (83, LinkState.pending), (211, LinkState.uncertain), (307, LinkState.deleted_remote)):
        if n % every == 1:
            return state
    return LinkState.synced


def _status(n: int) -> str:
    """Exported invoices (n % 3 != 0) are finalized or sent, a few voided since; the others are drafts
    or finalized and not exported yet."""
    if n % 3 == 0:
        return "draft" if n % 21 == 0 else "finalized"
    return "void" if n % 401 == 2 else "sent" if n % 2 else "finalized"


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
        Membership,
        RecordType,
        RunRecord,
        SyncRun,
        utcnow,
    )

    scale_to(invoices)
    user, workspace = await create_admin("bench@example.com", PASSWORD, "Bench Co")
    now = utcnow()
    async with write_transaction():
        ids = await insert_rows(Customer, ["workspace", "name", "email", "created_at", "updated_at"],
                                [(workspace.id, f"Customer {n}", f"c{n}@example.com", now, now) for n in range(200)])
        # The rest: one in ten archived, most imported from the books.
        ids += await insert_rows(Customer, ["workspace", "name", "email", "active", "source", "created_at",
                                            "updated_at"],
                                 [(workspace.id, f"Customer {n}", f"c{n}@example.com", n % 10 != 3,
                                   "quickbooks" if n % 4 else "local", now, now)
                                  for n in range(200, SCALE["customers"])])
        await insert_rows(Item, ["workspace", "name", "unit_price", "created_at", "updated_at"],
                          [(workspace.id, f"Item {n}", Decimal("100"), now, now) for n in range(SCALE["items"])])
        # Two invoices in three were exported (and so locked), one in fifty of those disagrees, a few are in
        # every other state, and one in a thousand of the others is locked on its first export's way out
        # (pending with no link yet): the sync filters have work.
        connection = (await insert_rows(Connection, ["workspace", "provider", "tenant_id", "tenant_name", "status",
                                                     "is_books", "created_at", "updated_at"],
                                        [(workspace.id, "quickbooks", "1", "Bench books", "connected", True, now,
                                          now)]))[0]
    columns = ["workspace", "number", "customer", "issue_date", "status", "subtotal", "total", "locked", "created_at",
               "updated_at"]
    line_columns = ["invoice", "description", "quantity", "unit_price", "line_total"]
    link_columns = ["workspace", "connection", "record_type", "record_id", "remote_id", "state", "created_at",
                    "updated_at"]
    first = last = 0
    every_invoice: list[int] = []
    for start in range(0, invoices, SEED_CHUNK):
        rows = [(workspace.id, f"INV-{n:06d}", ids[n % len(ids)], date(2026, 1, 1) + timedelta(days=n % 300),
                 _status(n), Decimal("120.00"), Decimal("120.00"), n % 3 != 0 or n % 1009 == 3, now, now)
                for n in range(start, min(start + SEED_CHUNK, invoices))]
        async with write_transaction():
            invoice_ids = await insert_rows(Invoice, columns, rows)
            await insert_rows(InvoiceLine, line_columns, [(i, "Work", Decimal("1"), Decimal("120"),
                                                           Decimal("120.00")) for i in invoice_ids])
            await insert_rows(ExternalLink, link_columns, [
                (workspace.id, connection, RecordType.invoice, i, str(i), _link_state(n), now, now)
                for n, i in enumerate(invoice_ids, start) if n % 3])
        first = first or (invoice_ids[0] if invoice_ids else 0)
        last = invoice_ids[-1] if invoice_ids else 0
        every_invoice += invoice_ids
    member, _ = await create_admin("member@example.com", PASSWORD, "Bench Co")
    await Membership.update({Membership.role: "member"}).where(Membership.user == member.id)
    await _seed_other_lists(workspace.id, connection, ids, every_invoice, user.id)
    runs = [SyncRun(workspace=workspace.id, kind="export_invoice", trigger=f"user:{user.id}", state="queued",
                    params=json.dumps({"invoice_id": last - n}), created_at=now, queued_at=now)
            for n in range(ACTIVE_RUNS)]
    runs.append(SyncRun(workspace=workspace.id, kind="import_customers", trigger=f"user:{user.id}", state="running",
                        progress_total=1, created_at=now, queued_at=now, started_at=now))
    await SyncRun.insert(*runs)
    run_id = max(row["id"] for row in await SyncRun.select(SyncRun.id))
    await RunRecord.insert(*[RunRecord(run=run_id, record_type="customer", record_id=ids[n % len(ids)],
                                       outcome="linked", created_at=now) for n in range(RUN_RECORDS)])
    # A keyset page two thirds of the way down the invoice list (newest first): issue date, then id.
    late = every_invoice[len(every_invoice) // 3] if every_invoice else first
    late_day = (date(2026, 1, 1) + timedelta(days=(len(every_invoice) // 3) % 300)).isoformat()
    return user.email, {"invoice": first, "run": run_id, "member": member.id, "customer": ids[421 % len(ids)],
                        "connection": connection, "late_after": f"{late_day}.{late}"}


async def _seed_other_lists(workspace: int, connection: int, customers: list[int], invoices: list[int],
                            user: int) -> None:
    """Audit entries, issues, time entries and finished runs at the scale a busy workspace has."""
    from ledgerbridge.bulk_rows import insert_rows
    from ledgerbridge.db import write_transaction
    from ledgerbridge.tables import AuditEntry, RecordType, SyncIssue, SyncRun, TimeEntry

    start = datetime(2026, 1, 1, tzinfo=UTC)
    invoice_at = (lambda n: invoices[n % len(invoices)]) if invoices else (lambda n: None)
    async with write_transaction():
        await insert_rows(SyncRun, ["workspace", "connection", "kind", "trigger", "state", "failed", "created_at",
                                    "queued_at", "started_at", "finished_at"], [
            (workspace, connection, ("export_invoice", "import_customers", "poll_status", "export_invoices")[n % 4],
             f"user:{user}" if n % 5 == 0 else "schedule",
             "failed" if n % 37 == 0 else "done", 1 if n % 23 == 0 else 0, start + timedelta(minutes=40 * n),
             start + timedelta(minutes=40 * n), start + timedelta(minutes=40 * n),
             start + timedelta(minutes=40 * n + 1)) for n in range(SCALE["finished_runs"])])
    for chunk in range(0, SCALE["audit_entries"], SEED_CHUNK):
        async with write_transaction():
            await insert_rows(AuditEntry, ["workspace", "occurred_at", "actor_user", "actor", "action", "target_type",
                                           "target_id", "ip", "before", "after"], [
                (workspace, start + timedelta(minutes=6 * n), user, "member@example.com" if n % 9 == 0
                 else "bench@example.com", AUDIT_ACTIONS[n % len(AUDIT_ACTIONS)],
                 AUDIT_ACTIONS[n % len(AUDIT_ACTIONS)].split(".")[0], str(n), "127.0.0.1", "{}",
                 json.dumps({"n": n})) for n in range(chunk, min(chunk + SEED_CHUNK, SCALE["audit_entries"]))])
    for chunk in range(0, SCALE["issues"], SEED_CHUNK):
        async with write_transaction():
            await insert_rows(SyncIssue, ["workspace", "connection", "record_type", "record_id", "code", "message",
                                          "fix", "first_seen_at", "last_seen_at", "resolved_at"], [
                (workspace, connection, RecordType.invoice if n % 2 else RecordType.customer,
                 invoice_at(n * 7) if n % 2 else customers[n % len(customers)], ISSUE_CODES[n // 3 % len(ISSUE_CODES)],
                 "Something the provider refused.", "Fix it, then retry.", start + timedelta(minutes=n),
                 start + timedelta(minutes=n), None if n % 4 == 0 else start + timedelta(minutes=n + 5))
                for n in range(chunk, min(chunk + SEED_CHUNK, SCALE["issues"]))])
    for chunk in range(0, SCALE["time_entries"], SEED_CHUNK):
        async with write_transaction():
            await insert_rows(TimeEntry, ["workspace", "customer", "person", "worked_on", "hours", "rate",
                                          "description", "billable", "invoice", "created_at", "updated_at"], [
                (workspace, customers[n % len(customers)], f"Person {n % 40}",
                 date(2026, 1, 1) + timedelta(days=n % 300), Decimal("1.50"), Decimal("80"), "Work", n % 10 != 0,
                 invoice_at(n) if n % 2 else None, start, start)
                for n in range(chunk, min(chunk + SEED_CHUNK, SCALE["time_entries"]))])


async def measure(invoices: int, renders: int, only: list[str] | None = None) -> dict[str, Any]:
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
            if only and not any(part in path for part in only):
                continue
            url = path.format(**ids)
            timings = []
            cpu = []
            for _ in range(renders):
                started, started_cpu = time.perf_counter(), time.process_time()
                response = await client.get(url, headers=html)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
            timings.sort()
            # CPU time of this process (the app, and SQLite's threads; not a PostgreSQL server's):
            # steadier than wall time when other work shares the cores.
            results[path] = {"median_ms": round(statistics.median(timings), 1),
                             "p95_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))], 1),
                             "cpu_median_ms": round(statistics.median(cpu), 1)}
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
    parser.add_argument("--only", action="append", help="measure only the pages whose path contains this (repeatable)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lb-bench-"))
    os.environ["LEDGERBRIDGE_DATA_DIR"] = str(folder)
    os.environ.setdefault("LEDGERBRIDGE_SECRET_KEY", "bench-secret")
    from ledgerbridge.settings import get_settings

    from bench.databases import bench_database

    with bench_database(args.database) as url:
        os.environ["LEDGERBRIDGE_DATABASE_URL"] = url
        get_settings.cache_clear()
        report = asyncio.run(measure(args.invoices, args.renders, args.only))
    report["database"] = "sqlite" if args.database == "sqlite" else "postgresql"
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
