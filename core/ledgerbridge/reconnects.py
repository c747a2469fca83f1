"""After a reconnect, the work the broken connection stopped picks up by itself.

While a connection cannot authenticate, every run against it fails with a token error, and invoices
sent meanwhile are not exported (auto-export needs a live connection). Both used to wait for a
person. The open token issue on the connection marks when it broke (`first_seen_at`); on reconnect,
the runs that failed since then (wholly, or for some of their records) are recorded again with the
same parameters (the failed ones stay in history), invoices sent since then are exported to the
books when it exports on send, and the token issues are resolved. It all commits in one transaction
with the runs it records.
"""

from __future__ import annotations

from datetime import datetime

from ledgerbridge import jobs
from ledgerbridge.db import write_transaction
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.tables import (
    Connection,
    ExternalLink,
    Invoice,
    InvoiceStatus,
    RecordType,
    RunKind,
    RunState,
    SyncIssue,
    SyncRun,
    utcnow,
)

BROKEN_CODES = ("token_expired", "token_revoked", "not_connected")
RESUMED_KINDS = (
    RunKind.export_invoice, RunKind.export_invoices, RunKind.export_customer, RunKind.export_payment,
    RunKind.void_payment, RunKind.import_all, RunKind.import_customers, RunKind.import_items, RunKind.import_accounts,
    RunKind.import_tax_rates, RunKind.poll_status,
)
BOOKS_ONLY_KINDS = (RunKind.export_invoice, RunKind.export_invoices, RunKind.export_customer, RunKind.export_payment,
                    RunKind.void_payment)


async def broken_since(connection_id: int) -> datetime | None:
    """When the connection's first open token issue (on the connection, or on a record a run could
    not send) was first seen; None when it is not broken."""
    issue = await SyncIssue.objects().where(
        (SyncIssue.connection == connection_id) & SyncIssue.code.is_in(list(BROKEN_CODES))
        & SyncIssue.resolved_at.is_null()
    ).order_by(SyncIssue.first_seen_at).first()
    return issue.first_seen_at if issue is not None else None


async def resume_after_reconnect(connection: Connection) -> list[SyncRun]:
    """Record again what failed while the connection was broken; returns the runs recorded."""
    since = await broken_since(connection.id)
    if since is None:
        return []
    failed = await SyncRun.objects().where(
        (SyncRun.connection == connection.id)
        & ((SyncRun.state == RunState.failed) | ((SyncRun.state == RunState.done) & (SyncRun.failed > 0)))
        & SyncRun.kind.is_in(list(RESUMED_KINDS)) & (SyncRun.finished_at >= since)
    ).order_by(SyncRun.id)
    runs: list[SyncRun] = []
    async with jobs.transaction() as tx:
        seen: set[tuple[str, str]] = set()
        for run in failed:
            if run.kind in BOOKS_ONLY_KINDS and not connection.is_books:
                continue
            if (run.kind, run.params) in seen:
                continue  # the same export failed several times: once is enough
            seen.add((run.kind, run.params))
            runs.append(await tx.record(
                RunKind(run.kind), workspace_id=connection.workspace, connection_id=connection.id,
                params=jobs.loads(run.params), trigger=f"reconnect:{run.id}", progress_total=run.progress_total,
            ))
        if connection.is_books and connection.auto_export_on_send:
            missed = await _sent_while_broken(connection, since)
            if missed:
                runs.append(await tx.record(
                    RunKind.export_invoices, workspace_id=connection.workspace, connection_id=connection.id,
                    params={"invoice_ids": missed}, trigger="reconnect", progress_total=len(missed),
                ))
                await Invoice.update({Invoice.locked: True, Invoice.updated_at: utcnow()}).where(
                    Invoice.id.is_in(missed))
        async with write_transaction():
            closed = await SyncIssue.update({SyncIssue.resolved_at: utcnow()}).where(
                (SyncIssue.connection == connection.id) & SyncIssue.code.is_in(list(BROKEN_CODES))
                & SyncIssue.resolved_at.is_null()
            ).returning(SyncIssue.id)
            for issue in await SyncIssue.objects().where(SyncIssue.id.is_in([row["id"] for row in closed] or [0])):
                await emit(records.issue_changed(False, issue))
    return runs


async def _sent_while_broken(connection: Connection, since: datetime) -> list[int]:
    """Invoices sent since the connection broke that have no copy in it."""
    rows = await Invoice.select(Invoice.id).where(
        (Invoice.workspace == connection.workspace) & (Invoice.status == InvoiceStatus.sent)
        & (Invoice.sent_at >= since)
        & Invoice.id.not_in(
            ExternalLink.select(ExternalLink.record_id).where(
                (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.invoice)
                & ExternalLink.remote_id.is_not_null()
            )
        )
    ).order_by(Invoice.id)
    return [row["id"] for row in rows]
