"""Withdrawing a provider's copy of an invoice (revert to draft, void here), and the new copy after.

Editing an exported invoice goes through "revert to draft", which takes the copy in the books back:
deleted where the provider allows it, voided otherwise, per the connection's `revert_action`. The
copy's link is retired at once, in the revert's own transaction: its remote id moves to a
`WithdrawnCopy` row (kept, shown on the invoice) and the `ExternalLink` is cleared. So the next
export always creates a new copy with a new link, whatever order the withdrawal and that export run
in; it never sends an update to a copy that is voided or gone there.

A voided copy keeps its number in the provider, so the new copy's number follows the connection's
`reissue_number` policy: `suffix` sends "INV-7-2" (then "-3"...), `provider` lets the provider
assign one. Both are said on the invoice. A copy the provider holds payments for cannot be taken
back; that is refused before anything changes here, with the provider's state as the reason.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from ledgerbridge import connections
from ledgerbridge.db import fetch_raw, marks, read_transaction
from ledgerbridge.errors import LedgerBridgeError, ProviderError
from ledgerbridge.invoicing import format_money, invoice_number_for_provider
from ledgerbridge.jobs import RunContext, loads
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import LinkRef, Page, RemoteInvoice
from ledgerbridge.sync.claims import WrittenElsewhere
from ledgerbridge.sync.outbound import write
from ledgerbridge.sync.run_records import note
from ledgerbridge.tables import (
    Connection,
    ExternalLink,
    Invoice,
    LinkState,
    Payment,
    RecordType,
    ReissueNumber,
    RevertAction,
    WithdrawalState,
    WithdrawnCopy,
    utcnow,
)


class InvoiceHasPayments(LedgerBridgeError):
    code = "invoice_has_payments"


async def _books_link(workspace_id: int, invoice_id: int) -> ExternalLink | None:
    return await ExternalLink.objects().where(
        (ExternalLink.workspace == workspace_id)
        & (ExternalLink.record_type == RecordType.invoice)
        & (ExternalLink.record_id == invoice_id)
        & ExternalLink.remote_id.is_not_null()
        & ExternalLink.connection.is_books.eq(True)
    ).first()


async def _current_copy(link: ExternalLink) -> dict[str, Any]:
    """The copy as the provider shows it now; what we last read when it cannot answer.

    Asking is worth one call: a bookkeeper may have recorded a payment there minutes ago, and the
    refusal must come before the invoice is unlocked here, not from a failed void afterwards.
    """
    assert link.remote_id is not None
    try:
        page: Page[RemoteInvoice] = await connections.call(
            link.connection, "poll_invoices", cursor=None, remote_ids=[link.remote_id]
        )
    except LedgerBridgeError:
        return loads(link.remote_data)
    found = next((r for r in page.records if r.remote_id == link.remote_id), None)
    if found is None:
        return loads(link.remote_data)
    return {"status": found.status, "total": str(found.total), "balance": str(found.balance),
            "payments": [{"id": p.remote_id, "amount": str(p.amount)} for p in found.payments]}


async def check_withdrawable(workspace_id: int, invoice: Invoice) -> None:
    """Refuse to revert or void an invoice whose copy in the books holds payments, before anything
    changes here (call it outside the action's transaction: it may ask the provider)."""
    link = await _books_link(workspace_id, invoice.id)
    exported_payments = await ExternalLink.count().where(
        (ExternalLink.record_type == RecordType.payment)
        & ExternalLink.remote_id.is_not_null()
        & ExternalLink.record_id.is_in(
            Payment.select(Payment.id).where((Payment.invoice == invoice.id) & Payment.voided_at.is_null())
        )
        & ExternalLink.connection.is_books.eq(True)
    )
    if link is None:
        return
    copy = await _current_copy(link)
    if copy.get("status") in ("void", "deleted"):
        return
    paid_there = sum((Decimal(str(p.get("amount", "0"))) for p in copy.get("payments", [])), Decimal("0"))
    total, balance = Decimal(str(copy.get("total", "0"))), Decimal(str(copy.get("balance", copy.get("total", "0"))))
    if paid_there <= 0 and total - balance > 0:
        paid_there = total - balance
    if paid_there > 0 or exported_payments:
        provider = link.connection
        row = await Connection.select(Connection.provider).where(Connection.id == provider).first()
        name = get_registry().providers[row["provider"]].name if row and row["provider"] in get_registry().providers \
            else "The provider"
        held = f"{format_money(paid_there)} in payments" if paid_there > 0 else "payments"
        raise InvoiceHasPayments(
            f"{name} holds {held} against invoice {invoice.number}, and a paid invoice cannot be voided or "
            "deleted there; nothing was changed here.",
            fix=f"Remove or unapply the payments of invoice {invoice.number} in {name} first (LedgerBridge reads "
                "the change back), then revert again; or issue a credit note there instead of editing it.",
        )


async def retire(link: ExternalLink, action: str) -> WithdrawnCopy:
    """Move the link's remote copy into history and clear the link; in the revert's transaction."""
    assert link.remote_id is not None
    copy = WithdrawnCopy(
        workspace=link.workspace, connection=link.connection, record_type=link.record_type,
        record_id=link.record_id, remote_id=link.remote_id, remote_version=link.remote_version,
        remote_number=link.remote_number, remote_data=link.remote_data, action=action,
        state=WithdrawalState.withdrawing, created_at=utcnow(),
    )
    await copy.save()
    await ExternalLink.update({
        ExternalLink.remote_id: None, ExternalLink.remote_version: "", ExternalLink.remote_number: "",
        ExternalLink.fingerprint: "", ExternalLink.remote_data: "{}", ExternalLink.state: LinkState.needs_sync,
        ExternalLink.message: f"The copy {link.remote_number or link.remote_id} is being "
                              f"{'voided' if action == RevertAction.void else 'deleted'}; the next export creates "
                              "a new one.",
        ExternalLink.updated_at: utcnow(),
    }).where(ExternalLink.id == link.id)
    return copy


async def withdraw(ctx: RunContext, connection: Connection, invoice_id: int, action: str,
                   withdrawn_id: int | None) -> None:
    """The run's side: void or delete the retired copy there, and say how it went on its row."""
    copy = None
    if withdrawn_id is not None:
        copy = await WithdrawnCopy.objects().where(WithdrawnCopy.id == withdrawn_id).first()
    if copy is None:  # a run queued before links were retired at revert time: retire it now
        link = await ExternalLink.objects().where(
            (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.invoice)
            & (ExternalLink.record_id == invoice_id) & ExternalLink.remote_id.is_not_null()
        ).first()
        if link is None:
            return
        copy = await retire(link, action)
    if copy.state == WithdrawalState.withdrawn:
        return
    caps = get_registry().provider(connection.provider).capabilities
    hook = "void_invoice" if action == RevertAction.void and caps.void_invoices else "delete_invoice"
    if hook == "delete_invoice" and not caps.delete_invoices:
        hook = "void_invoice"
    done_action = RevertAction.void if hook == "void_invoice" else RevertAction.delete
    ref = LinkRef(remote_id=copy.remote_id, remote_version=copy.remote_version, remote_number=copy.remote_number)
    try:
        await write(ctx, connection, RecordType.invoice, invoice_id, done_action, hook, link=ref)
    except ProviderError as exc:
        if not exc.retryable:
            await WithdrawnCopy.update({WithdrawnCopy.state: WithdrawalState.failed,
                                        WithdrawnCopy.message: f"{exc.message} {exc.fix}"}).where(
                WithdrawnCopy.id == copy.id)
        raise
    except WrittenElsewhere:  # another run is withdrawing it at this moment; its outcome is recorded there
        return
    await WithdrawnCopy.update({
        WithdrawnCopy.state: WithdrawalState.withdrawn, WithdrawnCopy.action: done_action,
        WithdrawnCopy.withdrawn_at: utcnow(),
        WithdrawnCopy.message: f"{'Voided' if done_action == RevertAction.void else 'Deleted'} in the provider "
                               "by LedgerBridge.",
    }).where(WithdrawnCopy.id == copy.id)
    await note(ctx, RecordType.invoice, invoice_id, copy.remote_id, "updated", hook.replace("_", " "))


async def number_taken_copies(connection_id: int, invoice_id: int) -> int:
    """How many withdrawn copies of the invoice still hold a number there (voided, or not yet gone)."""
    return (await numbers_taken_by_copies(connection_id, [invoice_id])).get(invoice_id, 0)


async def numbers_taken_by_copies(connection_id: int, invoice_ids: list[int]) -> dict[int, int]:
    """`number_taken_copies` for many invoices in one query (a batch's export); absent means none."""
    if not invoice_ids:
        return {}
    async with read_transaction():  # one raw statement: Piccolo built the `IN` list a value at a time
        rows = await fetch_raw(
            f'SELECT record_id FROM {WithdrawnCopy._meta.tablename} WHERE "connection" = ? AND record_type = ? '
            f'AND record_id IN ({marks(invoice_ids)}) AND (action = ? OR state <> ?)',
            connection_id, RecordType.invoice, *invoice_ids, RevertAction.void, WithdrawalState.withdrawn)
    return dict(Counter(row["record_id"] for row in rows))


async def reissue(connection: Connection, invoice: Invoice, max_length: int | None,
                  taken: int | None = None) -> tuple[str, bool, str]:
    """The number a (new) copy is sent with, whether to send it, and the note the invoice shows.

    Without a withdrawn copy holding a number, it is ours (shortened to the provider's length).
    `taken`: the copies holding a number when the caller read them already (a batch's export)."""
    number = invoice_number_for_provider(invoice.number, max_length)
    send = connection.number_policy == "ours"
    if not send:
        taken = 0
    elif taken is None:
        taken = await number_taken_copies(connection.id, invoice.id)
    if not taken:
        note_text = "" if number == invoice.number else \
            f"Exported as number {number} (the provider allows fewer characters)."
        return number, send, note_text
    if connection.reissue_number == ReissueNumber.provider:
        return number, False, (f"Its earlier copy there still holds number {number}, so the provider numbered "
                               "this new copy (the connection's re-issue policy).")
    suffix = f"-{taken + 1}"
    base = invoice_number_for_provider(invoice.number, max_length - len(suffix) if max_length else None)
    return base + suffix, True, (f"Exported as number {base + suffix}: its earlier copy there was voided and keeps "
                                 f"number {number} (the connection's re-issue policy adds a suffix).")
