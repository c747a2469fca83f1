"""A payment the bookkeeper recorded in QuickBooks, read back here, then edited there to another
amount: the next read keeps the first amount on record (voided, removed in the provider) and records
the new one, with the audit entry and both events, once. A payment recorded here and sent there keeps
its amount whatever the books apply of it. On both databases."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from ledgerbridge.tables import AuditEntry, ExternalLink, Invoice, OutboxEvent, Payment
from ledgerbridge_testing.conformance import steps
from ledgerbridge_testing.world import open_world


def _data(event: OutboxEvent) -> dict:
    data = event.data if isinstance(event.data, dict) else json.loads(event.data)
    return data.get("data", data)


@pytest.mark.parametrize("any_database", ["sqlite", "postgres"], indirect=True)
async def test_an_amount_changed_there_replaces_the_payment_here_once(
        any_database: str, jobs_run_in_the_test: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world("quickbooks", monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        [(invoice, link)] = await steps.exported_invoices(connection, ("LB-940", "120.00"))
        world.accountant(connection.tenant_id, "record_payment", invoice_id=link.remote_id, amount="50.00")
        await steps.polled(connection)
        [first] = await Payment.objects().where(Payment.invoice == invoice.id)
        payment_link = await ExternalLink.objects().where(
            (ExternalLink.record_type == "payment") & (ExternalLink.record_id == first.id)).first()
        assert payment_link is not None and first.amount == Decimal("50.00")

        world.accountant(connection.tenant_id, "edit_payment", payment_id=payment_link.remote_id,
                         invoice_id=link.remote_id, amount="70.00")
        await steps.polled(connection)
        old, new = await Payment.objects().where(Payment.invoice == invoice.id).order_by(Payment.id)
        assert old.id == first.id and old.amount == Decimal("50.00")
        assert old.voided_at is not None and old.removed_in_provider == "quickbooks"
        assert new.amount == Decimal("70.00") and new.voided_at is None and new.source == "quickbooks"
        moved = await ExternalLink.objects().where(ExternalLink.id == payment_link.id).first()
        assert moved is not None and moved.record_id == new.id and moved.state == "synced"
        assert moved.remote_id == payment_link.remote_id and "50.00" in moved.message
        ours = await Invoice.objects().where(Invoice.id == invoice.id).first()
        assert ours is not None and ours.amount_paid == Decimal("70.00")
        [entry] = await AuditEntry.objects().where(AuditEntry.action == "payment.changed_in_provider")
        assert entry.target_id == str(old.id)
        [voided] = await OutboxEvent.objects().where(OutboxEvent.type == "payment.voided")
        assert _data(voided)["payment_id"] == old.id and _data(voided)["removed_in_provider"] == "quickbooks"
        assert _data(voided)["amount_paid"] == "0.00"
        recorded = await OutboxEvent.objects().where(OutboxEvent.type == "payment.recorded").order_by(OutboxEvent.id)
        assert [_data(event)["amount"] for event in recorded] == ["50.00", "70.00"]

        await steps.polled(connection)  # agreeing now: nothing more
        assert await Payment.count().where(Payment.invoice == invoice.id) == 2
        assert await OutboxEvent.count().where(OutboxEvent.type == "payment.recorded") == 2


@pytest.mark.parametrize("any_database", ["sqlite"], indirect=True)
async def test_a_share_changed_there_replaces_that_share_only(
        any_database: str, jobs_run_in_the_test: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world("quickbooks", monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        (first, first_link), (second, second_link) = await steps.exported_invoices(
            connection, ("LB-941", "120.00"), ("LB-942", "80.00"))
        world.accountant(connection.tenant_id, "record_payment", invoice_id=first_link.remote_id, amount="60.00",
                         also_invoice_id=second_link.remote_id, also_amount="20.00")
        await steps.polled(connection)
        base = await ExternalLink.objects().where(
            (ExternalLink.record_type == "payment") & ExternalLink.remote_id.not_like("%@%")).first()
        assert base is not None

        world.accountant(connection.tenant_id, "edit_payment", payment_id=base.remote_id,
                         invoice_id=second_link.remote_id, amount="35.00")
        await steps.polled(connection)
        [kept] = await Payment.objects().where(Payment.invoice == first.id)
        assert kept.amount == Decimal("60.00") and kept.voided_at is None
        old, new = await Payment.objects().where(Payment.invoice == second.id).order_by(Payment.id)
        assert (old.amount, old.voided_at is not None, new.amount, new.voided_at) == (
            Decimal("20.00"), True, Decimal("35.00"), None)


@pytest.mark.parametrize("any_database", ["sqlite"], indirect=True)
async def test_a_payment_sent_from_here_keeps_its_amount(
        any_database: str, jobs_run_in_the_test: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world("quickbooks", monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        made = await steps.exported_payment(connection, "LB-943", amount="50.00")
        invoice_link = await steps.remote_of(connection, made.invoice)
        assert invoice_link is not None
        world.accountant(connection.tenant_id, "edit_payment", payment_id=made.link.remote_id,
                         invoice_id=invoice_link.remote_id, amount="40.00")
        await steps.polled(connection)
        [payment] = await Payment.objects().where(Payment.invoice == made.invoice.id)
        assert payment.id == made.payment_id and payment.amount == Decimal("50.00") and payment.voided_at is None
        assert await AuditEntry.count().where(AuditEntry.action == "payment.changed_in_provider") == 0
