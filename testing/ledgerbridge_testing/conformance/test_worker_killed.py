"""A real worker process killed while its invoice create is inside the provider: on PostgreSQL and
Redis, a second worker finishes the run and the provider holds exactly one invoice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from ledgerbridge import jobs
from ledgerbridge.tables import Connection, OutboundWrite, RunKind, RunState, SyncRun
from ledgerbridge.worker import QUEUE

from ledgerbridge_testing.conformance.steps import connect, local_invoice, map_everything, remote_of, run
from ledgerbridge_testing.databases import create_postgres_database, open_database
from ledgerbridge_testing.workers import process_env, start_process, stop_process, wait_for
from ledgerbridge_testing.world import ProviderWorld

pytestmark = [pytest.mark.asyncio, pytest.mark.conformance("workers")]


@pytest.mark.redis
async def test_a_worker_killed_mid_export_still_gives_one_invoice(world: ProviderWorld, postgres_dsn, redis_url,
                                                                  tmp_path: Path, monkeypatch):
    url = await create_postgres_database(postgres_dsn)
    await open_database(url, monkeypatch)
    connection = await connect(world)
    assert (await run(RunKind.import_all, connection)).state == RunState.done
    connection = await Connection.objects().where(Connection.id == connection.id).first()
    await map_everything(connection)
    warm = await local_invoice(connection, "KILL-1")  # creates the customer and item in the provider
    assert (await run(RunKind.export_invoice, connection, invoice_id=warm.id)).failed == 0
    invoice = await local_invoice(connection, "KILL-2", customer=None)
    await run(RunKind.export_customer, connection, customer_id=invoice.customer)
    # The provider applies the invoice create and then keeps the answer back while we kill the worker.
    world.fault("timeout_after_apply", path_prefix="/", count=1, method="POST", delay=120)

    env = process_env(url, redis_url, tmp_path / "data", LEDGERBRIDGE_SANDBOXES="off")
    first = start_process("worker", env, tmp_path / "worker1.log")
    processes = [first]
    try:
        broker = RedisBroker(url=redis_url)

        def send(run_id: int, delay: float) -> None:
            broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="run_job", args=(run_id,), kwargs={},
                                            options={}))

        monkeypatch.setattr(jobs, "_dispatcher", send)
        queued = await jobs.enqueue(RunKind.export_invoice, workspace_id=connection.workspace,
                                    connection_id=connection.id, params={"invoice_id": invoice.id})

        await wait_for(lambda: asyncio.to_thread(lambda: "KILL-2" in world.invoice_numbers(connection.tenant_id)),
                        "the provider to apply the worker's create")
        stop_process(first)
        assert (await SyncRun.objects().where(SyncRun.id == queued.id).first()).state == RunState.running
        processes += [start_process("worker", env, tmp_path / "worker2.log"),
                      start_process("scheduler", env, tmp_path / "scheduler.log")]

        async def finished():
            row = await SyncRun.objects().where(SyncRun.id == queued.id).first()
            return row if row.state in (RunState.done, RunState.failed) else None

        done = await wait_for(finished, "the second worker to finish the run")
        logs = "\n".join(p.read_text() for p in tmp_path.glob("*.log"))  # noqa: ASYNC240
        assert done.state == RunState.done and done.failed == 0, (done.error, logs[-3000:])
        assert done.attempts == 2
        assert world.invoice_numbers(connection.tenant_id).count("KILL-2") == 1
        link = await remote_of(connection, invoice)
        writes = await OutboundWrite.objects().where((OutboundWrite.record_type == "invoice")
                                                     & (OutboundWrite.record_id == invoice.id))
        assert [(w.state, w.remote_id) for w in writes] == [("applied", link.remote_id)]
    finally:
        for process in processes:
            stop_process(process)
