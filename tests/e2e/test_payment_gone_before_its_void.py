"""A payment voided here whose copy the bookkeeper had already deleted (or voided) in the books: the
void run finds it gone there, which is what the person wanted, so it ends done, with the payment
marked removed in the provider like a read-back would mark it, and no issue, failure or retry. On
both databases, for every provider with a sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledgerbridge.domain.payments.services import void_payment
from ledgerbridge.tables import (
    AuditEntry,
    ExternalLink,
    Invoice,
    OutboxEvent,
    Payment,
    RunKind,
    RunState,
    SyncIssue,
    SyncRun,
)
from ledgerbridge_testing.conformance import steps
from ledgerbridge_testing.world import open_world, providers_with_sandbox


def _cases() -> list[tuple[str, str]]:
    """Every provider with a payment deleted there; QuickBooks also with one voided there (it keeps those)."""
    return [(provider, "delete_payment") for provider in providers_with_sandbox()] + [
        ("quickbooks", "void_payment")]


@pytest.mark.parametrize("any_database", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(("provider", "action"), _cases())
async def test_a_void_run_that_finds_the_payment_gone_there_ends_done_and_marks_it_removed(
        provider: str, action: str, any_database: str, jobs_run_in_the_test: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world(provider, monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        made = await steps.exported_payment(connection, "LB-920")
        invoice, payment_id, link, caller = made.invoice, made.payment_id, made.link, steps.owner(connection)

        world.accountant(connection.tenant_id, action, payment_id=link.remote_id)  # the bookkeeper, first
        await void_payment(caller, payment_id=payment_id)  # then the host app, before any read-back
        [run] = await SyncRun.objects().where(
            (SyncRun.kind == RunKind.void_payment) & (SyncRun.state == RunState.queued))
        ended = await steps.finish(run.id)

        assert ended.state == RunState.done and not ended.error and ended.failed == 0, ended.error
        kept = await Payment.objects().where(Payment.id == payment_id).first()
        assert kept is not None and kept.voided_at is not None and kept.removed_in_provider == provider
        gone = await ExternalLink.objects().where(ExternalLink.id == link.id).first()
        assert gone is not None and gone.state == "deleted_remote" and "before LedgerBridge" in gone.message, gone
        assert await SyncIssue.count().where(
            (SyncIssue.record_type == "payment") & (SyncIssue.record_id == payment_id)
            & SyncIssue.resolved_at.is_null()) == 0
        [entry] = await AuditEntry.objects().where(AuditEntry.action == "payment.removed_in_provider")
        assert entry.target_id == str(payment_id)
        ours = await Invoice.objects().where(Invoice.id == invoice.id).first()
        assert ours is not None and ours.amount_paid == Decimal("0")
        # The host app heard of the void once, when it asked for it; the books changed nothing more.
        assert await OutboxEvent.count().where(OutboxEvent.type == "payment.voided") == 1
        again = await steps.run(RunKind.void_payment, connection, payment_id=payment_id)  # a resumed run
        assert again.state == RunState.done, again.error
        assert await AuditEntry.count().where(AuditEntry.action == "payment.removed_in_provider") == 1


@pytest.mark.parametrize("any_database", ["sqlite"], indirect=True)
async def test_a_void_whose_own_first_attempt_landed_is_a_plain_void_not_a_removal_there(
        any_database: str, jobs_run_in_the_test: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The void reached the books but its answer was lost: the retry finds the payment void there, and
    since that may be this run's own doing, the core records its own void, not the bookkeeper's."""
    with open_world("acme", monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        made = await steps.exported_payment(connection, "LB-921")
        payment_id, link, caller = made.payment_id, made.link, steps.owner(connection)

        world.fault("timeout_after_apply", path_prefix=f"/api/v1/companies/{connection.tenant_id}/payments/"
                    f"{link.remote_id}/void", method="POST", delay=0.2)
        await void_payment(caller, payment_id=payment_id)
        [run] = await SyncRun.objects().where(
            (SyncRun.kind == RunKind.void_payment) & (SyncRun.state == RunState.queued))
        ended = await steps.finish(run.id)

        assert ended.state == RunState.done and ended.failed == 0, ended.error
        kept = await Payment.objects().where(Payment.id == payment_id).first()
        assert kept is not None and kept.voided_at is not None and not kept.removed_in_provider
        after = await ExternalLink.objects().where(ExternalLink.id == link.id).first()
        assert after is not None and after.state == "deleted_remote" and "by LedgerBridge" in after.message, after
        assert await AuditEntry.count().where(AuditEntry.action == "payment.removed_in_provider") == 0
