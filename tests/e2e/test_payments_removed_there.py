"""A payment recorded by the bookkeeper in the books, read back here, then deleted there: the next
status poll keeps it here, voided and marked removed, on PostgreSQL (the month suite runs the
exported-payment case on SQLite), on every provider with a sandbox."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from ledgerbridge.tables import AuditEntry, ExternalLink, Invoice, OutboxEvent, Payment, RunKind, RunState
from ledgerbridge_testing.conformance import steps
from ledgerbridge_testing.world import open_world, providers_with_sandbox


@pytest.mark.parametrize("any_database", ["postgres"], indirect=True)
@pytest.mark.parametrize("provider", providers_with_sandbox())
async def test_a_payment_read_back_then_deleted_there_is_kept_voided_here(
        provider: str, any_database: str, jobs_run_in_the_test: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world(provider, monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        invoice = await steps.local_invoice(connection, "LB-910", amount="120.00")
        exported = await steps.run(RunKind.export_invoice, connection, invoice_id=invoice.id)
        assert exported.state == RunState.done, exported.error
        link = await steps.remote_of(connection, invoice)
        assert link is not None and link.remote_id
        world.accountant(connection.tenant_id, "record_payment", invoice_id=link.remote_id, amount="50.00")
        polled = await steps.run(RunKind.poll_status, connection)
        assert polled.state == RunState.done, polled.error
        [payment] = await Payment.objects().where(Payment.invoice == invoice.id)
        assert payment.source == provider and payment.amount == Decimal("50.00") and payment.voided_at is None
        payment_link = await ExternalLink.objects().where(
            (ExternalLink.connection == connection.id) & (ExternalLink.record_type == "payment")
            & (ExternalLink.record_id == payment.id)).first()
        assert payment_link is not None and payment_link.remote_id

        world.accountant(connection.tenant_id, "delete_payment", payment_id=payment_link.remote_id)
        polled = await steps.run(RunKind.poll_status, connection)
        assert polled.state == RunState.done, polled.error
        kept = await Payment.objects().where(Payment.id == payment.id).first()
        assert kept is not None and kept.voided_at is not None and kept.removed_in_provider == provider
        ours = await Invoice.objects().where(Invoice.id == invoice.id).first()
        assert ours is not None and ours.amount_paid == Decimal("0")
        assert await AuditEntry.count().where(AuditEntry.action == "payment.removed_in_provider") == 1
        [event] = await OutboxEvent.objects().where(OutboxEvent.type == "payment.voided")
        data = event.data if isinstance(event.data, dict) else json.loads(event.data)
        data = data.get("data", data)  # the envelope's `data`, or the data alone
        assert data["removed_in_provider"] == provider and data["amount_paid"] == "0.00", data
        again = await steps.run(RunKind.poll_status, connection)  # nothing new: nothing announced twice
        assert again.state == RunState.done, again.error
        assert await OutboxEvent.count().where(OutboxEvent.type == "payment.voided") == 1
