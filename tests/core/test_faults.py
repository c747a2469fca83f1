"""Faults become delays: races between runs resolve themselves, and transient provider errors are
retried inside the run without spending its attempts (issue 17). Against the Acme sandbox over
real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import ExternalLink, OutboundWrite, RunKind, RunRecord, RunState, SyncRun, WriteState

from tests.conftest import make_connection
from tests.core.test_sync import _sent_invoice, no_broker  # noqa: F401  (no_broker is an autouse fixture)

ACME_CUSTOMERS = "/api/v1/companies/acme-1/customers"
ACME_BATCH = "/api/v1/companies/acme-1/batch"


@pytest.fixture
async def shared(any_database, acme):
    from ledgerbridge.tables import Workspace

    workspace = Workspace(name="Client Co", slug="client-co")
    await workspace.save()
    return await make_connection(workspace.id)


async def _row(run_id: int) -> SyncRun:
    return await SyncRun.objects().where(SyncRun.id == run_id).first()


async def test_two_runs_ensuring_the_same_customer_at_once_both_succeed_with_one_link(shared, acme):
    """Two invoices of one new customer exported by two runs at the same moment: the first run's
    customer create is held inside the provider while the second reaches the same customer. The
    second waits for the first's write and reuses its link: one customer there, one link here."""
    first_invoice = await _sent_invoice(shared, number="R-1")
    second_invoice = await _sent_invoice(shared, number="R-2")
    await second_invoice.update_self({"customer": first_invoice.customer})
    # Held up to 2 creates: were the second run to send the customer too, it would be held and counted.
    held = acme.sandbox.add_fault("hold", path_prefix=ACME_CUSTOMERS, count=2, method="POST")
    runs = [await jobs.enqueue(RunKind.export_invoice, workspace_id=shared.workspace, connection_id=shared.id,
                               params={"invoice_id": invoice.id}) for invoice in (first_invoice, second_invoice)]
    tasks = [asyncio.create_task(jobs.execute(run.id, owner=f"worker-{n}")) for n, run in enumerate(runs)]
    for _ in range(400):  # until one create is held inside the provider and both runs are working
        states = {(await _row(run.id)).state for run in runs}
        if held.triggered == 1 and states == {RunState.running}:
            break
        await asyncio.sleep(0.05)
    assert held.triggered == 1 and states == {RunState.running}
    await asyncio.sleep(1.0)  # the second run reaches the customer and finds the first one's write
    acme.sandbox.faults.release(held.id)
    await asyncio.gather(*tasks)
    for run in runs:
        done = await _row(run.id)
        assert done.state == RunState.done and done.failed == 0 and done.attempts == 1, done.error
    assert held.triggered == 1  # the second run never sent the customer
    assert [r["name"] for r in acme.remote_records("customer")] == ["Grace"]
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == ["R-1", "R-2"]
    links = await ExternalLink.objects().where(ExternalLink.record_type == "customer")
    assert len(links) == 1 and links[0].remote_id == acme.remote_records("customer")[0]["id"]
    writes = await OutboundWrite.select(OutboundWrite.state).where(OutboundWrite.record_type == "customer")
    assert [w["state"] for w in writes] == [WriteState.applied]


async def test_a_batch_meeting_a_5xx_on_its_first_try_completes_in_the_same_run(shared, acme):
    """The provider answers the first batch with a 503: the run settles each invoice by number
    (none was created), sends the batch again after a jittered pause and ends done on its first
    attempt, every invoice there once."""
    invoices = [await _sent_invoice(shared, number=f"F-{n}") for n in range(12)]
    fault = acme.sandbox.add_fault("error", path_prefix=ACME_BATCH, count=1, status=503, method="POST")
    acme.CALLS.clear()
    queued = await jobs.enqueue(RunKind.export_invoices, workspace_id=shared.workspace, connection_id=shared.id,
                                params={"invoice_ids": [i.id for i in invoices]})
    await jobs.execute(queued.id, owner="worker")
    done = await _row(queued.id)
    assert done.state == RunState.done and done.failed == 0, done.error
    assert done.attempts == 1 and done.claims == 1  # retried inside the run, not by a new attempt
    assert fault.triggered == 1
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == sorted(f"F-{n}" for n in range(12))
    calls = [c for c in acme.CALLS if c in ("export_invoices_batch", "find_invoice", "export_invoice")]
    # The journal lists a batch's invoices after it. The batches of 10 and 2 go side by side; the one
    # the 503 met is looked up invoice by invoice (none found) and the same invoices go again as a
    # batch: never one by one.
    batch = "export_invoices_batch"
    steps: list[list[str | int]] = []
    for call in calls:
        if call == "export_invoice":
            assert steps and steps[-1][0] == batch, f"an invoice was sent on its own: {calls}"
            steps[-1][1] += 1  # type: ignore[operator]
        else:
            steps.append([call, 0])
    batches = [size for name, size in steps if name == batch]
    finds = [n for n, (name, _) in enumerate(steps) if name == "find_invoice"]
    met = len(finds)  # the size of the batch the 503 met
    assert met in (2, 10) and sorted(batches) == sorted([met, met, 12 - met])
    first = next(n for n, step in enumerate(steps) if step == [batch, met])
    again = max(n for n, step in enumerate(steps) if step == [batch, met])
    assert first < min(finds) and max(finds) < again  # looked up before they were sent again
    created = await RunRecord.count().where((RunRecord.run == queued.id) & (RunRecord.outcome == "created"))
    assert created == 12
    assert done.progress_done == 12 and done.progress_total == 12


async def test_a_provider_that_keeps_failing_makes_the_run_wait_not_fail(shared, acme, monkeypatch):
    """More 5xx than a request is retried in place: the run goes back to the queue as waiting, its
    attempt given back and its next try in its message, and finishes once the provider is back."""
    from ledgerbridge.sync import retrying

    monkeypatch.setattr(retrying, "TRIES", 2)
    invoice = await _sent_invoice(shared, number="W-1")
    acme.sandbox.add_fault("error", path_prefix=ACME_CUSTOMERS, count=2, status=503, method="POST")
    queued = await jobs.enqueue(RunKind.export_invoice, workspace_id=shared.workspace, connection_id=shared.id,
                                params={"invoice_id": invoice.id})
    await jobs.execute(queued.id, owner="worker")
    waiting = await _row(queued.id)
    assert waiting.state == RunState.queued and waiting.not_before is not None
    assert waiting.attempts == 0 and waiting.claims == 1
    assert waiting.error.startswith("Waiting: ") and "Next try at" in waiting.error
    await SyncRun.update({SyncRun.not_before: None}).where(SyncRun.id == queued.id)
    await jobs.execute(queued.id, owner="worker")
    done = await _row(queued.id)
    assert done.state == RunState.done and done.failed == 0 and done.attempts == 1 and done.claims == 2, done.error
    assert [r["name"] for r in acme.remote_records("customer")] == ["Grace"]
    assert [r["number"] for r in acme.remote_records("invoice")] == ["W-1"]
