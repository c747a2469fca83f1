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

from decimal import Decimal

from ledgerbridge import connections
from ledgerbridge.errors import LedgerBridgeError, ProviderError, RateLimited, UncertainWrite
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.invoicing import invoice_number_for_provider
from ledgerbridge.issues import resolve
from ledgerbridge.jobs import RunContext, transaction
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import BatchOutcome, ExportResult, InvoiceData, InvoiceLineData, RemoteInvoice
from ledgerbridge.sync.dependencies import ensure_customer, ensure_item
from ledgerbridge.sync.followers import export_time_entries
from ledgerbridge.sync.links import fingerprint, get_link, link_ref, prepare_write, save_link, settle_write
from ledgerbridge.sync.outbound import is_retry, write
from ledgerbridge.sync.refusals import record_refusal, refusals_become_issues
from ledgerbridge.sync.run_records import note
from ledgerbridge.sync.tax_mapping import books_tax, check_invoice_taxes, recomputed_tax_warning
from ledgerbridge.tables import (
    Connection,
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Item,
    LinkState,
    OutboundWrite,
    RecordType,
    TaxRate,
    WriteState,
    utcnow,
)


class InvoiceIsDraft(LedgerBridgeError):
    code = "validation_failed"


NOT_YET_CREATED = "(created on export)"


async def _linked_or_new(connection: Connection, record_type: str, record_id: int) -> str:
    link = await get_link(connection.id, record_type, record_id)
    return link.remote_id if link is not None and link.remote_id else NOT_YET_CREATED


async def preview_invoice(connection: Connection, invoice: Invoice) -> InvoiceData:
    """What an export would send, without sending or creating anything: the payload preview.

    Customers and items not in the provider yet show as NOT_YET_CREATED; the export creates them.
    """
    return await build_invoice_data(None, connection, invoice)


async def build_invoice_data(ctx: RunContext | None, connection: Connection, invoice: Invoice) -> InvoiceData:
    """The invoice as the provider will get it. With a run context, missing customers and items are
    created in the provider on the way; without one (a preview) nothing is written anywhere."""
    caps = get_registry().provider(connection.provider).capabilities
    if ctx is None:
        customer_remote = await _linked_or_new(connection, RecordType.customer, invoice.customer)
    else:
        customer_remote = await ensure_customer(ctx, connection, invoice.customer)
    lines = await InvoiceLine.objects().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.position)
    line_data = []
    for line in lines:
        item_remote, item_name, account_remote = None, "", None
        if line.item:
            item = await Item.objects().where(Item.id == line.item).first()
            assert item is not None, "an invoice line's item is never deleted (archived instead)"
            if ctx is None:
                item_remote = await _linked_or_new(connection, RecordType.item, item.id)
            else:
                item_remote = await ensure_item(ctx, connection, item)
            item_name = item.name
        tax_remote, tax_name = None, ""
        if line.tax_rate:  # an unmapped rate is refused before this (`check_invoice_taxes`)
            tax = await books_tax(connection, line.tax_rate)
            rate = await TaxRate.objects().where(TaxRate.id == line.tax_rate).first()
            tax_remote, tax_name = (tax.remote_id if tax else None), (tax.name if tax else rate.name if rate else "")
        line_data.append(InvoiceLineData(
            description=line.description, quantity=line.quantity, unit_price=line.unit_price,
            line_total=line.line_total, item_id=item_remote, item_name=item_name,
            income_account_id=account_remote, tax_rate_id=tax_remote, tax_rate_name=tax_name,
            tax_amount=line.tax_amount or Decimal("0"),
        ))
    customer = await Customer.objects().where(Customer.id == invoice.customer).first()
    number = invoice.number
    if caps.invoice_number_max_length:
        number = invoice_number_for_provider(number, caps.invoice_number_max_length)
    return InvoiceData(
        local_id=invoice.id, number=number, customer_id=customer_remote, issue_date=invoice.issue_date,
        due_date=invoice.due_date, currency=invoice.currency, lines=tuple(line_data), subtotal=invoice.subtotal,
        tax_total=invoice.tax_total, total=invoice.total, memo=invoice.memo, customer_email=customer.email,
        send_number=connection.number_policy == "ours",
    )


def remote_summary(remote: RemoteInvoice | None) -> dict[str, object]:
    if remote is None:
        return {}
    return {
        "status": remote.status, "raw_status": remote.raw_status, "number": remote.number,
        "issue_date": remote.issue_date, "due_date": remote.due_date, "currency": remote.currency,
        "total": str(remote.total), "balance": str(remote.balance), "deep_link": remote.deep_link,
        "payments": [{"id": p.remote_id, "paid_on": p.paid_on, "amount": str(p.amount)} for p in remote.payments],
    }


async def _ready(ctx: RunContext, connection: Connection,
                 invoice_id: int) -> tuple[Invoice, InvoiceData, ExternalLink | None] | None:
    """Check an invoice and create what it needs in the provider; None when it is unchanged there."""
    invoice = await Invoice.objects().where(Invoice.id == invoice_id).first()
    if invoice is None or invoice.workspace != connection.workspace:
        raise LedgerBridgeError(f"Invoice {invoice_id} does not exist in this workspace.")
    if invoice.status == InvoiceStatus.draft:
        raise InvoiceIsDraft(
            f"Invoice {invoice.number} is a draft; drafts are never exported.",
            fix="Finalize or send the invoice, then export it.",
        )
    await check_invoice_taxes(connection, invoice)
    data = await build_invoice_data(ctx, connection, invoice)
    link = await get_link(connection.id, RecordType.invoice, invoice.id)
    if link is not None and link.remote_id and link.fingerprint == fingerprint(data) and link.state == LinkState.synced:
        await _record(ctx, invoice.id, link.remote_id, "skipped", "Unchanged since the last export.")
        return None
    return invoice, data, link


async def export_invoice(ctx: RunContext, connection: Connection, invoice_id: int) -> str:
    """Export one invoice; returns the outcome recorded for it (created, updated, skipped, failed)."""
    async with refusals_become_issues(ctx, connection, RecordType.invoice, invoice_id, mark_link=True,
                                      seen=True) as refusal:
        ready = await _ready(ctx, connection, invoice_id)
        if ready is None:
            return "skipped"
        invoice, data, link = ready
        operation = "update" if link_ref(link) else "create"
        result = await write(ctx, connection, RecordType.invoice, invoice.id, operation, "export_invoice",
                             number=data.number if data.send_number else None, invoice=data, link=link_ref(link))
    if refusal.error is not None:
        return "failed"
    await _exported(ctx, connection, invoice, data, result)
    return "created" if result.created else "updated"


async def export_invoices_in_batches(ctx: RunContext, connection: Connection, invoice_ids: list[int]) -> None:
    """Export up to a batch of invoices, new ones in one provider request.

    Only fresh creates ride in the batch. Updates need each invoice's own version, and a create that
    may already have landed must be looked up first, so both go one by one.
    """
    batch: list[tuple[Invoice, InvoiceData, OutboundWrite]] = []
    singles: list[int] = []
    for invoice_id in invoice_ids:
        ready = None
        async with refusals_become_issues(ctx, connection, RecordType.invoice, invoice_id, mark_link=True,
                                          seen=True):
            ready = await _ready(ctx, connection, invoice_id)
        if ready is None:
            continue
        invoice, data, link = ready
        if link_ref(link) is not None:
            singles.append(invoice_id)
            continue
        write = await prepare_write(
            workspace_id=connection.workspace, connection_id=connection.id, run_id=ctx.run.id,
            record_type=RecordType.invoice, record_id=invoice.id, operation="create", attempt=ctx.run.attempts,
        )
        if is_retry(ctx, write):
            singles.append(invoice_id)
        else:
            batch.append((invoice, data, write))
    if len(batch) == 1:
        singles.insert(0, batch.pop()[0].id)
    if batch:
        singles.extend(await _send_batch(ctx, connection, batch))
    for invoice_id in singles:
        await export_invoice(ctx, connection, invoice_id)


async def _send_batch(ctx: RunContext, connection: Connection,
                      batch: list[tuple[Invoice, InvoiceData, OutboundWrite]]) -> list[int]:
    """One batch request; returns the invoices to try again one by one (their fate is unknown)."""
    await ctx.ensure_lease()
    try:
        outcomes: list[BatchOutcome] = await connections.call(
            connection.id, "export_invoices_batch",
            invoices=[(data, None, write.idempotency_key) for _, data, write in batch],
        )
    except UncertainWrite as exc:
        for _, _, write in batch:
            await settle_write(write, WriteState.uncertain, error=exc.message)
        raise
    except RateLimited as exc:
        # A 429 is the provider's answer that nothing was done: the next attempt batches them afresh.
        for _, _, write in batch:
            await settle_write(write, WriteState.failed, error=exc.message)
        raise
    except ProviderError as exc:
        if exc.retryable:  # the next attempt settles each of them (find, then send alone) before resending
            for _, _, write in batch:
                await settle_write(write, WriteState.uncertain, error=exc.message)
            raise
        for invoice, _, write in batch:
            await settle_write(write, WriteState.failed, error=exc.message)
            await record_refusal(ctx, connection, RecordType.invoice, invoice.id, exc, mark_link=True, seen=True)
        return []
    again: list[int] = []
    exported: list[tuple[Invoice, ExportResult]] = []
    async with transaction():  # one commit for the whole batch's bookkeeping
        for (invoice, data, write), outcome in zip(batch, outcomes, strict=True):
            if outcome.result is not None:
                await settle_write(write, WriteState.applied, remote_id=outcome.result.remote_id)
                await _record_exported(ctx, connection, invoice, data, outcome.result)
                exported.append((invoice, outcome.result))
                continue
            error = outcome.error
            if isinstance(error, ProviderError) and error.retryable:
                await settle_write(write, WriteState.uncertain, error=error.message)
                again.append(invoice.id)
                continue
            failure = error if isinstance(error, LedgerBridgeError) else ProviderError(str(error))
            await settle_write(write, WriteState.failed, error=failure.message)
            await record_refusal(ctx, connection, RecordType.invoice, invoice.id, failure, mark_link=True, seen=True)
    for invoice, result in exported:
        await _after_export(ctx, connection, invoice, result)
    return again


async def _exported(ctx: RunContext, connection: Connection, invoice: Invoice, data: InvoiceData,
                    result: ExportResult) -> None:
    await _record_exported(ctx, connection, invoice, data, result)
    await _after_export(ctx, connection, invoice, result)


async def _record_exported(ctx: RunContext, connection: Connection, invoice: Invoice, data: InvoiceData,
                           result: ExportResult) -> None:
    """The database side of a successful export (no provider calls, so it may share a transaction)."""
    remote = result.record if isinstance(result.record, RemoteInvoice) else None
    warnings = list(result.warnings)
    if data.number != invoice.number:
        warnings.append(f"Exported as number {data.number} (the provider allows fewer characters).")
    if remote is not None and remote.currency and remote.currency != invoice.currency:
        warnings.append(f"The provider holds this invoice in {remote.currency}, not {invoice.currency}: "
                        "amounts there are in its currency.")
    tax_warning = recomputed_tax_warning(invoice, remote, get_registry().provider(connection.provider).name)
    if tax_warning:
        warnings.append(tax_warning)
    async with transaction():  # the event commits with the link, the lock and the resolved issues
        await save_link(
            workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.invoice,
            record_id=invoice.id, remote_id=result.remote_id, version=result.version,
            number=result.number or data.number, fingerprint_value=fingerprint(data),
            remote_data=remote_summary(remote), message="; ".join(warnings),
        )
        await Invoice.update({Invoice.locked: True, Invoice.updated_at: utcnow()}).where(Invoice.id == invoice.id)
        await resolve(workspace_id=connection.workspace, record_type=RecordType.invoice, record_id=invoice.id,
                      connection_id=connection.id)
        await emit(records.invoice_exported(connection, invoice, result, result.number or data.number, warnings))
    await _record(ctx, invoice.id, result.remote_id, "created" if result.created else "updated", "; ".join(warnings))


async def _after_export(ctx: RunContext, connection: Connection, invoice: Invoice, result: ExportResult) -> None:
    """What follows a committed export: its time entries, then telling plugins."""
    await export_time_entries(ctx, connection, invoice)
    await get_registry().notify("invoice_exported", workspace_id=connection.workspace, connection_id=connection.id,
                                invoice_id=invoice.id, result=result)


async def _record(ctx: RunContext, invoice_id: int, remote_id: str | None, outcome: str, message: str) -> None:
    await note(ctx, RecordType.invoice, invoice_id, remote_id, outcome, message)


async def withdraw_invoice(ctx: RunContext, connection: Connection, invoice_id: int, action: str) -> None:
    """Void or delete the provider's copy (revert to draft, void here) where the provider allows."""
    caps = get_registry().provider(connection.provider).capabilities
    link = await get_link(connection.id, RecordType.invoice, invoice_id)
    if link is None or not link.remote_id:
        return
    hook = "void_invoice" if action == "void" and caps.void_invoices else "delete_invoice"
    if hook == "delete_invoice" and not caps.delete_invoices:
        hook = "void_invoice"
    result = await write(ctx, connection, RecordType.invoice, invoice_id, action, hook, link=link_ref(link))
    await save_link(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.invoice,
        record_id=invoice_id, remote_id=link.remote_id, version=result.version, state=LinkState.deleted_remote,
        message=f"{'Voided' if hook == 'void_invoice' else 'Deleted'} in the provider by LedgerBridge.",
    )
    await _record(ctx, invoice_id, link.remote_id, "updated", hook.replace("_", " "))


def batch_size(connection: Connection) -> int:
    registry = get_registry()
    if not registry.implements(connection.provider, "export_invoices_batch"):
        return 1
    return max(1, registry.provider(connection.provider).capabilities.batch_size)


async def run_export(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    params = ctx.params
    ids: list[int] = params.get("invoice_ids") or [params["invoice_id"]]
    done: list[int] = ctx.checkpoint.get("done", [])
    todo = [invoice_id for invoice_id in ids if invoice_id not in done]
    action = params.get("action")
    size = 1 if action in ("void", "delete") else batch_size(connection)
    for start in range(0, len(todo), size):
        chunk = todo[start:start + size]
        if action in ("void", "delete"):
            await withdraw_invoice(ctx, connection, chunk[0], action)
        elif len(chunk) == 1:
            await export_invoice(ctx, connection, chunk[0])
        else:
            await export_invoices_in_batches(ctx, connection, chunk)
        done.extend(chunk)
        await ctx.save(checkpoint={"done": done}, progress_done=len(done), progress_total=len(ids))


async def run_export_customer(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    await ensure_customer(ctx, connection, ctx.params["customer_id"])
