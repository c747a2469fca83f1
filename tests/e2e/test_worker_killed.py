"""A real worker process killed while its invoice create is inside the provider: on PostgreSQL and
Redis, a second worker finishes the run and the provider holds exactly one invoice."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import Connection, OutboundWrite, RunKind, RunState, SyncRun

from tests.core.test_worker_processes import ROOT, _kill, _spawn, _wait_for
from tests.e2e.conftest import ProviderWorld
from tests.e2e.test_sync_end_to_end import connect, local_invoice, map_everything, remote_of, run


@pytest.mark.redis
async def test_a_worker_killed_mid_export_still_gives_one_invoice(world: ProviderWorld, postgres_dsn, redis_url,
                                                                  tmp_path: Path, monkeypatch):
    from tests.conftest import _create_postgres_database, open_database

    url = await _create_postgres_database(postgres_dsn)
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

    env = dict(os.environ, LEDGERBRIDGE_DATABASE_URL=url, LEDGERBRIDGE_BROKER_URL=redis_url,
               LEDGERBRIDGE_JOB_LEASE_SECONDS="3", LEDGERBRIDGE_SWEEP_INTERVAL_SECONDS="1",
               LEDGERBRIDGE_DATA_DIR=str(tmp_path / "data"), LEDGERBRIDGE_SANDBOXES="off",
               PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "acme_provider"), str(ROOT)]))
    first = _spawn("worker", env, tmp_path / "worker1.log")
    processes = [first]
    try:
        from dramatiq.brokers.redis import RedisBroker
        from ledgerbridge.worker import QUEUE

        broker = RedisBroker(url=redis_url)

        def send(run_id: int, delay: float) -> None:
            import dramatiq

            broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="run_job", args=(run_id,), kwargs={},
                                            options={}))

        monkeypatch.setattr(jobs, "_dispatcher", send)
        queued = await jobs.enqueue(RunKind.export_invoice, workspace_id=connection.workspace,
                                    connection_id=connection.id, params={"invoice_id": invoice.id})

        await _wait_for(lambda: asyncio.to_thread(lambda: "KILL-2" in world.invoice_numbers(connection.tenant_id)),
                        "the provider to apply the worker's create")
        _kill(first)
        assert (await SyncRun.objects().where(SyncRun.id == queued.id).first()).state == RunState.running
        processes += [_spawn("worker", env, tmp_path / "worker2.log"),
                      _spawn("scheduler", env, tmp_path / "scheduler.log")]

        async def finished():
            row = await SyncRun.objects().where(SyncRun.id == queued.id).first()
            return row if row.state in (RunState.done, RunState.failed) else None

        done = await _wait_for(finished, "the second worker to finish the run")
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
            _kill(process)
