"""One QuickBooks payment that pays two exported invoices (one cheque, "Receive payment" with a line
per invoice): each invoice here shows its own share as a payment, both are counted, a deletion there
voids both here, and voiding one share here is not sent (QuickBooks would void the other invoice's
share with it) but leaves an issue saying what to do there."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledgerbridge.domain.payments.services import void_payment
from ledgerbridge.sync.shared_payments import SHARED_PAYMENT, share_key
from ledgerbridge.tables import ExternalLink, Invoice, Payment, RunKind, RunState, SyncIssue, SyncRun
from ledgerbridge_testing.conformance import steps
from ledgerbridge_testing.world import open_world


async def _payments(invoice: Invoice) -> list[Payment]:
    return await Payment.objects().where(Payment.invoice == invoice.id).order_by(Payment.id)


@pytest.mark.parametrize("any_database", ["sqlite"], indirect=True)
async def test_one_payment_for_two_invoices_is_a_share_on_each_and_goes_with_its_deletion(
        any_database: str, jobs_run_in_the_test: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world("quickbooks", monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        (first, first_link), (second, second_link) = await steps.exported_invoices(
            connection, ("LB-930", "120.00"), ("LB-931", "80.00"))
        world.accountant(connection.tenant_id, "record_payment", invoice_id=first_link.remote_id,
                                  amount="120.00", also_invoice_id=second_link.remote_id, also_amount="30.00")
        await steps.polled(connection)

        [on_first], [on_second] = await _payments(first), await _payments(second)
        assert (on_first.amount, on_second.amount) == (Decimal("120.00"), Decimal("30.00"))
        keys = {row["record_id"]: row["remote_id"] for row in await ExternalLink.select(
            ExternalLink.record_id, ExternalLink.remote_id).where(ExternalLink.record_type == "payment")}
        payment_id = keys[on_first.id]  # the first invoice read keeps QuickBooks' own payment id
        assert keys == {on_first.id: payment_id, on_second.id: share_key(payment_id, second_link.remote_id)}
        assert payment_id in [row["Id"] for row in world.table(connection.tenant_id, "Payments")]
        paid = {row.id: row for row in await Invoice.objects().where(Invoice.id.is_in([first.id, second.id]))}
        assert paid[first.id].amount_paid == Decimal("120.00") and paid[first.id].locked
        assert paid[second.id].amount_paid == Decimal("30.00")

        await steps.polled(connection)  # read again: nothing doubles
        assert len(await _payments(first)) == 1 and len(await _payments(second)) == 1

        world.accountant(connection.tenant_id, "delete_payment", payment_id=payment_id)
        await steps.polled(connection)
        for invoice in (first, second):
            [kept] = await _payments(invoice)
            assert kept.voided_at is not None and kept.removed_in_provider == "quickbooks"
            ours = await Invoice.objects().where(Invoice.id == invoice.id).first()
            assert ours is not None and ours.amount_paid == Decimal("0")


@pytest.mark.parametrize("any_database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("voided_first", ["share", "first read"])
async def test_voiding_one_share_here_is_not_sent_and_says_what_to_do_there(
        voided_first: str, any_database: str, jobs_run_in_the_test: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world("quickbooks", monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        (first, first_link), (second, second_link) = await steps.exported_invoices(
            connection, ("LB-930", "120.00"), ("LB-931", "80.00"))
        world.accountant(connection.tenant_id, "record_payment", invoice_id=first_link.remote_id, amount="50.00",
                         also_invoice_id=second_link.remote_id, also_amount="30.00")
        await steps.polled(connection)
        [on_first], [on_second] = await _payments(first), await _payments(second)
        one, other = (on_second, on_first) if voided_first == "share" else (on_first, on_second)
        number, other_number = ("LB-931", "LB-930") if voided_first == "share" else ("LB-930", "LB-931")

        await void_payment(steps.owner(connection), payment_id=one.id)
        assert await SyncRun.count().where(SyncRun.kind == RunKind.void_payment) == 0
        [issue] = await SyncIssue.objects().where(
            (SyncIssue.record_type == "payment") & (SyncIssue.record_id == one.id) & SyncIssue.resolved_at.is_null())
        assert issue.code == SHARED_PAYMENT and other_number in issue.message and number in issue.fix
        await steps.polled(connection)  # still applied there: the share stays voided here, not mirrored again
        [still] = await Payment.objects().where(Payment.invoice == one.invoice)
        assert still.voided_at is not None and still.id == one.id
        counted = await Invoice.objects().where(Invoice.id == other.invoice).first()
        assert counted is not None and counted.amount_paid == other.amount

        # Once no other invoice here counts it, the last share's void is sent: QuickBooks voids the payment.
        await void_payment(steps.owner(connection), payment_id=other.id)
        [run] = await SyncRun.objects().where(SyncRun.kind == RunKind.void_payment)
        ended = await steps.finish(run.id)
        assert ended.state == RunState.done and not ended.error, ended.error
        link = await ExternalLink.objects().where(
            (ExternalLink.record_type == "payment") & (ExternalLink.record_id == other.id)).first()
        assert link is not None and link.state == "deleted_remote"
        payment_id = link.remote_id.split("@")[0]
        [there] = [row for row in world.table(connection.tenant_id, "Payments") if row["Id"] == payment_id]
        assert there["Amount"] == "0.00" and there["SyncToken"] == "1", there  # QuickBooks' void zeroes it
