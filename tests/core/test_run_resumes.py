"""Progress that survives (issue 17): each batch's outcome is committed as it lands, so a run whose
worker is SIGKILLed after its third batch resumes at its fourth. Real worker processes on Redis and
PostgreSQL against the Acme sandbox."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from ledgerbridge import jobs
from ledgerbridge.tables import RunKind, RunRecord, RunState, SyncRun, Workspace
from ledgerbridge.worker import QUEUE
from ledgerbridge_testing.workers import start_process, stop_process, wait_for

from tests.conftest import _create_postgres_database, make_connection, open_database
from tests.core.test_sync import _sent_invoice

ROOT = Path(__file__).resolve().parents[2]
ACME_BATCH = "/api/v1/companies/acme-1/batch"


@pytest.mark.redis
async def test_a_run_killed_after_its_third_batch_resumes_at_its_fourth(postgres_dsn, redis_url, tmp_path,
                                                                        monkeypatch, acme):
    url = await _create_postgres_database(postgres_dsn)
    await open_database(url, monkeypatch)
    workspace = Workspace(name="W", slug="w")
    await workspace.save()
    connection = await make_connection(workspace.id)
    invoices = [await _sent_invoice(connection, number=f"K-{n:02d}") for n in range(50)]  # Acme batches 10
    # The first three batches go through; the fourth and fifth are held inside the provider while the
    # worker dies. Both are held: Acme takes 4 requests at once, so the fifth is out beside the fourth,
    # and one answered before the kill would have been recorded but not checkpointed (walked again).
    acme.sandbox.add_fault("slow", path_prefix=ACME_BATCH, count=3, method="POST", delay=0)
    fourth = acme.sandbox.add_fault("hold", path_prefix=ACME_BATCH, count=2, method="POST")

    env = dict(os.environ, LEDGERBRIDGE_DATABASE_URL=url, LEDGERBRIDGE_BROKER_URL=redis_url,
               LEDGERBRIDGE_JOB_LEASE_SECONDS="3", LEDGERBRIDGE_SWEEP_INTERVAL_SECONDS="1",
               LEDGERBRIDGE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    first = start_process("worker", env, tmp_path / "worker1.log")
    processes = [first]
    try:
        broker = RedisBroker(url=redis_url)

        def send(run_id: int, delay: float) -> None:
            broker.enqueue(dramatiq.Message(queue_name=QUEUE, actor_name="run_job", args=(run_id,), kwargs={},
                                            options={}))

        monkeypatch.setattr(jobs, "_dispatcher", send)
        queued = await jobs.enqueue(RunKind.export_invoices, workspace_id=workspace.id, connection_id=connection.id,
                                    params={"invoice_ids": [i.id for i in invoices]})

        async def at_fourth_batch() -> SyncRun | None:
            row = await SyncRun.objects().where(SyncRun.id == queued.id).first()
            return row if fourth.triggered == 2 and row.progress_done == 30 else None

        before = await wait_for(at_fourth_batch, "the worker to send its fourth batch")
        stop_process(first)  # SIGKILL, with the fourth and fifth batches inside the provider
        assert before.state == RunState.running and before.progress_total == 50
        acme.sandbox.faults.release(fourth.id)  # the provider applies them; nobody hears the answers
        processes += [start_process("worker", env, tmp_path / "worker2.log"),
                      start_process("scheduler", env, tmp_path / "scheduler.log")]

        async def finished() -> SyncRun | None:
            row = await SyncRun.objects().where(SyncRun.id == queued.id).first()
            return row if row.state in (RunState.done, RunState.failed) else None

        done = await wait_for(finished, "a second worker to finish the run")
        logs = "\n".join(p.read_text() for p in tmp_path.glob("*.log"))
        assert done.state == RunState.done and done.failed == 0, (done.error, logs[-3000:])
        assert done.attempts == 2 and done.progress_done == 50
        numbers = [r["number"] for r in await asyncio.to_thread(acme.remote_records, "invoice")]
        assert sorted(numbers) == [f"K-{n:02d}" for n in range(50)]  # each exactly once
        records = await RunRecord.select(RunRecord.record_id, RunRecord.outcome).where(
            (RunRecord.run == queued.id) & (RunRecord.record_type == "invoice"))
        # Resumed at the fourth batch: the first thirty were never walked again (no "unchanged, skipped").
        assert [r for r in records if r["outcome"] != "created"] == []
        assert sorted(r["record_id"] for r in records) == sorted(i.id for i in invoices)
    finally:
        for process in processes:
            stop_process(process)
