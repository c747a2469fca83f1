"""Bulk export through batch requests, and the records that follow an invoice (payments, time)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import (
    ExternalLink,
    OutboundWrite,
    Payment,
    RunKind,
    RunRecord,
    RunState,
    SyncIssue,
    SyncRun,
    TimeEntry,
    WriteState,
    utcnow,
)

from tests.core.test_sync import _sent_invoice, no_broker, run  # noqa: F401  (no_broker is an autouse fixture)


async def _bulk(connection, invoices) -> SyncRun:
    return await run(RunKind.export_invoices, connection, invoice_ids=[i.id for i in invoices])


async def test_bulk_export_sends_new_invoices_in_batches_and_one_refusal_spares_the_rest(connection, acme):
    acme.seed("invoice", {"number": "INV-2", "total": "5", "balance": "5", "status": "open"})
    invoices = [await _sent_invoice(connection, number=f"INV-{n}") for n in range(12)]
    acme.CALLS.clear()
    result = await _bulk(connection, invoices)
    assert result.state == RunState.done, result.error
    # acme takes 10 per batch: 12 invoices are one batch of 10 and one of 2 (sent side by side, in
    # either order), no single export calls. The journal lists a batch's invoices after it.
    invoice_calls = [call for call in acme.CALLS if call.startswith("export_invoice")]
    batch = "export_invoices_batch"
    assert invoice_calls in ([batch, *["export_invoice"] * 10, batch, *["export_invoice"] * 2],
                             [batch, *["export_invoice"] * 2, batch, *["export_invoice"] * 10])
    assert result.failed == 1
    created = await RunRecord.count().where((RunRecord.run == result.id) & (RunRecord.record_type == "invoice")
                                            & (RunRecord.outcome == "created"))
    assert created == 11
    numbers = sorted(r["number"] for r in acme.remote_records("invoice"))
    assert numbers.count("INV-2") == 1 and len(numbers) == 12
    issue = await SyncIssue.objects().where(SyncIssue.record_id == invoices[2].id).first()
    assert issue.code == "duplicate_number"
    writes = await OutboundWrite.select(OutboundWrite.state).where(OutboundWrite.record_type == "invoice")
    assert sorted(w["state"] for w in writes).count(WriteState.applied) == 11


async def test_an_uncertain_batch_is_settled_by_number_before_anything_is_sent_again(connection, acme):
    """The batch reached the provider but the answer was lost: the retry finds each invoice instead
    of creating it again, even though the batch's key was not each invoice's own."""
    invoices = [await _sent_invoice(connection, number=f"B-{n}") for n in range(3)]
    for invoice in invoices:
        await run(RunKind.export_customer, connection, customer_id=invoice.customer)
    queued = await jobs.enqueue(RunKind.export_invoices, workspace_id=connection.workspace,
                                connection_id=connection.id, params={"invoice_ids": [i.id for i in invoices]})
    from ledgerbridge.sync.exporting import build_invoice_data

    context = jobs.RunContext(run=queued)
    for invoice in invoices[:2]:  # the lost batch applied the first two
        data = await build_invoice_data(context, connection, invoice)
        acme.apply_invoice(data, f"batch-key-{invoice.id}")
        await OutboundWrite(workspace=connection.workspace, connection=connection.id, run=queued.id,
                            record_type="invoice", record_id=invoice.id, operation="create",
                            idempotency_key=f"lb-own-{invoice.id}", state=WriteState.uncertain,
                            created_at=utcnow()).save()
    acme.CALLS.clear()
    await jobs.execute(queued.id, owner="w")
    done = await SyncRun.objects().where(SyncRun.id == queued.id).first()
    assert done.state == RunState.done, done.error
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == ["B-0", "B-1", "B-2"]
    assert acme.CALLS.count("find_invoice") == 2
    links = await ExternalLink.count().where(ExternalLink.record_type == "invoice")
    assert links == 3


async def test_a_payment_follows_its_invoice_once(connection, acme):
    invoice = await _sent_invoice(connection)
    await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    payment = Payment(workspace=connection.workspace, invoice=invoice.id, paid_on=date(2026, 11, 20),
                      amount=Decimal("100.10"), created_at=utcnow())
    await payment.save()
    first = await run(RunKind.export_payment, connection, payment_id=payment.id, invoice_id=invoice.id)
    assert first.state == RunState.done and first.created == 1, first.error
    again = await run(RunKind.export_payment, connection, payment_id=payment.id, invoice_id=invoice.id)
    assert again.skipped == 1
    assert [r["amount"] for r in acme.remote_records("payment")] == ["100.10"]


async def test_a_payment_for_an_invoice_not_exported_is_an_issue_on_the_payment(connection, acme):
    invoice = await _sent_invoice(connection)
    payment = Payment(workspace=connection.workspace, invoice=invoice.id, paid_on=date(2026, 11, 20),
                      amount=Decimal("1"), created_at=utcnow())
    await payment.save()
    result = await run(RunKind.export_payment, connection, payment_id=payment.id, invoice_id=invoice.id)
    assert result.failed == 1 and acme.remote_records("payment") == []
    issue = await SyncIssue.objects().where(SyncIssue.record_type == "payment").first()
    assert issue.record_id == payment.id and "Export the invoice" in issue.fix


async def test_time_entries_billed_by_an_invoice_follow_it_and_update_in_place(connection, acme):
    invoice = await _sent_invoice(connection)
    entry = TimeEntry(workspace=connection.workspace, customer=invoice.customer, person="Ada Lovelace",
                      person_email="ada@example.com", worked_on=date(2026, 11, 3), hours=Decimal("3"),
                      rate=Decimal("100.10"), invoice=invoice.id, created_at=utcnow(), updated_at=utcnow())
    await entry.save()
    await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert [r["hours"] for r in acme.remote_records("time")] == ["3"]
    await TimeEntry.update({TimeEntry.hours: Decimal("3.5")}).where(TimeEntry.id == entry.id)
    from ledgerbridge.sync.followers import export_time_entries
    from ledgerbridge.tables import Connection, Invoice

    queued = await jobs.enqueue(RunKind.export_invoice, workspace_id=connection.workspace)
    context = jobs.RunContext(run=await jobs.claim(queued.id, "t"), owner="t")
    fresh = await Connection.objects().where(Connection.id == connection.id).first()
    await export_time_entries(context, fresh, await Invoice.objects().where(Invoice.id == invoice.id).first())
    assert [r["hours"] for r in acme.remote_records("time")] == ["3.5"]


async def test_the_payload_preview_writes_nothing_anywhere(connection, acme):
    from ledgerbridge.sync.exporting import NOT_YET_CREATED, preview_invoice
    from ledgerbridge.tables import Connection, Invoice

    invoice = await _sent_invoice(connection, number="A-VERY-LONG-INVOICE-NUMBER-2026-0001")
    fresh = await Connection.objects().where(Connection.id == connection.id).first()
    data = await preview_invoice(fresh, await Invoice.objects().where(Invoice.id == invoice.id).first())
    assert data.customer_id == NOT_YET_CREATED and data.total == Decimal("300.30")
    assert data.number == "A-VER...BER-2026-0001" and len(data.number) == 21  # the provider's limit, shortened
    assert acme.remote_records("customer") == [] and await OutboundWrite.count() == 0


async def test_a_throttled_batch_is_sent_again_as_a_batch_not_one_by_one(connection, acme):
    """A 429 is the provider saying it did nothing: no lookups, no singles, no duplicates. The run
    waits the provider's Retry-After in place and sends the same batch again, without a new attempt."""
    invoices = [await _sent_invoice(connection, number=f"T-{n}") for n in range(12)]
    acme.THROTTLED_BATCHES[0] = 1
    acme.CALLS.clear()
    result = await _bulk(connection, invoices)
    assert result.state == RunState.done and result.failed == 0, result.error
    assert result.attempts == 1 and result.claims == 1
    invoice_calls = [call for call in acme.CALLS if call in ("export_invoices_batch", "find_invoice")]
    assert invoice_calls == ["export_invoices_batch"] * 3  # refused, then 10 + 2
    assert sorted(r["number"] for r in acme.remote_records("invoice")) == sorted(f"T-{n}" for n in range(12))


async def test_a_void_waits_for_the_payments_export_on_its_way_then_voids_it_there_once(connection, acme):
    invoice = await _sent_invoice(connection)
    await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    payment = Payment(workspace=connection.workspace, invoice=invoice.id, paid_on=date(2026, 11, 20),
                      amount=Decimal("40.00"), created_at=utcnow())
    await payment.save()
    # Another run sent the payment's export and has no answer yet.
    await OutboundWrite(workspace=connection.workspace, connection=connection.id, record_type="payment",
                        record_id=payment.id, operation="create", idempotency_key="lb-pay-on-its-way",
                        state=WriteState.uncertain, created_at=utcnow()).save()
    void = await jobs.enqueue(RunKind.void_payment, workspace_id=connection.workspace, connection_id=connection.id,
                              params={"payment_id": payment.id})
    await jobs.execute(void.id, owner="w")
    waiting = await SyncRun.objects().where(SyncRun.id == void.id).first()
    assert waiting.state == RunState.queued and "still on its way" in waiting.error, (waiting.state, waiting.error)
    assert acme.remote_records("payment") == []

    landed = await run(RunKind.export_payment, connection, payment_id=payment.id, invoice_id=invoice.id)
    assert landed.state == RunState.done and landed.created == 1, landed.error
    await SyncRun.update({SyncRun.not_before: None}).where(SyncRun.id == void.id)
    await jobs.execute(void.id, owner="w")
    done = await SyncRun.objects().where(SyncRun.id == void.id).first()
    assert done.state == RunState.done and done.updated == 1, done.error
    [there] = acme.remote_records("payment")
    assert there["status"] == "void"
    [remote_invoice] = acme.remote_records("invoice")
    assert Decimal(str(remote_invoice["balance"])) == invoice.total
    link = await ExternalLink.objects().where((ExternalLink.record_type == "payment")
                                              & (ExternalLink.record_id == payment.id)).first()
    assert link.state == "deleted_remote"
    again = await run(RunKind.void_payment, connection, payment_id=payment.id)
    assert again.state == RunState.done and again.skipped == 1 and again.updated == 0


@pytest.mark.parametrize("count", [3, 12])  # one batch; two batches side by side (lanes)
async def test_a_resumed_run_sends_the_payments_of_invoices_its_crashed_attempt_exported(connection, acme, count):
    """A worker killed after recording a batch's invoices but before their payments followed: the
    resumed attempt finds those invoices unchanged, and still sends their payments, once."""
    invoices = [await _sent_invoice(connection, number=f"R-{n}") for n in range(count)]
    first = await _bulk(connection, invoices)
    assert first.state == RunState.done, first.error
    for invoice in invoices[:2]:  # recorded here as the crashed attempt left them: no export of their own queued
        await Payment(workspace=connection.workspace, invoice=invoice.id, paid_on=date(2026, 11, 20),
                      amount=Decimal("100.10"), method="card", source="local", created_at=utcnow()).save()

    async def export(attempts_before: int) -> SyncRun:
        queued = await jobs.enqueue(RunKind.export_invoices, workspace_id=connection.workspace,
                                    connection_id=connection.id, params={"invoice_ids": [i.id for i in invoices]})
        await SyncRun.update({SyncRun.attempts: attempts_before}).where(SyncRun.id == queued.id)
        await jobs.execute(queued.id, owner="w")
        return await SyncRun.objects().where(SyncRun.id == queued.id).first()

    fresh = await export(0)  # a first attempt: unchanged invoices' followers went with them or on their own
    assert fresh.state == RunState.done and fresh.skipped == count
    assert acme.remote_records("payment") == []
    resumed = await export(1)
    assert resumed.state == RunState.done, resumed.error
    assert sorted(r["amount"] for r in acme.remote_records("payment")) == ["100.10", "100.10"]
    again = await export(1)  # exactly once: a second resumed attempt finds them sent
    assert again.state == RunState.done and len(acme.remote_records("payment")) == 2
