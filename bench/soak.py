"""A fault soak on the production topology: faults must end as delays, never as failures or losses.

    uv run python bench/soak.py --invoices 1000 --xero-invoices 1000 --freshbooks-invoices 300

Starts what production runs (a throwaway PostgreSQL and Redis as the tests start them, `ledgerbridge
serve`, one `ledgerbridge scheduler`, several `ledgerbridge worker` processes) and the three provider
sandboxes, with faults injected at each sandbox's door: about 10% of API requests answered 503 before
anything is done, about 5% of writes applied and then their connection dropped before the answer
(the client cannot tell whether the write landed), recurring 429 storms, and access tokens expired
now and then. A host app's API key exports the invoices in bulk requests through the REST API while
workers are SIGKILLed at random moments (and started again). Then a bookkeeper pays, part-pays and
voids invoices in the providers, LedgerBridge reads their statuses back, and the script compares
both sides.

It prints one JSON object per provider and a last summary object. `runs_retried_by_person` counts
the runs the script had to retry by hand for everything to arrive: it never retries, so any run that
failed shows in `failed_runs` and its invoices in `lost`/`unrecorded`. A soak, not a unit test; its
short variant runs in the suite (tests/ops/test_soak.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = ("quickbooks", "xero", "freshbooks")
# Paths the chaos leaves alone: the sandbox's control panel, the bookkeeper's pages, and OAuth.
SPARED = ("/_sandbox", "/accountant", "/oauth", "/connect", "/identity", "/token", "/authorize", "/auth/")


@dataclass
class Chaos:
    """An ASGI layer in front of one sandbox that turns a share of its API requests into faults."""

    app: Any
    rng: random.Random
    error_rate: float
    lost_rate: float
    enabled: bool = False
    storm_until: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {"5xx": 0, "lost_answer": 0, "429": 0})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.enabled or any(part in path for part in SPARED):
            await self.app(scope, receive, send)
            return
        if time.monotonic() < self.storm_until:
            self._count("429")
            await _answer(send, 429, b'{"error":"too many requests (injected storm)"}', retry_after="2")
            return
        draw = self.rng.random()
        if draw < self.error_rate:
            self._count("5xx")
            await _answer(send, 503, b'{"error":"service unavailable (injected)"}')
            return
        if scope["method"] in ("POST", "PUT") and draw < self.error_rate + self.lost_rate:
            await self._lose_answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _lose_answer(self, scope: Any, receive: Any, send: Any) -> None:
        """Apply the write, then start the answer and drop the connection: the client never learns."""
        started: list[Any] = []

        async def swallow(message: Any) -> None:
            if message["type"] == "http.response.start":
                started.append(message)

        await self.app(scope, receive, swallow)
        self._count("lost_answer")
        if started:
            await send(started[0])  # headers promise a body that never comes
        raise ConnectionAbortedError("injected: the answer to an applied write is lost")


async def _answer(send: Any, status: int, body: bytes, retry_after: str | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Side:
    """One provider in the soak: its sandbox, world, connection and what was sent."""

    key: str
    invoices: int
    chaos: Chaos
    sandbox: Any
    world: Any
    connection: Any = None
    api_key: str = ""
    invoice_ids: list[int] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    prefix: str = ""


async def wait_until(check: Callable[[], Awaitable[Any]], what: str, within: float) -> Any:
    """Poll `check` every half second until it answers something truthy; TimeoutError after `within` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.5)
    raise TimeoutError(f"gave up waiting for {what} after {within:.0f} s")


async def main(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    import httpx
    import pytest
    from ledgerbridge import demo, jobs
    from ledgerbridge.identity.api_keys import create_api_key
    from ledgerbridge.settings import get_settings
    from ledgerbridge.tables import Customer, Membership, RunKind, RunState, SyncRun, WorkerHeartbeat, utcnow
    from ledgerbridge_testing.conformance.steps import connect, local_invoice, map_everything
    from ledgerbridge_testing.databases import create_postgres_database, open_database
    from ledgerbridge_testing.servers import free_port, postgres_server, redis_server
    from ledgerbridge_testing.workers import process_env, start_process, stop_process
    from ledgerbridge_testing.world import ProviderWorld

    rng = random.Random(args.seed)
    started = time.monotonic()
    monkeypatch = pytest.MonkeyPatch()
    stack = contextlib.ExitStack()
    processes: dict[str, subprocess.Popen] = {}
    sides: list[Side] = []
    try:
        dsn = stack.enter_context(postgres_server())
        redis_url = stack.enter_context(redis_server())
        url = await create_postgres_database(dsn)
        await open_database(url, monkeypatch)
        counts = {"quickbooks": args.invoices, "xero": args.xero_invoices, "freshbooks": args.freshbooks_invoices}
        for key in PROVIDERS:
            if not counts[key]:
                continue
            made: list[Chaos] = []

            def wrap(app: Any, made: list[Chaos] = made) -> Chaos:
                made.append(Chaos(app, random.Random(rng.random()), args.error_rate, args.lost_rate))
                return made[0]

            sandbox = demo.serve_sandbox(key, bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                                         base_url=get_settings().base_url, wrap=wrap)
            for name, value in sandbox.env.items():
                monkeypatch.setenv(name, value)
            http = httpx.Client(base_url=sandbox.url, timeout=60)
            sides.append(Side(key, counts[key], made[0], sandbox, ProviderWorld(key=key, url=sandbox.url, http=http),
                              prefix=f"SOAK-{key[:2].upper()}-"))
        get_settings.cache_clear()

        web_port = free_port()
        env = process_env(url, redis_url, folder / "data", LEDGERBRIDGE_SANDBOXES="off",
                          LEDGERBRIDGE_HOST="127.0.0.1", LEDGERBRIDGE_PORT=str(web_port),
                          LEDGERBRIDGE_WORKER_METRICS_PORT="0")  # several workers on one host: no shared port
        env.update(LEDGERBRIDGE_JOB_LEASE_SECONDS=str(args.lease_seconds), PYTHONPATH=os.pathsep.join(
            [str(ROOT), env.get("PYTHONPATH", "")]))

        def start(name: str) -> None:
            processes[name] = start_process(name.split("-")[0], dict(env, LEDGERBRIDGE_DATA_DIR=str(folder / name)),
                                            folder / f"{name}.log")

        for name in ("serve", "scheduler", *(f"worker-{n}" for n in range(args.workers))):
            start(name)
        web = httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}", timeout=120)

        async def web_up() -> bool:
            try:
                return (await web.get("/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(web_up, "the web server", 120)
        await wait_until(lambda: WorkerHeartbeat.count(), "a worker heartbeat", 120)

        async def ended(ids: list[int]) -> list[SyncRun] | None:
            rows = await SyncRun.objects().where(SyncRun.id.is_in(ids))
            return rows if all(r.state in (RunState.done, RunState.failed, RunState.cancelled) for r in rows) else None

        # -- set up: each provider connected by its owner, imported through the API, mapped
        for side in sides:
            # One workspace per provider: a workspace's bulk export goes to each of its connections.
            side.connection = await connect(side.world, email=f"owner@{side.key}.example",
                                            workspace=f"Soak {side.key}")
            owner = await Membership.objects().where(Membership.workspace == side.connection.workspace).first()
            side.api_key = (await create_api_key(side.connection.workspace, "host app", owner.user)).key
            answer = await web.post(f"/api/v1/connections/{side.connection.id}/sync", json={},
                                    headers={"X-API-Key": side.api_key})
            answer.raise_for_status()
            imported = await wait_until(lambda ids=[r["id"] for r in answer.json()["runs"]]: ended(ids),
                                        f"the {side.key} import", 600)
            assert all(r.state == RunState.done for r in imported), [r.error for r in imported]
            await map_everything(side.connection)
            now = utcnow()
            customers = []
            for n in range(args.customers):
                customer = Customer(workspace=side.connection.workspace, name=f"Soak Client {side.key} {n}",
                                    email=f"soak{n}@{side.key}.client.example", created_at=now, updated_at=now)
                await customer.save()
                customers.append(customer)
            side.invoice_ids = await _make_invoices(side, customers, local_invoice)

        # -- the soak: faults on, bulk exports through the API, workers killed at random moments
        for side in sides:
            side.chaos.enabled = True
        soak_started = time.monotonic()
        for side in sides:
            for start_at in range(0, len(side.invoice_ids), args.bulk):
                chunk = side.invoice_ids[start_at:start_at + args.bulk]
                answer = await web.post("/api/v1/invoices/export", json={"invoice_ids": chunk},
                                        headers={"X-API-Key": side.api_key})
                answer.raise_for_status()
                side.run_ids.extend(run["id"] for run in answer.json()["runs"])
        all_runs = [run_id for side in sides for run_id in side.run_ids]
        kills = 0
        next_kill = time.monotonic() + rng.uniform(2, args.kill_every)
        next_storm = time.monotonic() + rng.uniform(5, args.storm_every)
        next_expiry = time.monotonic() + args.expire_every
        deadline = time.monotonic() + args.timeout
        while not await ended(all_runs) or kills < args.kills:
            now_s = time.monotonic()
            if now_s > deadline:
                break
            if now_s >= next_kill and kills < args.kills:
                victim = rng.choice([name for name in processes if name.startswith("worker-")])
                stop_process(processes.pop(victim))  # SIGKILL, as a crash would
                kills += 1
                start(victim)
                next_kill = now_s + rng.uniform(2, args.kill_every)
            if now_s >= next_storm:
                storm = rng.choice(sides)
                storm.chaos.storm_until = now_s + args.storm_seconds
                next_storm = now_s + rng.uniform(args.storm_every / 2, args.storm_every)
            if now_s >= next_expiry:
                for side in sides:
                    side.world.control("tokens/expire-access")
                next_expiry = now_s + args.expire_every
            await asyncio.sleep(0.5)
        export_s = time.monotonic() - soak_started

        # -- the bookkeeper pays, part-pays and voids; LedgerBridge reads the statuses back
        expected: dict[int, str] = {}
        for side in sides:
            links = await _invoice_links(side)
            remote = {record_id: link.remote_id for record_id, link in links.items() if link.remote_id}
            ids = sorted(remote)
            rng.shuffle(ids)
            step = max(1, len(ids) // 20)
            for invoice_id in ids[:step]:
                side.world.accountant(side.connection.tenant_id, "record_payment", invoice_id=remote[invoice_id],
                                      amount="120.00")
                expected[invoice_id] = "paid"
            for invoice_id in ids[step:2 * step]:
                side.world.accountant(side.connection.tenant_id, "record_payment", invoice_id=remote[invoice_id],
                                      amount="50.00")
                expected[invoice_id] = "partially_paid"
            for invoice_id in ids[2 * step:3 * step]:
                side.world.accountant(side.connection.tenant_id, "void_invoice", invoice_id=remote[invoice_id])
                expected[invoice_id] = "void"
        polls = []
        for side in sides:
            polls.append((await jobs.enqueue(RunKind.poll_status, workspace_id=side.connection.workspace,
                                             connection_id=side.connection.id, params={})).id)
        _dispatch_through(redis_url, polls)
        await wait_until(lambda: ended(polls), "the status read-back", min(args.timeout, 600))
        for side in sides:
            side.chaos.enabled = False

        results = []
        for side in sides:
            results.append(await _measure(side, expected, kills, time.monotonic() - started, export_s))
        await web.aclose()
        return results
    finally:
        for process in processes.values():
            stop_process(process)
        for side in sides:
            side.world.http.close()
            side.sandbox.server.stop()
        stack.close()
        monkeypatch.undo()


async def _make_invoices(side: Side, customers: list[Any], local_invoice: Any) -> list[int]:
    """The host app's invoices: the first as the conformance steps make one (it brings the item), the
    rest copied from it in bulk inserts (setting up is not what the soak measures)."""
    from ledgerbridge.tables import Invoice, InvoiceLine

    first = await local_invoice(side.connection, f"{side.prefix}{0:05d}", customer=customers[0])
    line = await InvoiceLine.objects().where(InvoiceLine.invoice == first.id).first()
    ids = [first.id]
    for start in range(1, side.invoices, 200):
        numbers = range(start, min(side.invoices, start + 200))
        rows = [Invoice(workspace=first.workspace, number=f"{side.prefix}{n:05d}",
                        customer=customers[n % len(customers)].id, issue_date=first.issue_date,
                        due_date=first.due_date, status=first.status, subtotal=first.subtotal, total=first.total,
                        currency=first.currency, created_at=first.created_at, updated_at=first.updated_at)
                for n in numbers]
        added = [row["id"] for row in await Invoice.insert(*rows).returning(Invoice.id)]
        await InvoiceLine.insert(*[
            InvoiceLine(invoice=invoice_id, item=line.item, description=line.description, quantity=line.quantity,
                        unit_price=line.unit_price, line_total=line.line_total)
            for invoice_id in added
        ])
        ids.extend(added)
    return ids


def _dispatch_through(redis_url: str, run_ids: list[int]) -> None:
    """Hand runs recorded by this process to the workers, as the server does after its commit."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from ledgerbridge.worker import QUEUE

    broker = RedisBroker(url=redis_url)
    for run_id in run_ids:
        broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="run_job", args=(run_id,), kwargs={},
                                        options={}))


async def _invoice_links(side: Side) -> dict[int, Any]:
    from ledgerbridge.tables import ExternalLink

    links = await ExternalLink.objects().where((ExternalLink.connection == side.connection.id)
                                               & (ExternalLink.record_type == "invoice")
                                               & ExternalLink.record_id.is_in(side.invoice_ids))
    return {link.record_id: link for link in links}


async def _measure(side: Side, expected: dict[int, str], kills: int, wall_s: float,
                   export_s: float) -> dict[str, Any]:
    from ledgerbridge import jobs
    from ledgerbridge.tables import Invoice, RunState, SyncRun

    rows = side.world.table(side.connection.tenant_id, "Invoices")
    numbers = [n for n in side.world.invoice_numbers(side.connection.tenant_id) if n.startswith(side.prefix)]
    there = set(numbers)
    invoices = {i.id: i for i in await Invoice.objects().where(Invoice.id.is_in(side.invoice_ids))}
    links = await _invoice_links(side)
    # Recorded here as exported (a voided one's link has moved on from "synced", and still counts).
    exported = [i for i in side.invoice_ids if i in links and links[i].remote_id and links[i].state != "error"]
    recorded = {invoices[i].number for i in side.invoice_ids if i in links and links[i].remote_id}
    wrong_status = wrong_total = 0
    for invoice_id in side.invoice_ids:
        link = links.get(invoice_id)
        if link is None or not link.remote_id:
            continue
        seen = jobs.loads(link.remote_data)
        status = seen.get("status", "")
        if status != expected.get(invoice_id, status) or status == "draft":
            wrong_status += 1
        if status != "void" and Decimal(str(seen.get("total") or "0")) != invoices[invoice_id].total:
            wrong_total += 1
    runs = await SyncRun.objects().where(SyncRun.id.is_in(side.run_ids))
    return {
        "provider": side.key,
        "invoices": side.invoices,
        "exported": len(exported),
        "duplicates": len(numbers) - len(there),
        "lost": sum(1 for i in side.invoice_ids if invoices[i].number not in there),
        "unrecorded": len(there - recorded),
        "wrong_status": wrong_status,
        "wrong_total": wrong_total,
        "failed_runs": sum(1 for r in runs if r.state == RunState.failed),
        "unfinished_runs": sum(1 for r in runs if r.state in (RunState.queued, RunState.running)),
        "runs_retried_by_person": 0,
        "worker_kills": kills,
        "faults_injected": dict(side.chaos.counts),
        "export_runs": len(runs),
        "run_attempts_max": max((r.attempts for r in runs), default=0),
        "provider_rows": len(rows),
        "export_s": round(export_s, 1),
        "wall_s": round(wall_s, 1),
    }


ZEROS = ("duplicates", "lost", "unrecorded", "wrong_status", "wrong_total", "failed_runs", "unfinished_runs",
         "runs_retried_by_person")


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Any] = {name: sum(r[name] for r in results) for name in ("invoices", "exported", *ZEROS)}
    totals["worker_kills"] = max((r["worker_kills"] for r in results), default=0)
    totals["wall_s"] = max((r["wall_s"] for r in results), default=0)
    totals["ok"] = all(totals[name] == 0 for name in ZEROS) and totals["exported"] == totals["invoices"]
    return {"summary": totals}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000, help="QuickBooks Online invoices")
    parser.add_argument("--xero-invoices", type=int, default=None, help="default: --invoices")
    parser.add_argument("--freshbooks-invoices", type=int, default=None, help="default: --invoices * 0.3")
    parser.add_argument("--customers", type=int, default=25, help="customers per provider the invoices share")
    parser.add_argument("--bulk", type=int, default=250, help="invoices per bulk export request")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kills", type=int, default=5, help="worker SIGKILLs, at random moments")
    parser.add_argument("--kill-every", type=float, default=20.0, help="at most this many seconds between kills")
    parser.add_argument("--error-rate", type=float, default=0.10, help="share of API requests answered 503")
    parser.add_argument("--lost-rate", type=float, default=0.05, help="share of writes applied, answer lost")
    parser.add_argument("--storm-every", type=float, default=60.0, help="seconds between 429 storms")
    parser.add_argument("--storm-seconds", type=float, default=4.0)
    parser.add_argument("--expire-every", type=float, default=45.0, help="seconds between access-token expiries")
    parser.add_argument("--lease-seconds", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up on runs after this many seconds")
    parser.add_argument("--seed", type=int, default=17)
    return parser


def run(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the soak; returns the provider objects and the summary (what `cli` prints)."""
    args = parser().parse_args(argv)
    if args.xero_invoices is None:
        args.xero_invoices = args.invoices
    if args.freshbooks_invoices is None:
        args.freshbooks_invoices = max(1, int(args.invoices * 0.3))
    folder = Path(tempfile.mkdtemp(prefix="lb-soak-"))
    os.environ["LEDGERBRIDGE_DATA_DIR"] = str(folder)
    os.environ.setdefault("LEDGERBRIDGE_SANDBOXES", "off")
    # Every process of the topology shares these throwaway secrets, as a deployment's .env would give them.
    os.environ.setdefault("LEDGERBRIDGE_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("LEDGERBRIDGE_ENCRYPTION_KEYS", base64.urlsafe_b64encode(os.urandom(32)).decode())
    sys.path.insert(0, str(ROOT))
    with contextlib.redirect_stdout(io.StringIO()):  # migrations chatter on stdout; only the JSON goes there
        results = asyncio.run(main(args, folder))
    return [*results, summary(results)]


def cli() -> None:
    for line in run():
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    cli()
