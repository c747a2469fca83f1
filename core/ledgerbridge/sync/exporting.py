"""Exporting invoices (and the customers and items they need) exactly once.

An export walks the invoice's dependencies first: its customer and each item get created in the
provider if they are not linked yet. Every write is recorded with its idempotency key before it
is sent (`links.prepare_write`); an answer settles it. A write left pending by a crash, or
uncertain after a timeout, is resent with the same key where the provider replays keys, and is
first looked up by invoice number where it does not, so nothing is ever created twice.

Drafts are never exported. Failures that need a person (an unmapped item, a taken number) end as
a `SyncIssue` on the invoice and leave the rest of a bulk export going.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledgerbridge import books, connections
from ledgerbridge.db import fetch_raw, marks, read_transaction
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.events import records
from ledgerbridge.events.catalogue import Event
from ledgerbridge.events.outbox import record_events
from ledgerbridge.issues import resolve_many
from ledgerbridge.jobs import RunContext, transaction
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import ExportResult, InvoiceData, InvoiceLineData, RemoteInvoice
from ledgerbridge.sync import withdrawal
from ledgerbridge.sync.batch_session import BatchSession
from ledgerbridge.sync.batches import send_batch, send_batch_answered
from ledgerbridge.sync.claims import WrittenElsewhere, claim_new_writes, claim_write
from ledgerbridge.sync.dependencies import ensure_customer, ensure_item
from ledgerbridge.sync.followers import export_payments_of, export_time_entries
from ledgerbridge.sync.invoice_facts import InvoiceFacts, load_facts
from ledgerbridge.sync.lanes import Ahead, Lanes
from ledgerbridge.sync.links import LinkValues, fingerprint, link_ref, save_links
from ledgerbridge.sync.outbound import is_retry, write
from ledgerbridge.sync.refusals import failures_land_on_invoices, refusals_become_issues
from ledgerbridge.sync.run_records import note, note_many
from ledgerbridge.sync.tax_mapping import recomputed_tax_warning, refuse_untaxed_lines
from ledgerbridge.tables import (
    Connection,
    ExternalLink,
    Invoice,
    InvoiceStatus,
    LinkState,
    OutboundWrite,
    Payment,
    RecordType,
    TimeEntry,
    WriteState,
    utcnow,
)


async def _let_others_in() -> None:
    """Give the event loop a turn between a batch's invoices. Why: a batch's checks ran about fifteen
    milliseconds of Python without waiting for anything, and the run's other lanes waited that long to
    go on, one of them while holding SQLite's one write lock, which every other lane then waited for.
    Those stretches, not the work itself, set the pace of an export's sends."""
    await asyncio.sleep(0)


class InvoiceIsDraft(LedgerBridgeError):
    code = "validation_failed"


NOT_YET_CREATED = "(created on export)"


async def preview_invoice(connection: Connection, invoice: Invoice) -> InvoiceData:
    """What an export would send, without sending or creating anything: the payload preview.

    Customers and items not in the provider yet show as NOT_YET_CREATED; the export creates them.
    """
    return await build_invoice_data(None, connection, invoice)


async def build_invoice_data(ctx: RunContext | None, connection: Connection, invoice: Invoice,
                             facts: InvoiceFacts | None = None) -> InvoiceData:
    """The invoice as the provider will get it. With a run context, missing customers and items are
    created in the provider on the way; without one (a preview) nothing is written anywhere.

    `facts`: what a batch's export read for all its invoices at once (`invoice_facts`)."""
    if facts is None:
        facts = await load_facts(connection, [invoice.id])
    caps = get_registry().provider(connection.provider).capabilities
    customer_remote = await _dependency(ctx, connection, facts, RecordType.customer, invoice.customer)
    line_data = []
    for line in facts.lines.get(invoice.id, []):
        item_remote, item_name, account_remote = None, "", None
        if line.item:
            item = facts.items.get(line.item)
            assert item is not None, "an invoice line's item is never deleted (archived instead)"
            item_remote = await _dependency(ctx, connection, facts, RecordType.item, item.id)
            item_name = item.name
        tax_remote, tax_name = None, ""
        if line.tax_rate:  # an unmapped rate is refused before this (`check_invoice_taxes`)
            tax = facts.taxes.get(line.tax_rate)
            rate = facts.rates.get(line.tax_rate)
            tax_remote, tax_name = (tax.remote_id if tax else None), (tax.name if tax else rate.name if rate else "")
        line_data.append(InvoiceLineData(
            description=line.description, quantity=line.quantity, unit_price=line.unit_price,
            line_total=line.line_total, item_id=item_remote, item_name=item_name,
            income_account_id=account_remote, tax_rate_id=tax_remote, tax_rate_name=tax_name,
            tax_amount=line.tax_amount or Decimal("0"),
        ))
    customer = facts.customers[invoice.customer]
    number, send_number, _ = await withdrawal.reissue(connection, invoice, caps.invoice_number_max_length,
                                                      facts.taken.get(invoice.id, 0))
    return InvoiceData(
        local_id=invoice.id, number=number, customer_id=customer_remote, issue_date=invoice.issue_date,
        due_date=invoice.due_date, currency=invoice.currency, lines=tuple(line_data), subtotal=invoice.subtotal,
        tax_total=invoice.tax_total, total=invoice.total, memo=invoice.memo, customer_email=customer.email,
        send_number=send_number,
    )


async def _dependency(ctx: RunContext | None, connection: Connection, facts: InvoiceFacts, record_type: str,
                      record_id: int) -> str:
    """The provider's id of the invoice's customer or an item: linked already, created now (with a run
    context), or NOT_YET_CREATED in a preview."""
    if ctx is None:
        link = facts.link(record_type, record_id)
        return link.remote_id if link is not None and link.remote_id else NOT_YET_CREATED
    remote = facts.current_remote(record_type, record_id)
    if remote is not None:
        return remote
    if record_type == RecordType.customer:
        remote = await ensure_customer(ctx, connection, record_id)
    else:
        remote = await ensure_item(ctx, connection, facts.items[record_id])
    facts.learned(record_type, record_id, remote)
    return remote


def remote_summary(remote: RemoteInvoice | None) -> dict[str, object]:
    if remote is None:
        return {}
    return {
        "status": remote.status, "raw_status": remote.raw_status, "number": remote.number,
        "issue_date": remote.issue_date, "due_date": remote.due_date, "currency": remote.currency,
        "total": str(remote.total), "balance": str(remote.balance), "deep_link": remote.deep_link,
        "payments": [{"id": p.remote_id, "paid_on": p.paid_on, "amount": str(p.amount)} for p in remote.payments],
    }


async def _ready(ctx: RunContext, connection: Connection, invoice_id: int,
                 facts: InvoiceFacts | None = None) -> tuple[Invoice, InvoiceData, ExternalLink | None] | None:
    """Check an invoice and create what it needs in the provider; None when it is unchanged there.

    `facts`: read beforehand for the invoice's whole batch (`invoice_facts`); else read now."""
    if facts is None:
        facts = await load_facts(connection, [invoice_id])
    invoice = facts.invoices.get(invoice_id)
    if invoice is None:
        raise LedgerBridgeError(f"Invoice {invoice_id} does not exist in this workspace.")
    if invoice.status == InvoiceStatus.draft:
        raise InvoiceIsDraft(
            f"Invoice {invoice.number} is a draft; drafts are never exported.",
            fix="Finalize or send the invoice, then export it.",
        )
    refuse_untaxed_lines(connection, invoice, facts.lines.get(invoice_id, []), facts.rates, facts.taxes)
    data = await build_invoice_data(ctx, connection, invoice, facts)
    link = facts.link(RecordType.invoice, invoice.id)
    if link is not None and link.remote_id and link.fingerprint == fingerprint(data) and link.state == LinkState.synced:
        await _record(ctx, invoice.id, link.remote_id, "skipped", "Unchanged since the last export.")
        return None
    return invoice, data, link


async def export_invoice(ctx: RunContext, connection: Connection, invoice_id: int) -> str:
    """Export one invoice; returns the outcome recorded for it (created, updated, skipped, failed)."""
    async with refusals_become_issues(ctx, connection, RecordType.invoice, invoice_id, mark_link=True,
                                      seen=True) as refusal:
        ready = await _ready(ctx, connection, invoice_id)
    if refusal.error is not None:
        return "failed"
    if ready is None:
        await _follow_unchanged(ctx, connection, [invoice_id])
        return "skipped"
    outcome, result = await _write_invoice(ctx, connection, *ready)
    if result is not None:
        await _after_export(ctx, connection, [(ready[0], result)])
    return outcome


async def _write_invoice(ctx: RunContext, connection: Connection, invoice: Invoice, data: InvoiceData,
                         link: ExternalLink | None) -> tuple[str, ExportResult | None]:
    """Send a prepared invoice; its outcome, and the result when it went (its followers are the caller's).

    Touches no other record than the invoice, so several may run at once (`lanes`)."""
    operation = "update" if link_ref(link) else "create"

    async def record(result: ExportResult) -> None:
        await _record_exported(ctx, connection, [(invoice, data, result)], None)

    async with refusals_become_issues(ctx, connection, RecordType.invoice, invoice.id, mark_link=True,
                                      seen=True) as refusal:
        try:
            result = await write(ctx, connection, RecordType.invoice, invoice.id, operation, "export_invoice",
                                 number=data.number if data.send_number else None, record=record, invoice=data,
                                 link=link_ref(link))
        except WrittenElsewhere as elsewhere:
            await _record(ctx, invoice.id, elsewhere.link.remote_id, "skipped",
                          "Exported by another run at the same moment.")
            return "skipped", None
    if refusal.error is not None:
        return "failed", None
    return ("created" if result.created else "updated"), result


Prepared = list[tuple[Invoice, InvoiceData, OutboundWrite]]


@dataclass
class Checked:
    """A chunk of invoices checked, with what they need created in the provider, but nothing of
    theirs claimed yet: the fresh creates that may ride in one batch, and those to send one by one."""

    fresh: dict[int, tuple[Invoice, InvoiceData]] = field(default_factory=dict)
    singles: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # already in the provider as they are here


async def check_batch(ctx: RunContext, connection: Connection, invoice_ids: list[int]) -> Checked:
    """Check each invoice of a chunk and create what it needs (customers, items); claims nothing.

    Only fresh creates may ride in a batch. Updates need each invoice's own version, and a create
    that may already have landed must be looked up first, so both go one by one. What the checks
    read is read for the whole chunk at once (`invoice_facts`)."""
    facts = await load_facts(connection, invoice_ids)
    checked = Checked()
    for invoice_id in invoice_ids:
        await _let_others_in()
        ready = None
        async with refusals_become_issues(ctx, connection, RecordType.invoice, invoice_id, mark_link=True,
                                          seen=True) as refusal:
            ready = await _ready(ctx, connection, invoice_id, facts)
        if ready is None:
            if refusal.error is None:
                checked.unchanged.append(invoice_id)
            continue
        invoice, data, link = ready
        if link_ref(link) is not None:
            checked.singles.append(invoice_id)
        else:
            checked.fresh[invoice_id] = (invoice, data)
    return checked


async def claim_batch(ctx: RunContext, checked: Checked, connection: Connection) -> tuple[Prepared, list[int]]:
    """Claim the checked fresh creates' writes in one transaction (`claims.claim_new_writes`),
    committed before the batch is sent; returns the batch and the invoices to send one by one."""
    singles = list(checked.singles)
    claims = await claim_new_writes(ctx, connection, RecordType.invoice, list(checked.fresh))
    batch: Prepared = []
    for invoice_id, (invoice, data) in checked.fresh.items():
        claimed = claims.ours.get(invoice_id)
        try:
            if invoice_id in claims.written:
                raise WrittenElsewhere(claims.written[invoice_id])
            if claimed is None:  # an open write: decided as for one invoice (another run's, or to settle)
                claimed = await claim_write(ctx, connection, RecordType.invoice, invoice_id, "create", wait=False)
        except WrittenElsewhere as elsewhere:
            await _record(ctx, invoice_id, elsewhere.link.remote_id, "skipped",
                          "Exported by another run at the same moment.")
            continue
        if claimed is None or is_retry(ctx, claimed):  # another run holds it, or it may have landed already
            singles.append(invoice_id)
        else:
            batch.append((invoice, data, claimed))
    if len(batch) == 1:
        singles.insert(0, batch.pop()[0].id)
    return batch, singles


async def export_invoices_in_batches(ctx: RunContext, connection: Connection, invoice_ids: list[int]) -> None:
    """Export up to a batch of invoices, new ones in one provider request."""
    checked = await check_batch(ctx, connection, invoice_ids)
    batch, singles = await claim_batch(ctx, checked, connection)
    if batch:
        singles.extend(await send_batch(ctx, connection, batch, _record_exported, _after_export))
    for invoice_id in singles:
        await export_invoice(ctx, connection, invoice_id)
    await _follow_unchanged(ctx, connection, checked.unchanged)


async def _record_exported(ctx: RunContext, connection: Connection,
                           exported: list[tuple[Invoice, InvoiceData, ExportResult]],
                           also: Callable[[], Awaitable[None]] | None) -> None:
    """The database side of successful exports (no provider calls, so it may share a transaction):
    each invoice's link, lock, resolved issues, event and run record, in one transaction and a few
    statements whatever the number of invoices (a batch's answer). `also` runs first in that
    transaction (a batch's writes settled). What goes in it is worked out before it opens: on SQLite
    the transaction holds the one write lock, which the run's other lanes wait for."""
    if not exported:
        if also is not None:
            async with transaction():
                await also()
        return
    caps = get_registry().provider(connection.provider).capabilities
    provider_name = get_registry().provider(connection.provider).name
    ids = [invoice.id for invoice, _, _ in exported]
    taken = await withdrawal.numbers_taken_by_copies(connection.id, ids) if connection.number_policy == "ours" else {}
    links: list[LinkValues] = []
    events: list[Event] = []
    outcomes: list[tuple[int | None, str, str, str]] = []
    for invoice, data, result in exported:
        await _let_others_in()
        remote = result.record if isinstance(result.record, RemoteInvoice) else None
        warnings = list(result.warnings)
        _, _, number_note = await withdrawal.reissue(connection, invoice, caps.invoice_number_max_length,
                                                     taken.get(invoice.id, 0))
        if number_note:
            warnings.append(number_note)
        if remote is not None and remote.currency and remote.currency != invoice.currency:
            warnings.append(f"The provider holds this invoice in {remote.currency}, not {invoice.currency}: "
                            "amounts there are in its currency.")
        tax_warning = recomputed_tax_warning(invoice, remote, provider_name)
        if tax_warning:
            warnings.append(tax_warning)
        number = result.number or data.number
        links.append(LinkValues(record_id=invoice.id, remote_id=result.remote_id, version=result.version,
                                number=number, fingerprint=fingerprint(data), remote_data=remote_summary(remote),
                                message="; ".join(warnings)))
        events.append(records.invoice_exported(connection, invoice, result, number, warnings))
        outcomes.append((invoice.id, result.remote_id, "created" if result.created else "updated",
                         "; ".join(warnings)))
    async with transaction():  # the events commit with the links, the locks and the resolved issues
        if also is not None:
            await also()
        await save_links(workspace_id=connection.workspace, connection_id=connection.id,
                         record_type=RecordType.invoice, links=links)
        await Invoice.update({Invoice.locked: True, Invoice.updated_at: utcnow()}).where(Invoice.id.is_in(ids))
        await resolve_many(workspace_id=connection.workspace, record_type=RecordType.invoice, record_ids=ids,
                           connection_id=connection.id)
        await record_events(events)
        await note_many(ctx, RecordType.invoice, outcomes)


async def _after_export(ctx: RunContext, connection: Connection, exported: list[tuple[Invoice, ExportResult]]) -> None:
    """What follows committed exports: their payments recorded meanwhile, their time entries, then
    telling plugins. Which invoices have any payment or time entry at all is read in one query each,
    so a batch of invoices without them costs no query per invoice."""
    if not exported:
        return
    await _send_followers(ctx, connection, [invoice for invoice, _ in exported])
    for invoice, result in exported:
        await get_registry().notify("invoice_exported", workspace_id=connection.workspace,
                                    connection_id=connection.id, invoice_id=invoice.id, result=result)


async def _send_followers(ctx: RunContext, connection: Connection, invoices: list[Invoice]) -> None:
    """The payments and time entries of invoices in the provider. Which invoices have any at all is
    read in one query each, so invoices without them cost no query per invoice."""
    ids = [invoice.id for invoice in invoices]
    async with read_transaction():  # raw: Piccolo built each `IN` list a value at a time
        paid = {row["invoice"] for row in await fetch_raw(
            f"SELECT invoice FROM {Payment._meta.tablename} WHERE invoice IN ({marks(ids)})", *ids)}
        timed = {row["invoice"] for row in await fetch_raw(
            f"SELECT invoice FROM {TimeEntry._meta.tablename} WHERE invoice IN ({marks(ids)})", *ids)}
    for invoice in invoices:
        if invoice.id in paid:
            await export_payments_of(ctx, connection, invoice)
        if invoice.id in timed:
            await export_time_entries(ctx, connection, invoice)


async def _follow_unchanged(ctx: RunContext, connection: Connection, invoice_ids: list[int]) -> None:
    """A resumed run finds unchanged the invoices its crashed attempt exported but did not checkpoint:
    their payments and time entries may not have followed them yet, so they are sent now (each
    write is exactly-once, so those already sent cost no request). A first attempt skips this: an
    unchanged invoice's followers went with its export, or by their own runs since."""
    if ctx.run.attempts <= 1 or not invoice_ids:
        return
    invoices = await Invoice.objects().where(Invoice.id.is_in(invoice_ids)).order_by(Invoice.id)
    await _send_followers(ctx, connection, list(invoices))


async def _record(ctx: RunContext, invoice_id: int, remote_id: str | None, outcome: str, message: str) -> None:
    await note(ctx, RecordType.invoice, invoice_id, remote_id, outcome, message)


async def withdraw_invoice(ctx: RunContext, connection: Connection, invoice_id: int, action: str,
                           withdrawn_id: int | None = None) -> None:
    """Void or delete the provider's copy (revert to draft, void here): see `sync.withdrawal`."""
    await withdrawal.withdraw(ctx, connection, invoice_id, action, withdrawn_id)


def batch_size(connection: Connection) -> int:
    registry = get_registry()
    if not registry.implements(connection.provider, "export_invoices_batch"):
        return 1
    return max(1, registry.provider(connection.provider).capabilities.batch_size)


async def run_export(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    books.require_books(connection)  # a run queued before the books moved writes nothing to the old one
    params = ctx.params
    ids: list[int] = list(dict.fromkeys(params.get("invoice_ids") or [params["invoice_id"]]))
    done: list[int] = ctx.checkpoint.get("done", [])
    todo = [invoice_id for invoice_id in ids if invoice_id not in done]
    action = params.get("action")
    size = 1 if action in ("void", "delete") else batch_size(connection)
    width = 1 if action in ("void", "delete") or len(todo) <= size else export_lanes(connection)
    async with failures_land_on_invoices(ctx, connection, todo, done):
        if width > 1:
            await _export_in_lanes(ctx, connection, todo, size, width, done, len(ids))
        for start in range(0, len(todo) if width == 1 else 0, size):
            chunk = todo[start:start + size]
            if action in ("void", "delete"):
                await withdraw_invoice(ctx, connection, chunk[0], action, params.get("withdrawn_id"))
            elif len(chunk) == 1:
                await export_invoice(ctx, connection, chunk[0])
            else:
                await export_invoices_in_batches(ctx, connection, chunk)
            done.extend(chunk)  # committed as it lands: a resumed run starts at the next batch
            await ctx.save(checkpoint={"done": done}, progress_done=len(done), progress_total=len(ids))
        await reconcile_lost_answers(ctx, connection)


#: Chunks checked ahead of the lanes at most: a minute of Xero's requests (60). Enough for the
#: export to wait on the provider's window rather than on its own checks, and bounded, so a large
#: export does not hold every invoice's payload in memory.
CHECKED_AHEAD = 60
#: While the lanes are sending, chunks are checked at most this many lanes' worth ahead of them: the
#: checks of chunks far ahead wait until the sends wait for the provider (`lanes.Ahead`'s `near`).
CHECKED_NEAR = 2


def export_lanes(connection: Connection) -> int:
    """How many of an export's sends may be in flight: the provider's concurrency for a company."""
    return connections.provider_limits(connection.provider).concurrent or 1


async def _export_in_lanes(ctx: RunContext, connection: Connection, todo: list[int], size: int, width: int,
                           done: list[int], total: int) -> None:
    """`run_export` with up to `width` chunks (a batch, or one invoice) sent at once (see `lanes`).
    Batches are checked ahead of the lanes (`lanes.Ahead`), while earlier ones wait for the
    provider's window or its answer; each one's writes are claimed just before it is sent. This task
    finishes each answered chunk: followers, invoices left to send one by one, the checkpoint."""
    lanes = Lanes(width)
    # Sent one by one next, exported, found unchanged (their followers may be owed: `_follow_unchanged`).
    Outcome = tuple[list[int], list[tuple[Invoice, ExportResult]], list[int]]
    # A lane's send is done once its request is answered; what the answer means here is written by
    # its finish (`Lanes` runs those while every lane is busy), which this returns.
    Answered = Callable[[], Awaitable[Outcome]]

    def finisher(chunk: list[int]) -> Callable[[Any], Awaitable[None]]:
        async def finish(answered: Answered) -> None:
            again, exported, unchanged = await answered()
            await _after_export(ctx, connection, exported)
            for invoice_id in again:
                await export_invoice(ctx, connection, invoice_id)
            await _follow_unchanged(ctx, connection, unchanged)
            done.extend(chunk)  # only once the chunk's requests are answered: a resumed run redoes it
            await ctx.save(checkpoint={"done": done}, progress_done=len(done), progress_total=total)
        return finish

    async def send_checked(checked: Checked) -> Answered:
        exported: list[tuple[Invoice, ExportResult]] = []

        async def later(ctx: RunContext, connection: Connection, answered: list[tuple[Invoice, ExportResult]]) -> None:
            exported.extend(answered)  # followers run in the run's own task, in `finish`

        batch, singles = await claim_batch(ctx, checked, connection)
        settle = await send_batch_answered(ctx, connection, batch, _record_exported, later,
                                           session) if batch else None

        async def answered() -> Outcome:
            again = list(singles)
            if settle is not None:
                again.extend(await settle())
            return again, exported, checked.unchanged
        return answered

    async def send_one(invoice_id: int) -> Answered:
        async with refusals_become_issues(ctx, connection, RecordType.invoice, invoice_id, mark_link=True,
                                          seen=True) as refusal:
            ready = await _ready(ctx, connection, invoice_id)
        outcome: Outcome = ([], [], [])
        if refusal.error is None and ready is None:
            outcome = ([], [], [invoice_id])
        elif refusal.error is None and ready is not None:
            _, result = await _write_invoice(ctx, connection, *ready)
            outcome = ([], [] if result is None else [(ready[0], result)], [])

        async def answered() -> Outcome:
            return outcome
        return answered

    chunks = [todo[start:start + size] for start in range(0, len(todo), size)]
    session = BatchSession(connection.id)  # the lanes' batch requests share one provider session
    ahead = Ahead(lambda chunk: check_batch(ctx, connection, chunk), chunks if size > 1 else [], CHECKED_AHEAD,
                  near=CHECKED_NEAR * width)
    async with session:
        try:
            if size > 1:
                async for chunk, checked in ahead:
                    await lanes.submit(send_checked(checked), finisher(chunk))
            else:
                for chunk in chunks:
                    await lanes.submit(send_one(chunk[0]), finisher(chunk))
            await lanes.drain()
        finally:  # before the session closes: nothing in flight uses it then
            ahead.cancel()
            lanes.cancel()


async def reconcile_lost_answers(ctx: RunContext, connection: Connection) -> None:
    """The run's last step: an invoice write of this run whose answer is still unknown is settled now
    (looked up, finished or sent), so no invoice the provider holds stays unrecorded here."""
    rows = await OutboundWrite.select(OutboundWrite.record_id).where(
        (OutboundWrite.run == ctx.run.id) & (OutboundWrite.record_type == RecordType.invoice)
        & (OutboundWrite.operation == "create") & (OutboundWrite.state == WriteState.uncertain)
    )
    for row in rows:
        await export_invoice(ctx, connection, row["record_id"])


async def run_export_customer(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    books.require_books(connection)
    await ensure_customer(ctx, connection, ctx.params["customer_id"])
