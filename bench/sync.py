"""Import and export throughput against a provider sandbox with the provider's real limits.

    uv run python bench/sync.py --provider quickbooks --customers 50000 --invoices 2000 \
        [--database sqlite|postgres|postgresql://...] [--time-scale 1]

Runs the provider's sandbox in this process (as `serve` does), connects through its consent page,
imports every customer, waits for the rate window to clear, exports the invoices as one bulk run,
polls once with nothing changed, and prints one JSON object last. Requests and 429 answers are
counted at the sandbox's door, so they are what the provider would see.

What the figures mean:
* `import_records_per_s`: records / our own processing seconds, i.e. the import's wall time minus
  the time spent waiting for provider answers and for the rate limiter (both timed in the provider
  session, `ledgerbridge.provider_waits`).
* `import_fraction_of_ceiling`: the fastest the provider allows for the same pages (its answer time,
  and whole rate windows when the pages need more requests than a minute allows) / wall time.
* `export_seconds` (wall) and `ideal_export_seconds`, the best schedule the published limits allow
  for the same invoices from an idle window: full batches packed in order into per-minute windows
  (a QuickBooks batch costs its items plus the request; a day's limit moves the rest a day on), then
  the last window's requests answered at the provider's measured answer time, as many at once as it
  allows (never less than all answers at that concurrency). Without batches, the requests the export
  actually made are scheduled (FreshBooks: its configured limit; `requests_per_invoice` says how
  many each invoice took). `fraction_of_ceiling = ideal_export_seconds / export_seconds`.
* `requests_per_invoice`, `responses_429`, `idle_poll_requests` (a status poll with nothing changed).
`--time-scale` speeds the sandbox's clock. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class DoorCounter:
    """ASGI wrapper counting the provider API requests the sandbox receives, and its 429 answers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0
        self.throttled = 0
        self.sandbox = getattr(app, "sandbox", None)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/_sandbox", "/accountant")):
            await self.app(scope, receive, send)
            return
        self.requests += 1

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                self.throttled += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def seed_quickbooks(door: DoorCounter, tenant: str, customers: int) -> None:
    """Create customers inside the sandbox directly: seeding is not what is measured."""
    service = door.sandbox.service
    for n in range(customers):
        service.create(tenant, "Customer", {"DisplayName": f"Bench Customer {n:06d}",
                                            "PrimaryEmailAddr": {"Address": f"bench{n}@example.com"}})


def seed_xero(door: DoorCounter, tenant: str, customers: int) -> None:
    service = door.sandbox.service
    org = service.organisation(tenant)
    for start in range(0, customers, 500):
        batch = [{"Name": f"Bench Customer {n:06d}", "EmailAddress": f"bench{n}@example.com"}
                 for n in range(start, min(customers, start + 500))]
        service.save_contacts(org, batch, "create")


def seed_freshbooks(door: DoorCounter, tenant: str, customers: int) -> None:
    service = door.sandbox.service
    for n in range(customers):
        service.create(tenant, "clients", {"organization": f"Bench Customer {n:06d}",
                                           "email": f"bench{n}@example.com"}, None)


# Seeding goes through each sandbox's own Python API (seeding is not what is measured); a provider
# without a seeder imports its demo data only.
SEEDERS: dict[str, Callable[[DoorCounter, str, int], None]] = {
    "quickbooks": seed_quickbooks, "xero": seed_xero, "freshbooks": seed_freshbooks,
}


class RssPeak:
    """Samples this process's resident memory while a phase runs."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def now_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now_mb())
            time.sleep(0.05)

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now_mb())


async def main(args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    from ledgerbridge import db, demo, jobs, oauth, provider_waits
    from ledgerbridge.cli import migrate_database
    from ledgerbridge.connections import limiter, limiter_key, provider_limits
    from ledgerbridge.identity import memberships
    from ledgerbridge.plugins import get_registry
    from ledgerbridge.settings import get_settings
    from ledgerbridge.sync import run_handlers
    from ledgerbridge.tables import Account, Connection, Customer, Invoice, InvoiceLine, Item, RunKind, SyncRun, utcnow
    from ledgerbridge_testing.world import ProviderWorld

    await db.ensure_pool()
    await migrate_database()
    jobs.install_handlers(run_handlers())  # this process runs the jobs itself, as a worker would
    jobs.set_dispatcher(lambda run_id, delay: None)
    registry = get_registry()
    caps = registry.provider(args.provider).capabilities
    limits = provider_limits(args.provider)  # what the limiter paces to: the published figures or the settings'
    doors: list[DoorCounter] = []
    sandbox = demo.serve_sandbox(args.provider, bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                 base_url=get_settings().base_url,
                                 wrap=lambda app: doors.append(DoorCounter(app)) or doors[0])
    door = doors[0]
    os.environ.update(sandbox.env)
    get_settings.cache_clear()
    http = httpx.Client(base_url=sandbox.url, timeout=60)
    world = ProviderWorld(key=args.provider, url=sandbox.url, http=http)
    if args.time_scale != 1:
        world.control("clock", scale=args.time_scale)

    user, workspace = await memberships.create_admin("bench@example.com", "bench password 1", "Bench Co")
    url = await oauth.begin_connect(args.provider, workspace_id=workspace.id, user_id=user.id, environment="production")
    outcome = await oauth.complete_connect(world.consent(url), user_id=user.id)
    if len(outcome.tenants) > 1:
        await oauth.choose_tenant(outcome.connection.id, outcome.tenants[0].id, user_id=user.id)
    connection = await Connection.objects().where(Connection.id == outcome.connection.id).first()
    seeder = SEEDERS.get(args.provider)
    if seeder is not None and args.customers:
        seeder(door, connection.tenant_id, args.customers)

    async def run(kind: RunKind, **params: Any) -> SyncRun:
        queued = await jobs.enqueue(kind, workspace_id=workspace.id, connection_id=connection.id, params=params)
        while True:
            await jobs.execute(queued.id, owner="bench")
            row = await SyncRun.objects().where(SyncRun.id == queued.id).first()
            if row.state != "queued":
                return row
            wait = (row.not_before - utcnow()).total_seconds() if row.not_before else 0
            await asyncio.sleep(max(0.0, wait))

    # -- import
    key = limiter_key(connection)
    waits_before = provider_waits.totals(key)
    started = time.perf_counter()
    with RssPeak() as rss:
        imported = await run(RunKind.import_all)
    import_seconds = time.perf_counter() - started
    import_waits = provider_waits.totals(key).minus(waits_before)
    own_seconds = max(1e-9, import_seconds - import_waits.limiter_seconds - import_waits.answer_seconds)
    ideal_import = max(import_waits.answer_seconds, _window_seconds(caps.requests_per_minute, import_waits.requests))
    local_customers = await Customer.count().where(Customer.workspace == workspace.id)
    await _window_clear(limiter(), key)  # the export starts from an idle window, as its ideal does

    # -- export
    account = await Account.objects().where(Account.connection == connection.id).first()
    if account is not None:
        await Connection.update({Connection.default_income_account_id: account.id}).where(
            Connection.id == connection.id)
    customer_ids = [row["id"] for row in await Customer.select(Customer.id).where(
        Customer.workspace == workspace.id).limit(50)]
    now = utcnow()
    item = Item(workspace=workspace.id, name="Bench service", unit_price=Decimal("50"), created_at=now,
                updated_at=now)
    await item.save()
    invoice_ids = []
    for n in range(args.invoices):
        invoice = Invoice(workspace=workspace.id, number=f"BENCH-{n:06d}", customer=customer_ids[n % len(customer_ids)],
                          issue_date=date(2026, 11, 2), status="sent", subtotal=Decimal("100.00"),
                          total=Decimal("100.00"), created_at=now, updated_at=now)
        await invoice.save()
        await InvoiceLine(invoice=invoice.id, item=item.id, description="Work", quantity=Decimal("2"),
                          unit_price=Decimal("50.00"), line_total=Decimal("100.00")).save()
        invoice_ids.append(invoice.id)
    requests_before, clock_before = door.requests, world.http.get("/_sandbox/clock").json()
    waits_before = provider_waits.totals(key)
    started = time.perf_counter()
    exported = await run(RunKind.export_invoices, invoice_ids=invoice_ids)
    export_seconds = time.perf_counter() - started
    export_waits = provider_waits.totals(key).minus(waits_before)
    costs = request_costs(caps, args.invoices) if caps.batch_size > 1 else [1] * max(1, export_waits.requests)
    ideal_export = ideal_export_seconds(costs, limits, export_waits.answer_seconds, export_waits.requests)
    clock_after = world.http.get("/_sandbox/clock").json()
    sandbox_minutes = max(1e-9, (_epoch(clock_after) - _epoch(clock_before)) / 60)
    remote_numbers = [n for n in world.invoice_numbers(connection.tenant_id) if n.startswith("BENCH-")]

    # -- idle poll: everything is read back once, then a poll with nothing changed
    before_first = door.requests
    await run(RunKind.poll_status)
    first_poll_requests = door.requests - before_first
    before_idle = door.requests
    await run(RunKind.poll_status)
    idle_poll_requests = door.requests - before_idle

    ceiling = ceiling_per_minute(caps, args.invoices, limits)
    rate = len(set(remote_numbers)) / sandbox_minutes
    sandbox.server.stop()
    export_requests = door.requests - requests_before - idle_poll_requests - first_poll_requests
    return {
        "provider": args.provider,
        "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "customers": local_customers,
        "invoices": args.invoices,
        "import_records_per_s": round((imported.seen or 0) / own_seconds, 1),
        "import_wall_records_per_s": round((imported.seen or 0) / import_seconds, 1),
        "import_fraction_of_ceiling": round(ideal_import / import_seconds, 4),
        "import_provider_wait_s": round(import_waits.answer_seconds, 2),
        "import_limiter_wait_s": round(import_waits.limiter_seconds, 2),
        "import_requests": import_waits.requests,
        "import_peak_rss_mb": round(rss.peak, 1),
        "export_seconds": round(export_seconds, 2),
        "ideal_export_seconds": round(ideal_export, 4),  # a small batch is milliseconds: keep them
        "export_provider_wait_s": round(export_waits.answer_seconds, 2),
        "export_limiter_wait_s": round(export_waits.limiter_seconds, 2),
        "fraction_of_ceiling": round(ideal_export / export_seconds, 4),
        "export_invoices_per_min": round(rate, 1),  # on the sandbox clock
        "ceiling_invoices_per_min": ceiling,
        "requests": door.requests,
        "export_requests": export_requests,
        "requests_per_invoice": round(export_requests / max(1, args.invoices), 3),
        "failed_429": exported.failed if door.throttled else 0,
        "responses_429": door.throttled,
        "duplicates": len(remote_numbers) - len(set(remote_numbers)),
        "lost": len(invoice_ids) - len(set(remote_numbers)),
        "idle_poll_requests": idle_poll_requests,
        "import_seconds": round(import_seconds, 1),
        "export_failed": exported.failed,
    }


def ceiling_per_minute(caps: Any, invoices: int, limits: Any) -> float | None:
    """The most invoices a minute the limits allow: full batches at the per-minute allowance (each
    batch costing its items plus itself where items are metered), unless the run needs more requests
    than a day allows, when the daily allowance spread over the day governs. None when the provider
    publishes no per-minute limit and none is configured (there is no ceiling to compare with)."""
    if not limits.per_minute:
        return None
    batch = max(1, caps.batch_size)
    cost = batch + 1 if caps.batch_items_metered and batch > 1 else 1
    per_minute = (limits.per_minute // cost) * batch + max(0, limits.per_minute % cost - 1) * (cost > 1)
    if limits.per_day and invoices / batch > limits.per_day:
        return min(per_minute, limits.per_day * batch / (24 * 60))
    return per_minute


def _window_seconds(per_minute: int | None, units: int) -> float:
    """Whole one-minute windows that `units` of allowance need beyond the first (idle) one."""
    if not per_minute or units <= per_minute:
        return 0.0
    return 60.0 * (math.ceil(units / per_minute) - 1)


def request_costs(caps: Any, invoices: int) -> list[int]:
    """The export's requests at their best: full batches (the last one partial), each costing what the
    provider meters: 1, or its items plus the request itself where batch items are metered."""
    batch = max(1, caps.batch_size)
    sizes = [batch] * (invoices // batch) + ([invoices % batch] if invoices % batch else [])
    return [size + 1 if caps.batch_items_metered and batch > 1 else 1 for size in sizes]


def ideal_export_seconds(costs: list[int], limits: Any, answer_seconds: float, requests: int) -> float:
    """The best schedule the limits allow for requests of these `costs`, from an idle window.

    A true sliding window lets `per_minute` units go in the first minute, as many again from second 60
    and so on, so requests are packed in order into minute windows; a day's limit moves what does not
    fit to the next day. The last window's requests still have to be answered: at the provider's own
    answer time (measured: `answer_seconds` over `requests`), `concurrent` at a time. And never faster
    than all the answers at that concurrency.
    """
    per_answer = answer_seconds / max(1, requests)
    lanes = max(1, limits.concurrent or 1)
    day_units = sum(costs)
    start = 0.0
    if limits.per_day and day_units > limits.per_day:
        start = 86400.0 * ((day_units - 1) // limits.per_day)
    if limits.per_minute:
        windows, used, last = 0, 0, 0
        for cost in costs:
            if used + min(cost, limits.per_minute) > limits.per_minute:
                windows, used, last = windows + 1, 0, 0
            used += cost
            last += 1
        start = max(start, 60.0 * windows)
    else:
        last = len(costs)
    tail = per_answer * math.ceil(last / lanes)
    return max(start + tail, answer_seconds / lanes)


async def _window_clear(limiter: Any, key: str) -> None:
    """Wait until the limiter sees nothing in the last minute (at most 65 s)."""
    for _ in range(130):
        usage = await limiter.usage(key)
        if usage.last_minute == 0 and usage.in_flight == 0 and usage.cooldown_seconds <= 0:
            return
        await asyncio.sleep(0.5)


def _epoch(snapshot: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(str(snapshot["now"])).timestamp()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", default="quickbooks")
    parser.add_argument("--customers", type=int, default=50000)
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a throwaway server) or a URL")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lb-bench-"))
    os.environ["LEDGERBRIDGE_DATA_DIR"] = str(folder)
    os.environ.setdefault("LEDGERBRIDGE_SANDBOXES", "off")
    sys.path.insert(0, str(ROOT))
    import contextlib
    import io

    from bench.databases import bench_database

    with bench_database(args.database) as url:
        os.environ["LEDGERBRIDGE_DATABASE_URL"] = url
        with contextlib.redirect_stdout(io.StringIO()):  # migrations chatter on stdout; only the JSON goes there
            result = asyncio.run(main(args))
    print(json.dumps(result))


if __name__ == "__main__":
    cli()
