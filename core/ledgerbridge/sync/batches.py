"""One batch request of new invoices, seen through to the end inside the run.

A batch meets the provider's bad moments like a single request does, but its answer concerns many
invoices: a 429 means none was created, so the same batch goes again after the wait; a 5xx, a
timeout or a reset connection means any of them may have been created, so each is first looked up
by its number (those found are recorded as exported), and only the rest are sent again, still as a
batch. All of it happens in the run, with backoff and jitter (`retrying`), without spending the
run's attempts. Each batch's outcome is committed as it lands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ledgerbridge import connections
from ledgerbridge.errors import LedgerBridgeError, ProviderError, RateLimited
from ledgerbridge.jobs import RunContext, transaction
from ledgerbridge.provider import BatchOutcome, ExportResult, InvoiceData, RemoteInvoice
from ledgerbridge.sync.batch_session import BatchSession
from ledgerbridge.sync.links import settle_applied, settle_write
from ledgerbridge.sync.refusals import record_refusal
from ledgerbridge.sync.retrying import Retries
from ledgerbridge.tables import Connection, Invoice, OutboundWrite, RecordType, WriteState

Batch = list[tuple[Invoice, InvoiceData, OutboundWrite]]
# Writes exported invoices' side here, with `also` (the batch's own settling) in the same transaction.
Recorder = Callable[[RunContext, Connection, list[tuple[Invoice, InvoiceData, ExportResult]],
                     Callable[[], Awaitable[None]] | None], Awaitable[None]]
Follower = Callable[[RunContext, Connection, list[tuple[Invoice, ExportResult]]], Awaitable[None]]


async def send_batch(ctx: RunContext, connection: Connection, batch: Batch, record: Recorder,
                     follow: Follower) -> list[int]:
    """Send the batch until it is answered; returns the invoices to send one by one.

    `record` writes an exported invoice's side here (it may share a transaction), `follow` what comes
    after its commit (time entries, plugins).
    """
    settle = await send_batch_answered(ctx, connection, batch, record, follow)
    return await settle()


Settle = Callable[[], Awaitable[list[int]]]


async def send_batch_answered(ctx: RunContext, connection: Connection, batch: Batch, record: Recorder,
                              follow: Follower, session: BatchSession | None = None) -> Settle:
    """`send_batch` up to the provider's answer; the returned `settle()` writes that answer here
    (and follows it), returning the invoices to send one by one.

    Why apart: a run sending several batches at once writes an answer when its lanes are all in
    flight (`lanes.Lanes`), so the next request does not wait for the last one's bookkeeping. Until
    `settle()` commits, the batch's writes stay recorded as pending, as after a crash between the
    answer and its commit: the next attempt looks each invoice up by number before sending it.
    `session`: the run's provider session its lanes share (`batch_session`); else one per request.
    """
    retries = Retries(ctx)
    exported: list[tuple[Invoice, ExportResult]] = []
    again: list[int] = []
    answered: tuple[Batch, list[BatchOutcome]] | None = None
    while batch:
        await ctx.ensure_lease()
        try:
            invoices = [(data, None, write.idempotency_key) for _, data, write in batch]
            outcomes: list[BatchOutcome] = await (
                session.call("export_invoices_batch", invoices=invoices) if session is not None
                else connections.call(connection.id, "export_invoices_batch", invoices=invoices))
        except RateLimited as exc:  # nothing was done: the same batch goes again after the wait
            try:
                await retries.pause(exc)
            except RateLimited:
                for _, _, write in batch:
                    await settle_write(write, WriteState.failed, error=exc.message)
                raise
            continue
        except ProviderError as exc:
            if not exc.retryable:
                for invoice, _, write in batch:
                    await settle_write(write, WriteState.failed, error=exc.message)
                    await record_refusal(ctx, connection, RecordType.invoice, invoice.id, exc, mark_link=True,
                                         seen=True)
                break
            for _, _, write in batch:  # any of them may have landed: settled before anything is resent
                await settle_write(write, WriteState.uncertain, error=exc.message)
            await retries.pause(exc)
            batch, unnumbered = await _settle_by_number(ctx, connection, batch, record, exported)
            again.extend(unnumbered)
            continue
        answered = (batch, outcomes)
        break

    async def settle() -> list[int]:
        if answered is not None:
            again.extend(await _record_outcomes(ctx, connection, *answered, record, exported))
        await follow(ctx, connection, exported)
        return again

    return settle


async def _record_outcomes(ctx: RunContext, connection: Connection, batch: Batch, outcomes: list[BatchOutcome],
                           record: Recorder, exported: list[tuple[Invoice, ExportResult]]) -> list[int]:
    """Write each invoice's answer; returns those whose fate is unknown (sent one by one next).

    One commit for the whole batch's bookkeeping, in a few statements: the writes settled here go in
    the transaction `record` opens for the invoices' own side, so what `record` works out beforehand
    (links, events, warnings) is not done while holding SQLite's one write lock."""
    again: list[int] = []
    answered: list[tuple[Invoice, InvoiceData, OutboundWrite, ExportResult]] = []
    refused: list[tuple[Invoice, OutboundWrite, ProviderError | LedgerBridgeError]] = []
    for (invoice, data, write), outcome in zip(batch, outcomes, strict=True):
        if outcome.result is not None:
            answered.append((invoice, data, write, outcome.result))
            continue
        error = outcome.error
        refused.append((invoice, write, error if isinstance(error, LedgerBridgeError) else ProviderError(str(error))))

    async def settle() -> None:
        for invoice, write, failure in refused:
            if isinstance(failure, ProviderError) and failure.retryable:
                await settle_write(write, WriteState.uncertain, error=failure.message)
                again.append(invoice.id)
                continue
            await settle_write(write, WriteState.failed, error=failure.message)
            await record_refusal(ctx, connection, RecordType.invoice, invoice.id, failure, mark_link=True, seen=True)
        await settle_applied([(write, result.remote_id) for _, _, write, result in answered])

    await record(ctx, connection, [(invoice, data, result) for invoice, data, _, result in answered], settle)
    exported.extend((invoice, result) for invoice, _, _, result in answered)
    return again


async def _settle_by_number(ctx: RunContext, connection: Connection, batch: Batch, record: Recorder,
                            exported: list[tuple[Invoice, ExportResult]]) -> tuple[Batch, list[int]]:
    """Look each invoice of an unanswered batch up: record those found, keep the rest for resending.

    Returns (still to send in a batch, to send one by one): invoices without our number cannot be
    looked up and go alone with their own keys, and one found still a draft there goes alone to be
    finished (marked sent) rather than created again.
    """
    missing: Batch = []
    unnumbered: list[int] = []
    for invoice, data, write in batch:
        if not data.send_number:
            unnumbered.append(invoice.id)
            continue
        lookup = Retries(ctx)  # each lookup has its own tries: one bad minute must not end a batch of 250
        while True:
            try:
                found: RemoteInvoice | None = await connections.call(connection.id, "find_invoice",
                                                                     number=data.number)
                break
            except ProviderError as exc:
                if not exc.retryable:
                    raise
                await lookup.pause(exc)
        if found is None:
            missing.append((invoice, data, write))
            continue
        if found.status == "draft":  # created, but a later step is still to do: `outbound.write` finishes it
            unnumbered.append(invoice.id)
            continue
        result = ExportResult(remote_id=found.remote_id, version=found.version, number=found.number, created=True,
                              record=found)
        async with transaction():
            await settle_write(write, WriteState.applied, remote_id=found.remote_id)
            await record(ctx, connection, [(invoice, data, result)], None)
        exported.append((invoice, result))
    return missing, unnumbered
