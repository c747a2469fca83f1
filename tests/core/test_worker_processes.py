"""Real worker processes on Redis and PostgreSQL: a worker killed mid-export loses nothing and
creates nothing twice; another worker finishes the run exactly once."""

from __future__ import annotations

import asyncio
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import Customer, Invoice, InvoiceLine, OutboundWrite, RunKind, RunState, SyncRun, utcnow
from ledgerbridge_testing.workers import start_process as _spawn
from ledgerbridge_testing.workers import stop_process as _kill
from ledgerbridge_testing.workers import wait_for as _wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
async def test_a_killed_worker_loses_nothing_and_duplicates_nothing(postgres_dsn, redis_url, tmp_path, monkeypatch,
                                                                   acme):
    from tests.conftest import _create_postgres_database, make_connection, open_database

    url = await _create_postgres_database(postgres_dsn)
    await open_database(url, monkeypatch)
    from ledgerbridge.tables import Workspace

    ws = Workspace(name="W", slug="w")
    await ws.save()
    connection = await make_connection(ws.id)
    customer = Customer(workspace=ws.id, name="Kate", created_at=utcnow(), updated_at=utcnow())
    await customer.save()
    invoice = Invoice(workspace=ws.id, number="INV-9", customer=customer.id, issue_date=date(2026, 11, 3),
                      status="sent", subtotal=Decimal("10.00"), total=Decimal("10.00"), created_at=utcnow(),
                      updated_at=utcnow())
    await invoice.save()
    await InvoiceLine(invoice=invoice.id, description="x", quantity=Decimal("1"), unit_price=Decimal("10"),
                      line_total=Decimal("10.00")).save()

    env = dict(os.environ, LEDGERBRIDGE_DATABASE_URL=url, LEDGERBRIDGE_BROKER_URL=redis_url,
               LEDGERBRIDGE_JOB_LEASE_SECONDS="3", LEDGERBRIDGE_SWEEP_INTERVAL_SECONDS="1",
               LEDGERBRIDGE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    acme.hold_next_invoice_answer(600)  # applied, not yet answered: the window a crash must survive
    first = _spawn("worker", env, tmp_path / "worker1.log")
    processes = [first]
    try:
        # Send the run through the real Redis broker, as the server would.
        monkeypatch.setenv("LEDGERBRIDGE_BROKER_URL", redis_url)
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=redis_url)
        from ledgerbridge.worker import QUEUE

        def send(run_id: int, delay: float) -> None:
            import dramatiq

            broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="run_job", args=(run_id,), kwargs={},
                                            options={}))

        monkeypatch.setattr(jobs, "_dispatcher", send)
        run = await jobs.enqueue(RunKind.export_invoice, workspace_id=ws.id, connection_id=connection.id,
                                 params={"invoice_id": invoice.id})

        # The provider applied the invoice and the first worker is stuck before answering: kill it.
        await _wait_for(lambda: asyncio.to_thread(lambda: len(acme.remote_records("invoice")) == 1),
                        "the first worker to send the invoice")
        _kill(first)
        assert (await SyncRun.objects().where(SyncRun.id == run.id).first()).state == RunState.running

        processes += [_spawn("worker", env, tmp_path / "worker2.log"),
                      _spawn("scheduler", env, tmp_path / "scheduler.log")]

        async def finished():
            row = await SyncRun.objects().where(SyncRun.id == run.id).first()
            return row if row.state in (RunState.done, RunState.failed) else None

        done = await _wait_for(finished, "the second worker to finish the run")
        logs = "\n".join(p.read_text() for p in tmp_path.glob("*.log"))
        assert done.state == RunState.done, (done.error, logs)
        assert done.attempts == 2 and done.created == 1 and done.failed == 0
        assert len(acme.remote_records("invoice")) == 1  # exactly once in the provider
        writes = await OutboundWrite.objects().where(OutboundWrite.record_type == "invoice")
        assert [(w.state, w.remote_id) for w in writes] == [("applied", acme.remote_records("invoice")[0]["id"])]
    finally:
        for process in processes:
            _kill(process)
