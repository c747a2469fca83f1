"""The invoice rules: money arithmetic, the status life cycle and invoice numbering.

The API, the admin UI and the export engine all apply these, so an invoice means the same thing
whichever door it came through. Money is `Decimal` from end to end; a float never touches an amount.
Tax is computed per line and rounded per line because that is what QuickBooks, Xero and FreshBooks
do: a total computed on the sum of lines would differ from theirs by a cent now and then, and the
export would be flagged as changed in the provider.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.tables import Invoice, InvoiceLine, InvoiceStatus, LinkState, Payment, TaxRate, utcnow

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ZERO = Decimal("0")
NUMBER_PREFIX = "INV-"
NUMBER_DIGITS = 4
ELLIPSIS = "..."
KEEP_HEAD = 5


# --------------------------------------------------------------------------- errors


class InvoiceRuleError(LedgerBridgeError):
    """An action the invoice's current state does not allow; the API answers 409."""

    code = "invalid_transition"


class InvoiceIsDraft(InvoiceRuleError):
    code = "invoice_is_draft"


class InvoiceLocked(InvoiceRuleError):
    code = "invoice_locked"


class InvoiceIsVoid(InvoiceRuleError):
    code = "invoice_is_void"


# --------------------------------------------------------------------------- money


def to_cents(value: Decimal) -> Decimal:
    """Round half up to cents: what an accountant (and every supported provider) does by hand."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal, places: int = 2) -> str:
    """Money as JSON shows it: a string with fixed places, so clients never parse it as a float.

    Values stored with more places (unit prices keep 4) are shown with all of them, trailing zeros
    beyond `places` removed, so "12.5" reads "12.50" and "0.1234" stays exact.
    """
    quantum = Decimal(1).scaleb(-places)
    if value == value.quantize(quantum):
        return str(value.quantize(quantum))
    return str(value.normalize())


@dataclass(frozen=True)
class LineAmounts:
    line_total: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, tax_percent: Decimal | None) -> LineAmounts:
    """A line's amount and its tax, each rounded to cents on their own (see the module docstring)."""
    line_total = to_cents(quantity * unit_price)
    tax = to_cents(line_total * tax_percent / HUNDRED) if tax_percent else ZERO.quantize(CENT)
    return LineAmounts(line_total=line_total, tax_amount=tax)


def invoice_totals(lines: Iterable[LineAmounts]) -> Totals:
    """Sums of already-rounded line amounts, so the totals always equal what the lines show."""
    subtotal = ZERO.quantize(CENT)
    tax_total = ZERO.quantize(CENT)
    for line in lines:
        subtotal += line.line_total
        tax_total += line.tax_amount
    return Totals(subtotal=subtotal, tax_total=tax_total, total=subtotal + tax_total)


def balance_due(total: Decimal, amount_paid: Decimal) -> Decimal:
    """What the customer still owes; never negative, because an overpayment is not a debt."""
    return max(to_cents(total - amount_paid), ZERO.quantize(CENT))


async def paid_here(invoice_id: int) -> Decimal:
    """What the invoice is paid here: the sum of its payments not voided, in cents. Summed afresh
    each time, never adjusted, so it cannot drift from the payments."""
    rows = await Payment.select(Payment.amount).where((Payment.invoice == invoice_id) & Payment.voided_at.is_null())
    return to_cents(sum((Decimal(row["amount"]) for row in rows), Decimal("0")))


async def recalculate(invoice_id: int) -> Totals:
    """Store fresh line amounts and totals for an invoice from its lines and their tax rates.

    Call it inside the write transaction that changed the lines, so the stored totals (which lists
    show without joining lines) can never disagree with the lines.
    """
    lines = await InvoiceLine.select(
        InvoiceLine.id, InvoiceLine.quantity, InvoiceLine.unit_price, InvoiceLine.tax_rate
    ).where(InvoiceLine.invoice == invoice_id)
    rate_ids = sorted({line["tax_rate"] for line in lines if line["tax_rate"] is not None})
    rates: dict[int, Decimal] = {}
    if rate_ids:
        for row in await TaxRate.select(TaxRate.id, TaxRate.rate).where(TaxRate.id.is_in(rate_ids)):
            rates[row["id"]] = Decimal(row["rate"])
    computed: list[LineAmounts] = []
    for line in lines:
        amounts = line_amounts(Decimal(line["quantity"]), Decimal(line["unit_price"]), rates.get(line["tax_rate"]))
        computed.append(amounts)
        await InvoiceLine.update(
            {InvoiceLine.line_total: amounts.line_total, InvoiceLine.tax_amount: amounts.tax_amount}
        ).where(InvoiceLine.id == line["id"])
    totals = invoice_totals(computed)
    await Invoice.update(
        {
            Invoice.subtotal: totals.subtotal,
            Invoice.tax_total: totals.tax_total,
            Invoice.total: totals.total,
            Invoice.updated_at: utcnow(),
        }
    ).where(Invoice.id == invoice_id)
    return totals


# --------------------------------------------------------------------------- life cycle


def check_editable(status: str, locked: bool, number: str) -> None:
    """Only drafts change. A finalized invoice may already be in a customer's hands, and an
    exported one exists in the provider too, so both are edited by reverting to draft first."""
    if status == InvoiceStatus.void:
        raise InvoiceIsVoid(
            f"Invoice {number} is void and can no longer be changed.",
            fix="Create a new invoice instead.",
        )
    if locked:
        raise InvoiceLocked(
            f"Invoice {number} has been exported, so it is locked.",
            fix="Use 'revert to draft' to unlock it; the copy in the provider will be voided or deleted.",
        )
    if status != InvoiceStatus.draft:
        raise InvoiceLocked(
            f"Invoice {number} is {status}, so it is locked.",
            fix="Use 'revert to draft' to edit it.",
        )


def check_exportable(status: str, number: str) -> None:
    """Drafts are never exported: a provider copy of something still being written would either
    go out to the customer early or need chasing when the draft changes."""
    if status == InvoiceStatus.draft:
        raise InvoiceIsDraft(
            f"Invoice {number} is a draft, and drafts are not exported.",
            fix="Finalize the invoice first, then export it.",
        )
    if status == InvoiceStatus.void:
        raise InvoiceIsVoid(
            f"Invoice {number} is void, so there is nothing to export.",
            fix="Create a new invoice instead.",
        )


def finalize(status: str, number: str, line_count: int) -> InvoiceStatus:
    """Draft to finalized; an invoice without lines has nothing to bill, so it stays a draft."""
    if status != InvoiceStatus.draft:
        raise InvoiceRuleError(
            f"Invoice {number} is {status}; only drafts can be finalized.",
            fix="Revert it to draft first if you need to change it.",
        )
    if line_count == 0:
        raise InvoiceRuleError(
            f"Invoice {number} has no lines.",
            fix="Add at least one line, then finalize it.",
            code="validation_failed",
        )
    return InvoiceStatus.finalized


def send(status: str, number: str, line_count: int) -> InvoiceStatus:
    """Finalized (or already sent) to sent. Sending a draft finalizes it on the way, with the same
    checks, because "send" on a draft is a single intention for the person clicking it."""
    if status == InvoiceStatus.draft:
        finalize(status, number, line_count)
        return InvoiceStatus.sent
    if status in (InvoiceStatus.finalized, InvoiceStatus.sent):
        return InvoiceStatus.sent
    raise InvoiceIsVoid(f"Invoice {number} is void and cannot be sent.", fix="Create a new invoice instead.")


def void(status: str, number: str) -> InvoiceStatus:
    """Any invoice can be voided once; void is final so the history of what was billed stays."""
    if status == InvoiceStatus.void:
        raise InvoiceIsVoid(f"Invoice {number} is already void.", fix="Nothing to do.")
    return InvoiceStatus.void


def revert_to_draft(status: str, number: str) -> InvoiceStatus:
    """Finalized or sent back to draft, to edit it. A void invoice stays void: reviving it would
    rewrite history the customer (and the provider) already saw."""
    if status in (InvoiceStatus.finalized, InvoiceStatus.sent):
        return InvoiceStatus.draft
    if status == InvoiceStatus.draft:
        raise InvoiceRuleError(f"Invoice {number} is already a draft.", fix="Nothing to do: edit it directly.")
    raise InvoiceIsVoid(f"Invoice {number} is void and cannot be reverted.", fix="Create a new invoice instead.")


# --------------------------------------------------------------------------- numbering


def invoice_number_for_provider(number: str, max_length: int | None) -> str:
    """Fit our invoice number into a provider's length limit (QuickBooks allows 21 characters).

    The start of a number usually carries its series ("INV-2026") and the end its counter, so both
    survive: the first 5 characters, "...", then the last `max_length - 8` (13 for a limit of 21).
    Numbers within the limit pass unchanged. For a limit too short to keep a head, "..." and one
    tail character (under 9) the tail alone is kept, as it is what tells invoices apart.
    """
    if max_length is None or len(number) <= max_length:
        return number
    if max_length <= 0:
        raise ValueError(f"max_length must be positive, got {max_length}")
    tail = max_length - KEEP_HEAD - len(ELLIPSIS)
    if tail < 1:
        return number[-max_length:]
    return number[:KEEP_HEAD] + ELLIPSIS + number[-tail:]


_SERIES = re.compile(rf"^{re.escape(NUMBER_PREFIX)}(\d+)$")


def number_after(numbers: Iterable[str]) -> str:
    """The next number in our series, after the highest one in use (gaps from deleted drafts are
    not reused, so a number a customer once saw never comes back on another invoice)."""
    highest = 0
    for number in numbers:
        match = _SERIES.match(number)
        if match:
            highest = max(highest, int(match.group(1)))
    return f"{NUMBER_PREFIX}{highest + 1:0{NUMBER_DIGITS}d}"


async def next_invoice_number(workspace_id: int) -> str:
    """The next free number of the workspace's "INV-0001" series.

    Call it inside the write transaction that inserts the invoice: on SQLite the transaction holds
    the write lock, and on PostgreSQL the unique index on (workspace, number) turns a race into a
    retry for the caller instead of a duplicate.
    """
    rows = await Invoice.select(Invoice.number).where(
        (Invoice.workspace == workspace_id) & Invoice.number.like(f"{NUMBER_PREFIX}%")
    )
    return number_after(row["number"] for row in rows)


# --------------------------------------------------------------------------- the provider's copy


class SyncBadge(StrEnum):
    """One word for how an invoice stands with all its connections; the worst state wins."""

    not_exported = "not_exported"
    pending = "pending"
    needs_sync = "needs_sync"
    synced = "synced"
    warning = "warning"
    error = "error"


ERROR_LINK_STATES = (LinkState.error, LinkState.uncertain)
WARNING_LINK_STATES = (LinkState.warning, LinkState.deleted_remote)
PENDING_LINK_STATES = (LinkState.pending,)
CHANGED_LINK_STATES = (LinkState.needs_sync,)


def sync_badge(link_states: Iterable[str], locked: bool, open_issues: int) -> SyncBadge:
    """The badge lists show and filter on.

    An open issue counts as an error even when the links look fine, because it is what the user
    has to act on. A locked invoice without links has an export on its way: that is "pending",
    so the badge changes the moment someone clicks export, not when the worker gets to it.
    """
    states = list(link_states)
    if open_issues or any(state in ERROR_LINK_STATES for state in states):
        return SyncBadge.error
    if any(state in WARNING_LINK_STATES for state in states):
        return SyncBadge.warning
    if any(state in PENDING_LINK_STATES for state in states) or (locked and not states):
        return SyncBadge.pending
    if any(state in CHANGED_LINK_STATES for state in states):
        return SyncBadge.needs_sync
    if states:
        return SyncBadge.synced
    return SyncBadge.not_exported


def retract_action(can_void: bool, can_delete: bool, remote_status: str | None, preferred: str = "void") -> str | None:
    """How to take back an invoice's copy in a provider (on revert to draft or void).

    A copy that is still a draft there was never seen by the customer, so deleting it leaves no
    trace to explain. Otherwise the connection's preference decides; voiding (the default) keeps
    the provider's numbering and audit trail whole. None: the provider can do neither through its
    API, and a person must do it there.
    """
    if (remote_status == "draft" or preferred == "delete") and can_delete:
        return "delete"
    if can_void:
        return "void"
    if can_delete:
        return "delete"
    return None
