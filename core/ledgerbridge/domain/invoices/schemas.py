"""The invoices API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import UNSET, Meta, Struct, UnsetType

from ledgerbridge.api.paging import Page
from ledgerbridge.api.schemas import (
    Currency,
    ExternalRef,
    Id,
    IssueOut,
    LinkOut,
    MoneyIn,
    MoneyOut,
    SyncRunOut,
)
from ledgerbridge.invoicing import SyncBadge
from ledgerbridge.tables import InvoiceStatus


class LineIn(Struct):
    """A line. With an `item_id`, omitted description, price and tax rate come from the item."""

    item_id: Id | None = None
    description: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    quantity: MoneyIn = Decimal("1")
    unit_price: MoneyIn | UnsetType = UNSET
    tax_rate_id: Id | UnsetType | None = UNSET


class InvoiceIn(Struct):
    customer_id: Id
    number: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    issue_date: date | None = None
    due_date: date | None = None
    currency: Currency | UnsetType = UNSET
    memo: Annotated[str, Meta(max_length=4000)] = ""
    lines: Annotated[list[LineIn], Meta(max_length=500)] = []
    external_ref: ExternalRef | None = None


class InvoicePatch(Struct):
    """Fields to change; `lines`, when given, replaces all lines."""

    customer_id: Id | UnsetType = UNSET
    number: Annotated[str, Meta(min_length=1, max_length=60)] | UnsetType = UNSET
    issue_date: date | UnsetType = UNSET
    due_date: date | UnsetType | None = UNSET
    currency: Currency | UnsetType = UNSET
    memo: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    lines: Annotated[list[LineIn], Meta(max_length=500)] | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class LineOut(Struct):
    id: int
    position: int
    item_id: int | None
    description: str
    quantity: MoneyOut
    unit_price: MoneyOut
    tax_rate_id: int | None
    tax_percent: MoneyOut | None
    line_total: MoneyOut
    tax_amount: MoneyOut


class PaymentOut(Struct):
    id: int
    invoice_id: int
    paid_on: date
    amount: MoneyOut
    method: str
    reference: str
    source: str
    created_at: datetime
    voided_at: Annotated[datetime | None, Meta(description="When it was voided here; a voided payment counts for "
                                                          "nothing and is voided in the books too.")] = None
    removed_in_provider: Annotated[str | None, Meta(
        description="The provider whose bookkeeper deleted or voided it there, or changed its amount there (the "
                    "new amount is a new payment): the read-back noticed it and voided it here (`voided_at`); "
                    "null when it was voided here, or is live.")] = None


class WithdrawnCopyOut(Struct):
    """A copy of the invoice that revert to draft (or void) took back from the books: kept for history."""

    connection_id: int
    remote_id: str
    remote_number: Annotated[str, Meta(description="The number it had there; a voided copy keeps it.")]
    action: Annotated[str, Meta(description="`void` or `delete`.")]
    state: Annotated[str, Meta(description="`withdrawing`, `withdrawn`, or `failed` (see `message`).")]
    message: str
    withdrawn_at: datetime | None


class InvoiceOut(Struct):
    id: int
    number: str
    customer_id: int
    customer_name: str
    issue_date: date
    due_date: date | None
    currency: str
    status: InvoiceStatus
    memo: str
    subtotal: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    amount_paid: MoneyOut
    balance: MoneyOut
    locked: bool
    sent_at: datetime | None
    external_ref: str | None
    sync: SyncBadge
    lines: list[LineOut]
    payments: list[PaymentOut]
    links: list[LinkOut]
    issues: list[IssueOut]
    created_at: datetime
    updated_at: datetime
    withdrawn: Annotated[
        list[WithdrawnCopyOut],
        Meta(description="Earlier copies in the books, voided or deleted there by revert to draft; each export "
                         "after a revert creates a new copy (a new entry of `links`)."),
    ] = []
    payment_status: Annotated[
        str,
        Meta(description="`unpaid`, `partially_paid` (see `balance`) or `paid`: paid in full here or in the books, "
                         "which also locks the invoice."),
    ] = "unpaid"


InvoicePage = Annotated[Page[InvoiceOut], KwargDefinition(schema_component_key="InvoicePage")]


class ExportIn(Struct):
    connection_id: Annotated[
        int | None, Meta(description="Export to this connection only; default: every connected one.")
    ] = None


class BulkExportIn(Struct):
    invoice_ids: Annotated[list[Id], Meta(min_length=1, max_length=1000)]
    connection_id: int | None = None


class InvoiceActionOut(Struct):
    """The invoice after an action, and the sync runs the action queued."""

    invoice: InvoiceOut
    runs: list[SyncRunOut]


class BulkExportOut(Struct):
    runs: list[SyncRunOut]


class FromTimeEntriesIn(Struct):
    time_entry_ids: Annotated[list[Id], Meta(min_length=1, max_length=500)]
    number: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    issue_date: date | None = None
    due_date: date | None = None
    memo: Annotated[str, Meta(max_length=4000)] = ""
