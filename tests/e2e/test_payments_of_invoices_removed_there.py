"""A payment here whose invoice the bookkeeper voids or deletes in the books: the next read-back
judges it by what that provider does with such payments, on both databases, for every provider with
a sandbox.

- QuickBooks keeps them, unapplied, as the customer's credit: the payment stays counted here, its link
  says so, and an issue on it asks a person to decide.
- Xero refuses to void an invoice with payments, so the bookkeeper deletes the payment first: it is
  gone there, and is voided here like any payment removed there.
- FreshBooks and Acme still list the payment against the deleted or void invoice: kept here, with
  the same issue.
Nothing is announced twice on the next read.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from ledgerbridge.sync.payment_removals import PAYMENT_ON_REMOVED_INVOICE
from ledgerbridge.tables import (
    AuditEntry,
    ExternalLink,
    Invoice,
    OutboxEvent,
    Payment,
    RunKind,
    RunState,
    SyncIssue,
)
from ledgerbridge_testing.conformance import steps
from ledgerbridge_testing.world import open_world, providers_with_sandbox

# (provider, what the bookkeeper does to the invoice, what the payment here becomes)
CASES = [
    ("quickbooks", "void_invoice", "kept"),
    ("quickbooks", "delete_invoice", "kept"),
    ("xero", "void_invoice", "removed"),
    ("freshbooks", "delete_invoice", "kept"),
    ("acme", "void_invoice", "kept"),
    ("acme", "delete_invoice", "kept"),
]


@pytest.mark.parametrize("any_database", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize(("provider", "action", "becomes"),
                         [case for case in CASES if case[0] in providers_with_sandbox()])
async def test_a_payment_on_an_invoice_voided_or_deleted_there_ends_in_a_true_state(
        provider: str, action: str, becomes: str, any_database: str, jobs_run_in_the_test: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with open_world(provider, monkeypatch) as world:
        connection = await steps.imported(world)
        await steps.map_everything(connection)
        made = await steps.exported_payment(connection, "LB-930")
        invoice, link = made.invoice, made.link
        remote_invoice = await steps.remote_of(connection, invoice)
        assert remote_invoice is not None and remote_invoice.remote_id
        polled = await steps.run(RunKind.poll_status, connection)  # the books and here agree: 50.00 paid
        assert polled.state == RunState.done, polled.error

        if provider == "xero":  # Xero voids only an invoice without payments: the bookkeeper removes it first
            world.accountant(connection.tenant_id, "delete_payment", payment_id=link.remote_id)
        world.accountant(connection.tenant_id, action, invoice_id=remote_invoice.remote_id)
        polled = await steps.run(RunKind.poll_status, connection)
        assert polled.state == RunState.done, polled.error

        kept = await Payment.objects().where(Payment.id == made.payment_id).first()
        ours = await Invoice.objects().where(Invoice.id == invoice.id).first()
        after = await ExternalLink.objects().where(ExternalLink.id == link.id).first()
        assert kept is not None and ours is not None and after is not None
        issues = await SyncIssue.objects().where(
            (SyncIssue.record_type == "payment") & (SyncIssue.record_id == made.payment_id)
            & SyncIssue.resolved_at.is_null())
        removals = await AuditEntry.count().where(AuditEntry.action == "payment.removed_in_provider")
        voided_events = await OutboxEvent.objects().where(OutboxEvent.type == "payment.voided")
        if becomes == "kept":  # still in the books: counted here, and a person is asked to decide
            assert kept.voided_at is None and not kept.removed_in_provider
            assert ours.amount_paid == Decimal("50.00")
            assert after.state == "warning" and invoice.number in after.message and "50.00" in after.message, after
            [issue] = issues
            assert issue.code == PAYMENT_ON_REMOVED_INVOICE and issue.fix and "refund" in issue.fix, issue
            assert ("unapplied credit" in issue.message) == (provider == "quickbooks"), issue.message
            assert removals == 0 and voided_events == []
        else:  # gone there with the invoice: voided here, marked, audited, announced
            assert kept.voided_at is not None and kept.removed_in_provider == provider
            assert ours.amount_paid == Decimal("0")
            assert after.state == "deleted_remote" and "went with it" in after.message, after
            assert issues == [] and removals == 1
            [event] = voided_events
            data = event.data if isinstance(event.data, dict) else json.loads(event.data)
            assert data.get("data", data)["removed_in_provider"] == provider

        again = await steps.run(RunKind.poll_status, connection, remote_ids=[remote_invoice.remote_id])
        assert again.state == RunState.done, again.error
        assert await OutboxEvent.count().where(OutboxEvent.type.is_in(["payment.voided", "issue.opened"])) == len(
            voided_events) + (1 if becomes == "kept" else 0)
        assert await AuditEntry.count().where(AuditEntry.action == "payment.removed_in_provider") == removals
        if becomes == "kept":
            [issue] = await SyncIssue.objects().where(SyncIssue.code == PAYMENT_ON_REMOVED_INVOICE)
            assert issue.times == 1, "told once, not at every read"
