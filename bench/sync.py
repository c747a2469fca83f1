"""Import and export throughput against a provider sandbox with the provider's real limits.

    uv run python bench/sync.py --provider quickbooks --customers 50000 --invoices 2000 \
        [--database sqlite|postgres|postgresql://...] [--time-scale 1]

Runs the provider's sandbox in a child process (`bench/sandbox_process.py`), connects through its consent page,
imports every customer, waits for the rate window to clear, exports the invoices as one bulk run,
polls once with nothing changed, and prints one JSON object last. Requests and 429 answers are
counted at the sandbox's door, so they are what the provider would see.

What the figures mean:
* `import_records_per_s`: records / our own processing seconds, i.e. the import's wall time minus
  the time it was blocked waiting for a provider page (the rate limiter's wait and the answer, timed
  by the paged read, `ledgerbridge.provider_waits`). Pages are read by a task of their own, the
  next asked for as soon as one is in while earlier ones are applied, so the provider's answer time
  (`import_provider_wait_s`, timed in the provider session) and the limiter's
  (`import_limiter_wait_s`) overlap our processing and are reported apart; `import_blocked_s` is
  the part of them that did not overlap. On a busy machine wall time
  says more about the machine than about us: `import_cpu_records_per_s` divides the records by this
  process's CPU seconds (SQLite's thread included; a PostgreSQL server's are not).
* `import_fraction_of_ceiling`: the fastest the provider allows for the same pages (the time it
  spent answering them, `import_provider_busy_s`: seconds with one of our requests inside the
  sandbox, timed at its door, less `import_discarded_busy_s`, its time on the
  `import_discarded_requests` whose answers the import dropped (a page after next asked for early
  that turned out past the end; each moment counted to the oldest request inside then); and whole
  rate windows when the pages need more requests than a minute allows) / wall time. Two requests
  inside at once count their seconds once, so asking for pages side by side cannot raise the ideal
  (the sandboxes answer them in turn: their handlers work on one event loop).
  Not `import_provider_wait_s`: timed in our session, that also holds
  the time our event loop, busy applying a page, took to notice an answer (about a tenth more).
* `export_seconds` (wall) and `ideal_export_seconds`, the best schedule the published limits allow
  for the same invoices from an idle window: full batches packed in order into per-minute windows
  (a QuickBooks batch costs its items plus the request; a day's limit moves the rest a day on), then
  the last window's requests answered at the provider's measured answer time, as many at once as it
  allows (never less than all answers at that concurrency). Without batches, the requests the export
  actually made are scheduled (FreshBooks: its configured limit; `requests_per_invoice` says how
  many each invoice took). `fraction_of_ceiling = ideal_export_seconds / export_seconds`.
* `export_first_window_s`: from the export's start until its request number `per_minute` reached the
  provider (timed at its door). The next window's requests leave a minute after these, so what this
  exceeds the first window's answers at full concurrency is what the export loses to the ideal.
* `requests_per_invoice`, `responses_429`, `idle_poll_requests` (a status poll with nothing changed).
`--time-scale` speeds the sandbox's clock; `--import-only` stops after the import; `--in-flight 1`
reads as before the page after next was asked for early (for a before/after on the same code); `--profile FILE`
writes a cProfile of the import phase, `--profile-export FILE` of the export phase, `--timeline FILE` each
export request's arrival and answer at the sandbox's door. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


class SandboxProcess:
    """The provider's sandbox in a child process (`bench/sandbox_process.py`), so its memory and
    its processing are not counted as ours; requests and 429s are counted at its door."""

    def __init__(self, provider: str, base_url: str) -> None:
        command = [sys.executable, str(ROOT / "bench" / "sandbox_process.py"), provider, base_url]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        started = json.loads(self.process.stdout.readline())
        self.url: str = started["url"]
        self.env: dict[str, str] = started["env"]
        self.http = httpx.Client(base_url=self.url, timeout=None)

    @property
    def requests(self) -> int:
        return int(self.http.get("/_bench/door").json()["requests"])

    @property
    def busy(self) -> float:
        """Seconds the sandbox had a provider request of ours inside it (answering it)."""
        return float(self.http.get("/_bench/door").json()["busy"])

    @property
    def throttled(self) -> int:
        return int(self.http.get("/_bench/door").json()["throttled"])

    @property
    def cpu(self) -> float:
        """The sandbox process's CPU seconds so far."""
        return float(self.http.get("/_bench/door").json()["cpu"])

    def busy_of(self, requests: list[str]) -> float:
        """Seconds the sandbox spent on these requests (paths and queries), each moment counted to the
        oldest request inside then."""
        return float(self.http.post("/_bench/busy_of", json={"requests": requests}).json()["busy"])
    def timeline(self) -> list[tuple[float, float]]:
        """(arrived, answered) on the wall clock of every provider request so far."""
        return [(float(a), float(b)) for a, b in self.http.get("/_bench/timeline").json()["timeline"]]

    def seed(self, tenant: str, customers: int) -> None:
        self.http.post("/_bench/seed", json={"tenant": tenant, "customers": customers}).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


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
    from ledgerbridge import db, jobs, oauth, provider_waits
    from ledgerbridge.bulk_rows import insert_rows
    from ledgerbridge.cli import migrate_database
    from ledgerbridge.connections import limiter, limiter_key, provider_limits
    from ledgerbridge.db import write_transaction
    from ledgerbridge.identity import memberships
    from ledgerbridge.plugins import get_registry
    from ledgerbridge.settings import get_settings
    from ledgerbridge.sync import run_handlers
    from ledgerbridge.tables import (
        Account,
        Connection,
        Customer,
        ExternalLink,
        Invoice,
        InvoiceLine,
        Item,
        RecordType,
        RunKind,
        SyncRun,
        utcnow,
    )
    from ledgerbridge_testing.world import ProviderWorld

    if args.in_flight is not None:
        from ledgerbridge.sync import paging

        paging.IN_FLIGHT = args.in_flight
    await db.ensure_pool()
    await migrate_database()
    jobs.install_handlers(run_handlers())  # this process runs the jobs itself, as a worker would
    jobs.set_dispatcher(lambda run_id, delay: None)
    registry = get_registry()
    caps = registry.provider(args.provider).capabilities
    limits = provider_limits(args.provider)  # what the limiter paces to: the published figures or the settings'
    door = sandbox = SandboxProcess(args.provider, get_settings().base_url)
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
    if args.customers:
        door.seed(connection.tenant_id, args.customers)

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
    busy_before, sandbox_cpu_before = door.busy, door.cpu
    profiler = cProfile.Profile() if args.profile else None
    cpu_started = time.process_time()
    started = time.perf_counter()
    with RssPeak() as rss:
        if profiler is not None:
            profiler.enable()
        imported = await run(RunKind.import_all)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    import_seconds = time.perf_counter() - started
    import_cpu_seconds = max(1e-9, time.process_time() - cpu_started)
    import_waits = provider_waits.totals(key).minus(waits_before)
    import_busy = door.busy - busy_before
    import_sandbox_cpu = door.cpu - sandbox_cpu_before
    # The next page is asked for while this one is applied: only the time the import was blocked
    # waiting for a page is the provider's; the rest of the wall time is our own processing.
    own_seconds = max(1e-9, import_seconds - import_waits.blocked_seconds)
    # The provider's own time is what its door saw: the answer time timed in our session also holds
    # the moments our event loop, busy applying a page, took to notice an answer that had arrived.
    # Less what it spent on requests whose answers the import dropped (asked for early, the page
    # after next turned out past the end): they are not what "the same pages" cost.
    discarded_busy = door.busy_of(import_waits.discarded) if import_waits.discarded else 0.0
    ideal_import = max(import_busy - discarded_busy, _window_seconds(caps.requests_per_minute, import_waits.requests))
    local_customers = await Customer.count().where(Customer.workspace == workspace.id)
    import_figures = {
        "provider": args.provider,
        "database": "sqlite" if args.database == "sqlite" else "postgresql",
        "customers": local_customers,
        "import_records_per_s": round((imported.seen or 0) / own_seconds, 1),
        "import_wall_records_per_s": round((imported.seen or 0) / import_seconds, 1),
        "import_fraction_of_ceiling": round(ideal_import / import_seconds, 4),
        "import_provider_wait_s": round(import_waits.answer_seconds, 2),
        "import_provider_busy_s": round(import_busy, 2),
        # The sandbox's CPU seconds meanwhile: its work, whatever else the machine runs (its `busy`
        # stretches when the cores are shared).
        "import_provider_cpu_s": round(import_sandbox_cpu, 2),
        "import_discarded_requests": import_waits.discarded_total,
        "import_discarded_busy_s": round(discarded_busy, 3),
        "import_limiter_wait_s": round(import_waits.limiter_seconds, 2),
        "import_blocked_s": round(import_waits.blocked_seconds, 2),
        "import_requests": import_waits.requests,
        "import_peak_rss_mb": round(rss.peak, 1),
        "import_seconds": round(import_seconds, 1),
        "import_own_seconds": round(own_seconds, 2),
        # CPU seconds of this process (every thread, SQLite's included; not the sandbox's process,
        # nor a PostgreSQL server's): our own work whatever else the machine runs meanwhile.
        "import_cpu_seconds": round(import_cpu_seconds, 2),
        "import_cpu_records_per_s": round((imported.seen or 0) / import_cpu_seconds, 1),
        "import_state": imported.state,
        "import_claims": imported.claims,  # more than 1: the run went back to the queue (waiting) meanwhile
        "import_error": imported.error,
    }
    if args.import_only:
        sandbox.stop()
        return import_figures
    await _window_clear(limiter(), key)  # the export starts from an idle window, as its ideal does

    # -- export
    account = await Account.objects().where(Account.connection == connection.id).first()
    if account is not None:
        await Connection.update({Connection.default_income_account_id: account.id}).where(
            Connection.id == connection.id)
    customer_ids = [row["id"] for row in await Customer.select(Customer.id).where(
        Customer.workspace == workspace.id).limit(50)]
    now = utcnow()
    # An item the import linked, as a client's invoices bill the items their books hold: the export
    # then makes only its batch requests, the ones `ideal_export_seconds` schedules. Creating an item
    # here cost one more request, which at 6,000 Xero invoices (120 batches, 60 a minute) pushed the
    # last batch into a third minute that the ideal did not count.
    linked = await ExternalLink.select(ExternalLink.record_id).where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.item)
        & ExternalLink.remote_id.is_not_null()).order_by(ExternalLink.record_id).first()
    item = await Item.objects().where(Item.id == linked["record_id"]).first() if linked else None
    if item is None:
        item = Item(workspace=workspace.id, name="Bench service", unit_price=Decimal("50"), created_at=now,
                    updated_at=now)
        await item.save()
    # Multi-row INSERTs in one transaction (`bulk_rows`, as bench/ui.py seeds): 6,000 invoices one
    # model instance at a time took minutes before the export could start.
    async with write_transaction():
        invoice_ids = await insert_rows(
            Invoice, ["workspace", "number", "customer", "issue_date", "status", "subtotal", "total", "created_at",
                      "updated_at"],
            [(workspace.id, f"BENCH-{n:06d}", customer_ids[n % len(customer_ids)], date(2026, 11, 2), "sent",
              Decimal("100.00"), Decimal("100.00"), now, now) for n in range(args.invoices)])
        await insert_rows(InvoiceLine, ["invoice", "item", "description", "quantity", "unit_price", "line_total"],
                          [(invoice_id, item.id, "Work", Decimal("2"), Decimal("50.00"), Decimal("100.00"))
                           for invoice_id in invoice_ids])
    requests_before, clock_before = door.requests, world.http.get("/_sandbox/clock").json()
    waits_before = provider_waits.totals(key)
    export_profiler = cProfile.Profile() if args.profile_export else None
    wall_started = time.time()
    started = time.perf_counter()
    if export_profiler is not None:
        export_profiler.enable()
    exported = await run(RunKind.export_invoices, invoice_ids=invoice_ids)
    export_seconds = time.perf_counter() - started
    if export_profiler is not None:
        export_profiler.disable()
        export_profiler.dump_stats(args.profile_export)
    export_waits = provider_waits.totals(key).minus(waits_before)
    timeline = door.timeline()
    first_window = first_window_seconds(timeline, wall_started, limits.per_minute)
    if args.timeline:
        write_timeline(Path(args.timeline), timeline, wall_started)
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
    total_requests, throttled = door.requests, door.throttled
    sandbox.stop()
    await db.close_pool()
    export_requests = total_requests - requests_before - idle_poll_requests - first_poll_requests
    return {
        **import_figures,
        "invoices": args.invoices,
        "export_seconds": round(export_seconds, 2),
        "ideal_export_seconds": round(ideal_export, 4),  # a small batch is milliseconds: keep them
        "export_provider_wait_s": round(export_waits.answer_seconds, 2),
        "export_limiter_wait_s": round(export_waits.limiter_seconds, 2),
        "export_first_window_s": first_window,
        "fraction_of_ceiling": round(ideal_export / export_seconds, 4),
        "export_invoices_per_min": round(rate, 1),  # on the sandbox clock
        "ceiling_invoices_per_min": ceiling,
        "requests": total_requests,
        "export_requests": export_requests,
        "requests_per_invoice": round(export_requests / max(1, args.invoices), 3),
        "failed_429": exported.failed if throttled else 0,
        "responses_429": throttled,
        "duplicates": len(remote_numbers) - len(set(remote_numbers)),
        "lost": len(invoice_ids) - len(set(remote_numbers)),
        "idle_poll_requests": idle_poll_requests,
        "export_failed": exported.failed,
    }


def write_timeline(path: Path, timeline: list[tuple[float, float]], since: float) -> None:
    """Each request from `since` on: its arrival and answer at the sandbox, in seconds from `since`."""
    path.write_text("".join(f"{arrived - since:.3f} {answered - since:.3f}\n"
                            for arrived, answered in sorted(timeline) if arrived >= since))


def first_window_seconds(timeline: list[tuple[float, float]], since: float, per_minute: int | None) -> float | None:
    """Seconds from `since` (the export's start) until its request number `per_minute` reached the
    provider: how long the first window's requests took to leave. A sliding window lets the second
    window's requests go only a minute after the first's, so this spread carries into the end time."""
    arrivals = sorted(arrived for arrived, _ in timeline if arrived >= since)
    if not per_minute or len(arrivals) < per_minute:
        return None
    return round(arrivals[per_minute - 1] - since, 2)


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
    parser.add_argument("--import-only", action="store_true", help="stop after the import")
    parser.add_argument("--in-flight", type=int, metavar="N",
                        help="calls an import keeps in flight (paging.IN_FLIGHT; 1: no page after next asked early)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the import phase (this thread) to FILE")
    parser.add_argument("--profile-export", metavar="FILE", help="write a cProfile of the export phase to FILE")
    parser.add_argument("--timeline", metavar="FILE",
                        help="write each export request's arrival and answer at the sandbox (seconds from the start)")
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
