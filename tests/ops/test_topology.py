"""The production topology, run as compose runs it: `ledgerbridge serve`, two `ledgerbridge worker`s and one
`ledgerbridge scheduler` as separate processes on PostgreSQL and Redis. An import and a bulk export go
through the web server's API; mid-export the worker holding the run is killed while the provider holds its
write, and the scheduler is stopped and started again. The export still ends once, nothing is lost and
nothing is created twice; each process answers its health check; the workers serve their metrics."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from ledgerbridge.identity.api_keys import create_api_key
from ledgerbridge.tables import (
    Customer,
    ExternalLink,
    Invoice,
    Membership,
    OutboundWrite,
    RunKind,
    RunState,
    SyncRun,
    WorkerHeartbeat,
    utcnow,
)
from ledgerbridge_testing.conformance.steps import connect, local_invoice, map_everything
from ledgerbridge_testing.databases import create_postgres_database, open_database
from ledgerbridge_testing.servers import free_port
from ledgerbridge_testing.workers import process_env, start_process, stop_process, wait_for
from ledgerbridge_testing.world import open_world

from tests.ops.conftest import samples, total

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

PROVIDER = "quickbooks"
INVOICES = 24


def healthcheck(role: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledgerbridge", "healthcheck", "--role", role], env=env,
                          capture_output=True, text=True, timeout=60)


def fault_triggered(world, rule_id: int) -> bool:
    listed = world.http.get("/_sandbox/faults").json()
    rules = listed.get("faults", listed.get("rules", [])) if isinstance(listed, dict) else listed
    return any(rule["id"] == rule_id and rule["triggered"] > 0 for rule in rules)


def owning_process(lease_owner: str, processes: dict[str, subprocess.Popen]) -> str:
    """Which started command holds a run: the lease owner is `host:pid:...` of a Dramatiq child process."""
    pid = int(lease_owner.split(":")[1])
    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return next(name for name, process in processes.items() if process.pid in (pid, parent))


async def test_serve_two_workers_and_a_scheduler_survive_restarts(postgres_dsn, redis_url, tmp_path, monkeypatch):
    started = time.monotonic()
    url = await create_postgres_database(postgres_dsn)
    await open_database(url, monkeypatch)
    with open_world(PROVIDER, monkeypatch) as world:
        web_port = free_port()
        base = process_env(url, redis_url, tmp_path / "data", LEDGERBRIDGE_SANDBOXES="off",
                           LEDGERBRIDGE_HOST="127.0.0.1", LEDGERBRIDGE_PORT=str(web_port),
                           LEDGERBRIDGE_LOG_FORMAT="json", LEDGERBRIDGE_WORKER_METRICS_PORT="0")
        metrics_ports = {"worker-a": free_port(), "worker-b": free_port()}

        def env_of(name: str) -> dict[str, str]:
            env = dict(base, LEDGERBRIDGE_DATA_DIR=str(tmp_path / name))
            if name in metrics_ports:
                env["LEDGERBRIDGE_WORKER_METRICS_PORT"] = str(metrics_ports[name])
            return env

        processes: dict[str, subprocess.Popen] = {}

        def start(name: str) -> None:
            command = name.split("-")[0]
            processes[name] = start_process(command, env_of(name), tmp_path / f"{name}.log")

        def logs() -> str:
            return "\n".join(f"== {p.name}\n{p.read_text()[-4000:]}" for p in sorted(tmp_path.glob("*.log")))

        try:
            for name in ("serve", "worker-a", "worker-b", "scheduler"):
                start(name)
            web = httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}", timeout=30)

            async def web_up() -> bool:
                try:
                    return (await web.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_for(web_up, "the web server to answer /healthz")
            await wait_for(lambda: WorkerHeartbeat.count(), "a worker heartbeat")

            # A person connects the provider; the host app asks for an import through the API.
            connection = await connect(world)
            owner = await Membership.objects().where(Membership.workspace == connection.workspace).first()
            key = (await create_api_key(connection.workspace, "host app", owner.user)).key
            answer = await web.post(f"/api/v1/connections/{connection.id}/sync", json={}, headers={"X-API-Key": key})
            assert answer.status_code == 200, answer.text
            import_ids = [run["id"] for run in answer.json()["runs"]]

            async def runs_ended(ids: list[int]) -> list[SyncRun] | None:
                rows = await SyncRun.objects().where(SyncRun.id.is_in(ids))
                ended = all(row.state in (RunState.done, RunState.failed, RunState.cancelled) for row in rows)
                return rows if ended else None

            imported = await wait_for(lambda: runs_ended(import_ids), "the import", attempts=1200)
            assert [row.state for row in imported] == [RunState.done] * len(imported), logs()
            await map_everything(connection)

            now = utcnow()
            customers = []
            for n in range(4):
                customer = Customer(workspace=connection.workspace, name=f"Topology Client {n}",
                                    email=f"topo{n}@client.example", created_at=now, updated_at=now)
                await customer.save()
                customers.append(customer)
            invoices = [await local_invoice(connection, f"TOPO-{n:03d}", customer=customers[n % 4])
                        for n in range(INVOICES)]
            # The provider will hold the export's first write until we let it go.
            held = world.fault("hold", path_prefix="/", count=1, method="POST", delay=600)
            answer = await web.post("/api/v1/invoices/export", json={"invoice_ids": [i.id for i in invoices]},
                                    headers={"X-API-Key": key})
            assert answer.status_code == 200, answer.text
            export_id = answer.json()["runs"][0]["id"]
            await wait_for(lambda: asyncio.to_thread(fault_triggered, world, held["id"]),
                           "a worker to send the held write")
            run = await SyncRun.objects().where(SyncRun.id == export_id).first()
            assert run.state == RunState.running and run.lease_owner
            holder = owning_process(run.lease_owner, processes)
            assert holder.startswith("worker-")

            # Mid-way: the worker holding the run dies; the provider applies the write it was sending anyway.
            stop_process(processes.pop(holder))
            world.control("faults/release")
            # The scheduler is stopped gracefully and started again; the dead worker is replaced.
            scheduler = processes.pop("scheduler")
            stop_process(scheduler, signal.SIGTERM)
            assert scheduler.returncode == 0, logs()
            start("scheduler")
            start(holder)

            done = await wait_for(lambda: runs_ended([export_id]), "the export to end after the restarts",
                                  attempts=1800)
            assert done[0].state == RunState.done and done[0].failed == 0, (done[0].error, logs())
            assert done[0].attempts == 2

            numbers = [n for n in world.invoice_numbers(connection.tenant_id) if n.startswith("TOPO-")]
            assert sorted(numbers) == [f"TOPO-{n:03d}" for n in range(INVOICES)], "each invoice once in the provider"
            links = await ExternalLink.objects().where((ExternalLink.record_type == "invoice")
                                                       & ExternalLink.record_id.is_in([i.id for i in invoices]))
            assert sorted(link.record_id for link in links) == sorted(i.id for i in invoices)
            assert all(link.state == "synced" and link.remote_id for link in links)
            writes = await OutboundWrite.objects().where(OutboundWrite.record_type == "invoice")
            assert len({w.record_id for w in writes}) == len(writes) == INVOICES
            assert {w.state for w in writes} == {"applied"}
            assert await Invoice.count().where(Invoice.workspace == connection.workspace) == INVOICES
            waiting = await SyncRun.count().where(SyncRun.state.is_in([RunState.queued, RunState.running])
                                                  & (SyncRun.kind != RunKind.poll_status))
            assert waiting == 0

            # Each process answers the health check its compose service runs.
            await wait_for(lambda: asyncio.to_thread(lambda: healthcheck("scheduler", env_of("scheduler"))
                                                     .returncode == 0), "the restarted scheduler's beacon")
            for role, name in (("web", "serve"), ("worker", "worker-a"), ("scheduler", "scheduler")):
                checked = healthcheck(role, env_of(name))
                assert checked.returncode == 0, (role, checked.stdout, checked.stderr)
            dead = healthcheck("scheduler", env_of("nobody"))
            assert dead.returncode == 1 and "does not exist" in dead.stdout

            # Workers serve their metrics (ours and Dramatiq's) on their own port; whichever finished the
            # export counted it.
            scraped = [samples((await web.get(f"http://127.0.0.1:{port}/metrics")).text)
                       for port in metrics_ports.values()]
            assert sum(total(one, "ledgerbridge_jobs_total", kind="export_invoices", outcome="done")
                       for one in scraped) == 1
            assert sum(total(one, "dramatiq_messages_total") for one in scraped) >= 1
            assert sum(total(one, "ledgerbridge_records_total", provider=PROVIDER, record_type="invoice")
                       for one in scraped) >= 1
            web_metrics = (await web.get("/metrics")).text
            assert "ledgerbridge_queue_depth" in web_metrics
            assert 'route="/api/v1/invoices/export"' in web_metrics

            # Every line is JSON and the serve log starts with no migration chatter.
            serve_log = (tmp_path / "serve.log").read_text()
            assert "migrations already complete" not in serve_log and "DeprecationWarning" not in serve_log
            await web.aclose()
        finally:
            for process in processes.values():
                stop_process(process)
    print(f"topology test took {time.monotonic() - started:.0f} s")
