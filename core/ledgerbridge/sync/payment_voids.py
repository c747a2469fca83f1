"""Voiding in the books a payment that was voided here.

A payment voided here (`domain.payments.void_payment`) queues one run per books connection that
holds its copy. The run voids that copy through the plugin's `void_payment` (a real void where the
provider keeps voided payments, a delete where that is its only way), exactly once: the write goes
through `outbound.write` with its recorded idempotency key, and the link is marked withdrawn in the
transaction that settles the write, so a resumed run finds the void done and sends nothing again.
The invoice is then read back, so the balance the provider now shows is what the invoice shows here.

A payment the bookkeeper deleted or voided there before the run came is what the person wanted: the
plugin answers it `already_removed`, and the run ends done with the payment marked removed in the
provider (as `payment_removals` marks one), no issue and no retry.

A provider that cannot void payments never gets a run: the void here records an issue on the
payment instead, saying what to do by hand (`unvoidable_issue`).
"""

from __future__ import annotations

from ledgerbridge import books, connections
from ledgerbridge.errors import LedgerBridgeError, ProviderUnavailable
from ledgerbridge.invoicing import format_money
from ledgerbridge.issues import raise_issue, resolve
from ledgerbridge.jobs import RunContext, transaction
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import ExportResult, LinkRef, Page, RemoteInvoice
from ledgerbridge.sync.claims import WrittenElsewhere
from ledgerbridge.sync.links import get_link
from ledgerbridge.sync.outbound import write
from ledgerbridge.sync.payment_removals import mark_removed
from ledgerbridge.sync.polling import apply_remote_invoice
from ledgerbridge.sync.refusals import refusals_become_issues
from ledgerbridge.sync.run_records import note
from ledgerbridge.sync.shared_payments import copy_id
from ledgerbridge.tables import (
    Connection,
    ExternalLink,
    Invoice,
    LinkState,
    OutboundWrite,
    Payment,
    RecordType,
    WriteState,
    utcnow,
)

VOIDED_THERE = "Voided in the books by LedgerBridge (voided here)."


def can_void_there(provider: str) -> bool:
    """Whether the provider's plugin declares and implements voiding payments."""
    registry = get_registry()
    info = registry.providers.get(provider)
    return bool(info and info.capabilities.void_payments and registry.implements(provider, "void_payment"))


async def unvoidable_issue(connection: Connection, payment: Payment, invoice: Invoice) -> None:
    """The payment stays in a provider that cannot void it through its API: a person must do it there."""
    name = get_registry().name_of(connection.provider)
    await raise_issue(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.payment,
        record_id=payment.id, code="not_supported",
        message=f"The payment of {format_money(payment.amount)} on invoice {invoice.number} was voided here, but "
                f"{name} cannot void payments through its API, so it still counts as paid there.",
        fix=f"Void or delete that payment in {name} by hand, then resolve this issue.",
    )


async def void_payment(ctx: RunContext, connection: Connection, payment_id: int) -> None:
    """Void the payment's copy in the books, then read its invoice back."""
    payment = await Payment.objects().where(Payment.id == payment_id).first()
    if payment is None or payment.workspace != connection.workspace:
        return
    link = await get_link(connection.id, RecordType.payment, payment.id)
    if (link is None or not link.remote_id) and await _export_on_its_way(connection.id, payment.id):
        raise ProviderUnavailable(  # retried: once the export has landed, its copy is voided
            "The payment's export to the books is still on its way, so it cannot be voided there yet.",
            fix="Nothing to do: this run resumes once that export has finished.")
    if link is None or not link.remote_id:
        await note(ctx, RecordType.payment, payment.id, None, "skipped",
                   "The payment never reached the books; nothing to void there.", seen=False)
        return
    if link.state == LinkState.deleted_remote:  # voided already (by an earlier attempt of this run, or there)
        await note(ctx, RecordType.payment, payment.id, link.remote_id, "skipped", "Already voided there.",
                   seen=False)
        return
    # A share of a payment that paid several invoices there (`shared_payments`) voids the payment itself:
    # only sent once no other invoice here still counts it.
    ref = LinkRef(remote_id=copy_id(link.remote_id), remote_version=link.remote_version,
                  remote_number=link.remote_number)

    async def record(result: ExportResult) -> None:
        if result.already_removed:  # the bookkeeper took it away first: what the person wanted, told as such
            await _removed_there_first(connection, payment, link)
            return
        await ExternalLink.update({
            ExternalLink.state: LinkState.deleted_remote, ExternalLink.message: VOIDED_THERE,
            ExternalLink.remote_version: result.version or link.remote_version, ExternalLink.updated_at: utcnow(),
        }).where(ExternalLink.id == link.id)

    outcome: ExportResult | None = None
    async with refusals_become_issues(ctx, connection, RecordType.payment, payment.id) as refusal:
        try:
            outcome = await write(ctx, connection, RecordType.payment, payment.id, "void", "void_payment",
                                  record=record, link=ref)
        except WrittenElsewhere:  # another run voided it at this moment; its outcome is recorded there
            return
    if refusal.error is not None:
        return
    await resolve(workspace_id=connection.workspace, record_type=RecordType.payment, record_id=payment.id,
                  connection_id=connection.id)
    if outcome is not None and outcome.already_removed:
        await note(ctx, RecordType.payment, payment.id, link.remote_id, "skipped",
                   f"Already deleted or voided in {get_registry().name_of(connection.provider)}.", seen=False)
    else:
        await note(ctx, RecordType.payment, payment.id, link.remote_id, "updated", "void payment", seen=False)
    await _read_invoice_back(ctx, connection, payment.invoice)


async def _removed_there_first(connection: Connection, payment: Payment, link: ExternalLink) -> None:
    """The void found the payment already deleted or voided in the books, by someone there: it is marked
    removed in the provider as a read-back would have (`payment_removals.mark_removed`: link, mark and
    audit entry with the provider as actor). It is already voided here, and the host app heard of that
    void when it was asked for, so no second `payment.voided` event is sent."""
    invoice = await Invoice.objects().where(Invoice.id == payment.invoice).first()
    assert invoice is not None, "a payment belongs to an invoice"
    name = get_registry().name_of(connection.provider)
    await mark_removed(connection, invoice, payment, link, message=(
        f"Deleted or voided in {name} before LedgerBridge voided it there (it was voided here); nothing was "
        "left to do there."))


async def _export_on_its_way(connection_id: int, payment_id: int) -> bool:
    """Whether an export of the payment was sent and not yet settled (it may land after this look)."""
    return await OutboundWrite.exists().where(
        (OutboundWrite.connection == connection_id) & (OutboundWrite.record_type == RecordType.payment)
        & (OutboundWrite.record_id == payment_id) & (OutboundWrite.operation == "create")
        & OutboundWrite.state.is_in([WriteState.pending, WriteState.uncertain]))


async def _read_invoice_back(ctx: RunContext, connection: Connection, invoice_id: int) -> None:
    """The provider's balance after the void, on the invoice here (a failed read waits for the next poll)."""
    invoice_link = await get_link(connection.id, RecordType.invoice, invoice_id)
    if invoice_link is None or not invoice_link.remote_id:
        return
    read_after = utcnow()
    try:
        page: Page[RemoteInvoice] = await connections.call(
            connection.id, "poll_invoices", cursor=None, remote_ids=[invoice_link.remote_id])
    except LedgerBridgeError:
        return
    async with transaction():
        changes = [await apply_remote_invoice(ctx, connection, remote, read_after) for remote in page.records
                   if remote.remote_id == invoice_link.remote_id]
    for change in changes:  # plugins hear of it only once it is committed, as after a poll
        if change is not None:
            await get_registry().notify("invoice_status_changed", **change)


async def run_void_payment(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    books.require_books(connection)  # a run queued before the books moved writes nothing to the old one
    await void_payment(ctx, connection, ctx.params["payment_id"])
    await ctx.save(progress_done=1, progress_total=1)
