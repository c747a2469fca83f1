"""Export at the provider's ceiling: every request of a company (imports and exports alike) paced by
the shared limiter so the provider never answers 429, several batches in flight where the provider
allows it, and a used-up daily allowance deferring the run instead of sending (issue 18 item 2).

Against the Acme sandbox over real HTTP, its limits set as tight as the test needs and the same
figures given to LedgerBridge through `LEDGERBRIDGE_ACME_RATE_LIMITS`.
"""

from __future__ import annotations

import asyncio

from ledgerbridge import jobs
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import OutboundWrite, RunKind, RunState, SyncRun, WriteState
from ledgerbridge_acme.sandbox.app import Limits as SandboxLimits
from ledgerbridge_acme.sandbox.config import SandboxConfig

from tests.core.test_sync import _sent_invoice, no_broker  # noqa: F401  (no_broker is an autouse fixture)

ACME_BATCH = "/api/v1/companies/acme-1/batch"


def tighten(acme, monkeypatch, *, per_minute: int = 600, concurrent: int = 4, ours: str | None = None) -> None:
    """The sandbox enforces these limits; LedgerBridge is told the same (or `ours`)."""
    acme.sandbox.limits = SandboxLimits(SandboxConfig(requests_per_minute=per_minute,
                                                      concurrent_requests=concurrent), acme.sandbox.clock)
    monkeypatch.setenv("LEDGERBRIDGE_ACME_RATE_LIMITS", ours or f"per_minute={per_minute},concurrent={concurrent}")
    get_settings.cache_clear()


def peak(acme) -> int:
    return max((acme.sandbox.limits.concurrent.peak(key) for key in list(acme.sandbox.limits.concurrent._peak)),
               default=0)


async def _row(run_id: int) -> SyncRun:
    return await SyncRun.objects().where(SyncRun.id == run_id).first()


async def test_an_import_and_an_export_of_one_company_share_its_minute_and_never_meet_a_429(
        connection, acme, monkeypatch):
    """Together the two runs need more requests than the minute allows: the limiter holds the rest
    until the oldest leave the window, counting both runs, so the provider never refuses one."""
    for n in range(3):
        acme.seed("customer", {"name": f"Imported {n}", "email": f"i{n}@example.com"})
    invoices = [await _sent_invoice(connection, number=f"C-{n}") for n in range(25)]
    for invoice in invoices[1:]:
        await invoice.update_self({"customer": invoices[0].customer})
    # Import: accounts, tax rates, customers, items (4 or more); export: the customer, three batches
    # of 10, 10 and 5. More than the 6 a minute allows.
    tighten(acme, monkeypatch, per_minute=6, concurrent=2)
    runs = [await jobs.enqueue(RunKind.import_all, workspace_id=connection.workspace, connection_id=connection.id),
            await jobs.enqueue(RunKind.export_invoices, workspace_id=connection.workspace,
                               connection_id=connection.id, params={"invoice_ids": [i.id for i in invoices]})]
    await asyncio.gather(*(jobs.execute(run.id, owner=f"worker-{n}") for n, run in enumerate(runs)))
    for run in runs:
        done = await _row(run.id)
        assert done.state == RunState.done and done.failed == 0, done.error
    assert acme.sandbox.limits.refused == 0  # not one 429 from the provider
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == sorted(f"C-{n}" for n in range(25))
    assert peak(acme) <= 2


async def test_an_export_keeps_as_many_batches_in_flight_as_the_provider_allows(connection, acme, monkeypatch):
    """Acme takes 4 requests of a company at once: four batches are held inside the provider at the
    same moment, a fifth waits for a free slot instead of being refused, and all land once."""
    tighten(acme, monkeypatch, per_minute=600, concurrent=4)
    invoices = [await _sent_invoice(connection, number=f"P-{n}") for n in range(60)]
    for invoice in invoices[1:]:
        await invoice.update_self({"customer": invoices[0].customer})  # one customer: the batches need nothing else
    held = acme.sandbox.add_fault("hold", path_prefix=ACME_BATCH, count=4, method="POST")
    queued = await jobs.enqueue(RunKind.export_invoices, workspace_id=connection.workspace,
                                connection_id=connection.id, params={"invoice_ids": [i.id for i in invoices]})
    task = asyncio.create_task(jobs.execute(queued.id, owner="worker"))
    for _ in range(600):  # until four batches are inside the provider at once
        if held.triggered == 4:
            break
        await asyncio.sleep(0.05)
    assert held.triggered == 4
    await asyncio.sleep(0.5)  # a fifth request would now be refused by the provider (or held: count=4)
    assert peak(acme) == 4 and acme.sandbox.limits.refused == 0
    acme.sandbox.faults.release(held.id)
    await task
    done = await _row(queued.id)
    assert done.state == RunState.done and done.failed == 0 and done.created == 61, done.error  # and the customer
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == sorted(f"P-{n}" for n in range(60))
    assert peak(acme) == 4 and acme.sandbox.limits.refused == 0
    assert done.progress_done == 60


async def test_a_used_up_daily_allowance_defers_the_run_and_sends_nothing(connection, acme, monkeypatch):
    """Three calls a day: the export makes them, then waits in the queue with the reason and the
    time the allowance comes back, instead of sending and being refused (or holding a worker)."""
    tighten(acme, monkeypatch, ours="per_day=3,concurrent=4")
    invoices = [await _sent_invoice(connection, number=f"D-{n}") for n in range(3)]
    queued = await jobs.enqueue(RunKind.export_invoices, workspace_id=connection.workspace,
                                connection_id=connection.id, params={"invoice_ids": [i.id for i in invoices]})
    await jobs.execute(queued.id, owner="worker")
    row = await _row(queued.id)
    # The three customers took the day's three calls; the batch was not sent.
    assert row.state == RunState.queued and row.error.startswith("Waiting:"), (row.state, row.error)
    assert "allowance of calls for this company is used up" in row.error and "nothing was sent" in row.error
    assert acme.remote_records("invoice") == [] and acme.sandbox.limits.refused == 0
    assert row.attempts == 0  # waiting for the allowance spends no attempt
    # What did not go is known not to have gone: nothing is left looking as if it may have been sent.
    writes = await OutboundWrite.select(OutboundWrite.state).where(OutboundWrite.record_type == "invoice")
    assert WriteState.uncertain not in {w["state"] for w in writes}
    # The allowance is back (here: a bigger one): the run goes on and sends each invoice once.
    tighten(acme, monkeypatch, ours="per_day=100,concurrent=4")
    await SyncRun.update({SyncRun.not_before: None}).where(SyncRun.id == queued.id)
    await jobs.execute(queued.id, owner="worker")
    row = await _row(queued.id)
    assert row.state == RunState.done and row.failed == 0, row.error
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == ["D-0", "D-1", "D-2"]
