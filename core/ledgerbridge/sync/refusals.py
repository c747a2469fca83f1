"""A record the provider refuses becomes an issue on that record, and the rest of the run goes on.

What a retry may cure (a timeout, an outage, a rate limit) is raised again so the run is retried
as a whole; anything else (an unmapped item, a taken number, a closed period) needs a person, so
it is written as an open issue on the record, counted as failed, and the run moves to the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ledgerbridge.errors import LedgerBridgeError, ProviderError
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.issues import issue_from_error
from ledgerbridge.jobs import LeaseLost, RunContext, transaction
from ledgerbridge.sync.links import get_link, set_link_state
from ledgerbridge.sync.run_records import note
from ledgerbridge.tables import Connection, Invoice, LinkState, RecordType


@dataclass
class Refusal:
    """Filled in when the guarded step was refused; empty when it went through."""

    error: LedgerBridgeError | None = None


@asynccontextmanager
async def refusals_become_issues(
    ctx: RunContext, connection: Connection, record_type: str, record_id: int, *,
    catch: type[LedgerBridgeError] = LedgerBridgeError, about: str = "", mark_link: bool = False,
    seen: bool = False,
) -> AsyncIterator[Refusal]:
    """Guard one record's step: a retryable provider error escapes, any other `catch` error is
    recorded on the record (prefixed by `about`, the link marked in error when `mark_link`)."""
    refusal = Refusal()
    try:
        yield refusal
    except catch as exc:
        if isinstance(exc, ProviderError) and exc.retryable:
            raise
        if about:
            exc.message = f"{about}: {exc.message}"
        refusal.error = exc
        await record_refusal(ctx, connection, record_type, record_id, exc, mark_link=mark_link, seen=seen)


async def record_refusal(ctx: RunContext, connection: Connection, record_type: str, record_id: int,
                         error: LedgerBridgeError, *, mark_link: bool = False, seen: bool = False) -> None:
    """Write a refused record's issue and its failed outcome on the run."""
    link = await get_link(connection.id, record_type, record_id)
    async with transaction():  # the issue, the link's state and the event commit together
        if mark_link and link is not None:
            await set_link_state(link, LinkState.error, error.message)
        await issue_from_error(error, workspace_id=connection.workspace, connection_id=connection.id,
                               record_type=record_type, record_id=record_id, run_id=ctx.run.id)
        if record_type == RecordType.invoice:
            invoice = await Invoice.objects().where(Invoice.id == record_id).first()
            if invoice is not None:
                await emit(records.invoice_export_failed(connection, invoice, error))
    await note(ctx, record_type, record_id, link.remote_id if link else None, "failed", error.message, seen=seen)


@asynccontextmanager
async def failures_land_on_invoices(ctx: RunContext, connection: Connection, invoice_ids: Sequence[int],
                                    done: Sequence[int]) -> AsyncIterator[None]:
    """Guard a run over invoices: an error that ends the run (not the provider's transient trouble,
    which the run waits out) is recorded on each invoice it leaves unexported, not only on the
    connection, so each invoice says why it did not go and what to do."""
    try:
        yield
    except LeaseLost:
        raise
    except Exception as exc:
        if isinstance(exc, ProviderError) and exc.retryable:
            raise
        error = exc if isinstance(exc, LedgerBridgeError) else LedgerBridgeError(
            f"The export stopped on an unexpected error: {exc.__class__.__name__}: {exc}")
        for invoice_id in [i for i in invoice_ids if i not in done]:
            await record_refusal(ctx, connection, RecordType.invoice, invoice_id, error, mark_link=True, seen=True)
        raise
