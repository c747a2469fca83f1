"""Invoices: drafts with lines, their life cycle, and exporting them to the providers.

The rules (totals, transitions, numbering) are `ledgerbridge.invoicing`'s; this module checks the
request, applies the rule inside a write transaction and records the sync runs the change calls for
in that same transaction (see `ledgerbridge.api.invoice_exports`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from msgspec import UNSET
from piccolo.columns.combination import Combinable, WhereRaw

from ledgerbridge import audit, budget, invoicing, jobs
from ledgerbridge.api.decoding import check_amount
from ledgerbridge.api.errors import Conflict, Invalid, NotFound
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.schemas import given_fields
from ledgerbridge.api.scoping import in_workspace, referenced
from ledgerbridge.api.sync_state import mark_links_changed, run_out
from ledgerbridge.db import is_unique_violation, write_transaction
from ledgerbridge.domain.invoices.exports import (
    cancel_queued_exports,
    record_auto_exports,
    record_bulk_export,
    record_exports,
    retract_provider_copies,
    target_connections,
)
from ledgerbridge.domain.invoices.number_search import number_filter
from ledgerbridge.domain.invoices.output import fresh_invoice_out, invoice_out, invoices_out
from ledgerbridge.domain.invoices.schemas import (
    BulkExportIn,
    BulkExportOut,
    ExportIn,
    FromTimeEntriesIn,
    InvoiceActionOut,
    InvoiceIn,
    InvoiceOut,
    InvoicePage,
    InvoicePatch,
    LineIn,
)
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.invoicing import SyncBadge
from ledgerbridge.sync import time_sync, withdrawal
from ledgerbridge.tables import (
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Item,
    RecordType,
    SyncIssue,
    SyncRun,
    TaxRate,
    TimeEntry,
    utcnow,
)

QUANTITY_PLACES = 4


PRICE_PLACES = 4


NUMBER_ATTEMPTS = 3


async def resolve_lines(workspace_id: int, lines: list[LineIn], field: str = "lines") -> list[dict[str, Any]]:
    """Request lines to stored lines: item defaults filled in, references and amounts checked."""
    item_ids = sorted({line.item_id for line in lines if line.item_id is not None})
    items: dict[int, Item] = {}
    if item_ids:
        items = {
            item.id: item
            for item in await Item.objects().where((Item.workspace == workspace_id) & Item.id.is_in(item_ids))
        }
    rate_ids = sorted(
        {line.tax_rate_id for line in lines if isinstance(line.tax_rate_id, int)}
        | {item.tax_rate for item in items.values() if item.tax_rate is not None}
    )
    rates: set[int] = set()
    if rate_ids:
        rates = {
            row["id"]
            for row in await TaxRate.select(TaxRate.id).where(
                (TaxRate.workspace == workspace_id) & TaxRate.id.is_in(rate_ids)
            )
        }
    resolved = []
    for position, line in enumerate(lines):
        where = f"{field}[{position}]"
        item = None
        if line.item_id is not None:
            item = items.get(line.item_id)
            if item is None:
                raise Invalid(f"{where}.item_id", f"there is no item with id {line.item_id} in this workspace")
        if line.description is not UNSET:
            description = line.description
        elif item is not None:
            description = item.description or item.name
        else:
            raise Invalid(f"{where}.description", "is required when the line has no item")
        if line.unit_price is not UNSET:
            unit_price = line.unit_price
        elif item is not None:
            unit_price = item.unit_price
        else:
            raise Invalid(f"{where}.unit_price", "is required when the line has no item")
        if line.tax_rate_id is not UNSET:
            tax_rate = line.tax_rate_id
            if tax_rate is not None and tax_rate not in rates:
                raise Invalid(f"{where}.tax_rate_id", f"there is no tax rate with id {tax_rate} in this workspace")
        else:
            tax_rate = item.tax_rate if item is not None and item.taxable and item.tax_rate in rates else None
        resolved.append(
            {
                "position": position,
                "item": item.id if item is not None else None,
                "description": description,
                "quantity": check_amount(
                    line.quantity, f"{where}.quantity", places=QUANTITY_PLACES, min_value=Decimal("0")
                ),
                "unit_price": check_amount(
                    Decimal(unit_price), f"{where}.unit_price", places=PRICE_PLACES, min_value=Decimal("0")
                ),
                "tax_rate": tax_rate,
            }
        )
    return resolved


async def write_lines(invoice_id: int, lines: list[dict[str, Any]]) -> None:
    """Replace the invoice's lines and store fresh totals; call inside a write transaction."""
    await InvoiceLine.delete().where(InvoiceLine.invoice == invoice_id)
    if lines:
        await InvoiceLine.insert(*[InvoiceLine(invoice=invoice_id, **line) for line in lines])
    await invoicing.recalculate(invoice_id)


def _content(header: dict[str, Any], lines: list[dict[str, Any]]) -> tuple[Any, ...]:
    """What an invoice says, for telling a repeated push from a real change."""
    return (
        tuple(sorted(header.items())),
        tuple(
            (
                line["item"],
                line["description"],
                Decimal(line["quantity"]),
                Decimal(line["unit_price"]),
                line["tax_rate"],
            )
            for line in lines
        ),
    )


async def _stored_content(invoice: Invoice, fields: set[str]) -> tuple[Any, ...]:
    rows = await InvoiceLine.select().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.position)
    header = {name: getattr(invoice, name) for name in fields}
    return _content(header, rows)


async def _header(workspace_id: int, values: dict[str, Any], current: Invoice | None) -> dict[str, Any]:
    """Request header fields to columns, checked; `current` fills in what a patch leaves out."""
    columns: dict[str, Any] = {}
    if "customer_id" in values:
        customer = await referenced(Customer, values["customer_id"], workspace_id, "customer_id", "customer")
        columns["customer"] = customer.id
        if values.get("currency", UNSET) is UNSET and current is None:
            columns["currency"] = customer.currency
    for name in ("number", "issue_date", "due_date", "memo", "external_ref"):
        if name in values and not (name in ("number", "issue_date") and values[name] is None):
            columns[name] = values[name]
    if values.get("currency", UNSET) is not UNSET:
        columns["currency"] = values["currency"]
    if current is None and columns.get("issue_date") is None:
        columns["issue_date"] = utcnow().date()
    issue_date = columns.get("issue_date", current.issue_date if current else None)
    due_date = columns.get("due_date", current.due_date if current else None)
    if issue_date and due_date and due_date < issue_date:
        raise Invalid("due_date", "is before issue_date")
    return columns


async def _check_unique(workspace_id: int, columns: dict[str, Any], invoice_id: int | None) -> None:
    others: Combinable = Invoice.workspace == workspace_id
    if invoice_id is not None:
        others = others & (Invoice.id != invoice_id)
    if columns.get("number") and await Invoice.exists().where(others & (Invoice.number == columns["number"])):
        raise Conflict(
            f"Invoice number {columns['number']} is already used in this workspace.",
            fix="Choose another number, or leave it out to get the next one.",
        )
    ref = columns.get("external_ref")
    if ref and await Invoice.exists().where(others & (Invoice.external_ref == ref)):
        raise Conflict(
            f"Another invoice already has external_ref {ref!r}.",
            fix=f"Update that invoice with PUT /api/v1/invoices/by-ref/{ref}, or use a different external_ref.",
        )


async def create_invoice(workspace_id: int, columns: dict[str, Any], lines: list[dict[str, Any]]) -> int:
    """Insert a draft with its lines. Without a number it takes the next in the series, retrying
    when a concurrent insert took the same one (PostgreSQL; SQLite serialises the writers)."""
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            async with write_transaction():
                await _check_unique(workspace_id, columns, None)
                number = columns.get("number") or await invoicing.next_invoice_number(workspace_id)
                now = utcnow()
                invoice = Invoice(
                    workspace=workspace_id,
                    status=InvoiceStatus.draft,
                    created_at=now,
                    updated_at=now,
                    **{**columns, "number": number},
                )
                await invoice.save()
                await write_lines(invoice.id, lines)
                return invoice.id
        except Exception as exc:
            if is_unique_violation(exc) and attempt < NUMBER_ATTEMPTS - 1:
                continue
            if is_unique_violation(exc):
                raise Conflict(
                    "Another invoice with the same number or external_ref was saved at the same moment.",
                    fix="Send the request again.",
                ) from None
            raise
    raise AssertionError("unreachable")


async def _update_invoice(
    workspace_id: int, invoice_id: int, columns: dict[str, Any], lines: list[dict[str, Any]] | None
) -> None:
    async with write_transaction():
        invoice = await Invoice.objects().where(Invoice.id == invoice_id).first()
        assert invoice is not None
        invoicing.check_editable(invoice.status, invoice.locked, invoice.number)
        await _check_unique(workspace_id, columns, invoice_id)
        if columns:
            await Invoice.update(
                {**{getattr(Invoice, name): value for name, value in columns.items()}, Invoice.updated_at: utcnow()}
            ).where(Invoice.id == invoice_id)
        if lines is not None:
            await write_lines(invoice_id, lines)
        await mark_links_changed(workspace_id, RecordType.invoice, invoice_id)


def _linked(workspace_id: int, states: tuple[str, ...] | None = None) -> Any:
    where = (ExternalLink.workspace == workspace_id) & (ExternalLink.record_type == RecordType.invoice)
    if states:
        where = where & ExternalLink.state.is_in(list(states))
    return ExternalLink.select(ExternalLink.record_id).where(where)


def _has_link(workspace_id: int, exists: bool = True) -> Combinable:
    """Whether the invoice has any link, asked per invoice (an index probe on
    `externallink_workspace_type_record`) rather than as `id IN (every link of the workspace)`,
    which builds the whole set on every query: at 100,000 invoices that was most of the list's time.
    Only for queries on the invoice table itself (the subquery names `"invoice"."id"`)."""
    return WhereRaw(
        f'{"" if exists else "NOT "}EXISTS (SELECT 1 FROM "external_link" WHERE "external_link"."workspace" = {{}} '
        'AND "external_link"."record_type" = {} AND "external_link"."record_id" = "invoice"."id")',
        workspace_id, RecordType.invoice.value,
    )


def _with_issues(workspace_id: int) -> Any:
    return SyncIssue.select(SyncIssue.record_id).where(
        (SyncIssue.workspace == workspace_id)
        & (SyncIssue.record_type == RecordType.invoice)
        & SyncIssue.record_id.is_not_null()
        & SyncIssue.resolved_at.is_null()
    )


def badge_filter(workspace_id: int, badge: SyncBadge) -> Combinable:
    """`invoicing.sync_badge` as SQL, so the filter pages correctly; the two must agree."""
    ws = workspace_id
    not_error = Invoice.id.not_in(_linked(ws, invoicing.ERROR_LINK_STATES)) & Invoice.id.not_in(_with_issues(ws))
    not_warning = Invoice.id.not_in(_linked(ws, invoicing.WARNING_LINK_STATES))
    not_changed = Invoice.id.not_in(_linked(ws, invoicing.CHANGED_LINK_STATES))
    if badge == SyncBadge.error:
        return Invoice.id.is_in(_linked(ws, invoicing.ERROR_LINK_STATES)) | Invoice.id.is_in(_with_issues(ws))
    if badge == SyncBadge.warning:
        return Invoice.id.is_in(_linked(ws, invoicing.WARNING_LINK_STATES)) & not_error
    if badge == SyncBadge.pending:
        pending = Invoice.id.is_in(_linked(ws, invoicing.PENDING_LINK_STATES)) | (
            Invoice.locked.eq(True) & _has_link(ws, exists=False)
        )
        return pending & not_error & not_warning
    # An invoice with a link is never "locked with no link": these two test only the pending links.
    # (Testing `locked` as well, as they did, made PostgreSQL hash every link of the workspace per query.)
    no_pending_link = Invoice.id.not_in(_linked(ws, invoicing.PENDING_LINK_STATES))
    if badge == SyncBadge.needs_sync:
        return Invoice.id.is_in(_linked(ws, invoicing.CHANGED_LINK_STATES)) & not_error & not_warning & no_pending_link
    if badge == SyncBadge.synced:
        return _has_link(ws) & not_error & not_warning & no_pending_link & not_changed
    return _has_link(ws, exists=False) & Invoice.locked.eq(False) & not_error


def _action_out(invoice: InvoiceOut, runs: list[SyncRun]) -> InvoiceActionOut:
    return InvoiceActionOut(invoice=invoice, runs=[run_out(run) for run in runs])


async def _locked_for_action(workspace_id: int, invoice_id: int) -> Invoice:
    """Re-read the invoice inside the action's transaction, so the check and the change agree."""
    invoice = await Invoice.objects().where((Invoice.id == invoice_id) & (Invoice.workspace == workspace_id)).first()
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    return invoice


async def _line_count(invoice_id: int) -> int:
    return await InvoiceLine.count().where(InvoiceLine.invoice == invoice_id)


def _time_line_description(entry: TimeEntry) -> str:
    what = entry.description or "Time"
    return f"{entry.worked_on.isoformat()} · {entry.person}: {what}"


async def _bill(workspace_id: int, entry_ids: list[int], header: dict[str, Any], lines: list[dict[str, Any]]) -> int:
    """Create the invoice and mark the entries billed by it in one transaction: if any entry was
    billed meanwhile, nothing is saved."""
    async with write_transaction():
        invoice_id = await create_invoice(workspace_id, header, lines)
        billed = (
            await TimeEntry.update({TimeEntry.invoice: invoice_id, TimeEntry.updated_at: utcnow()})
            .where(TimeEntry.id.is_in(entry_ids) & TimeEntry.invoice.is_null())
            .returning(TimeEntry.id)
        )
        if len(billed) != len(entry_ids):
            raise _already_billed()
    return invoice_id


def _already_billed(entry_ids: list[int] | None = None) -> Conflict:
    which = f"Time entries {entry_ids} are" if entry_ids else "Some of these time entries are"
    return Conflict(
        f"{which} already on an invoice.",
        fix="Leave the billed entries out, or void the invoice they are on first.",
    )


async def list_invoices(
    caller: Caller,
    *,
    status: InvoiceStatus | None = None,
    customer_id: int | None = None,
    sync: SyncBadge | None = None,
    q: str | None = None,
    external_ref: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> InvoicePage:
    require(caller, Permission.read)
    ws = caller.workspace_id
    assert ws is not None
    # A search names its few matches by id (`number_search`, the admin list's own), held to the workspace.
    where: Combinable = await number_filter(ws, q) if q else Invoice.workspace == ws
    if status is not None:
        where = where & (Invoice.status == status)
    if customer_id is not None:
        where = where & (Invoice.customer == customer_id)
    if sync is not None:
        where = where & badge_filter(ws, sync)
    if external_ref:
        where = where & (Invoice.external_ref == external_ref)
    rows, total = await page_of(
        Invoice, where, limit=limit, offset=offset, order_by=Invoice.issue_date, ascending=False
    )
    return Page(items=await invoices_out(ws, rows), total=total, limit=limit, offset=offset)


async def create(caller: Caller, *, data: InvoiceIn) -> InvoiceOut:
    require(caller, Permission.records_write)
    ws = caller.workspace_id
    assert ws is not None
    values = given_fields(data)
    lines = await resolve_lines(ws, values.pop("lines"))
    invoice_id = await create_invoice(ws, await _header(ws, values, None), lines)
    return await fresh_invoice_out(ws, invoice_id)


async def get_invoice(caller: Caller, *, invoice_id: int) -> InvoiceOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return await invoice_out(
        caller.workspace_id, await in_workspace(Invoice, invoice_id, caller.workspace_id, "invoice")
    )


async def update(caller: Caller, *, invoice_id: int, data: InvoicePatch) -> InvoiceOut:
    require(caller, Permission.records_write)
    ws = caller.workspace_id
    assert ws is not None
    invoice = await in_workspace(Invoice, invoice_id, ws, "invoice")
    invoicing.check_editable(invoice.status, invoice.locked, invoice.number)
    values = given_fields(data)
    raw_lines = values.pop("lines", None)
    lines = await resolve_lines(ws, raw_lines) if raw_lines is not None else None
    await _update_invoice(ws, invoice_id, await _header(ws, values, invoice), lines)
    return await fresh_invoice_out(ws, invoice_id)


async def upsert(caller: Caller, *, data: InvoiceIn, ref: str) -> tuple[InvoiceOut, bool]:
    """The record after the push, and whether it was created (201) rather than found (200)."""
    require(caller, Permission.records_write)
    ws = caller.workspace_id
    assert ws is not None
    values = given_fields(data)
    values["external_ref"] = ref
    lines = await resolve_lines(ws, values.pop("lines"))
    existing = await Invoice.objects().where((Invoice.workspace == ws) & (Invoice.external_ref == ref)).first()
    if existing is None:
        try:
            invoice_id = await create_invoice(ws, await _header(ws, values, None), lines)
        except Conflict:
            existing = (
                await Invoice.objects().where((Invoice.workspace == ws) & (Invoice.external_ref == ref)).first()
            )
            if existing is None:
                raise
        else:
            return await fresh_invoice_out(ws, invoice_id), True
    columns = await _header(ws, values, existing)
    if await _stored_content(existing, set(columns)) == _content(columns, lines):
        return await invoice_out(ws, existing), False
    await _update_invoice(ws, existing.id, columns, lines)
    return await fresh_invoice_out(ws, existing.id), False


async def delete_invoice(caller: Caller, *, invoice_id: int) -> None:
    require(caller, Permission.records_write)
    ws = caller.workspace_id
    assert ws is not None
    async with write_transaction():
        invoice = await _locked_for_action(ws, invoice_id)
        exported = await ExternalLink.exists().where(
            (ExternalLink.record_type == RecordType.invoice)
            & (ExternalLink.record_id == invoice.id)
            & ExternalLink.remote_id.is_not_null()
        )
        if invoice.status != InvoiceStatus.draft or invoice.locked or exported:
            raise Conflict(
                f"Invoice {invoice.number} is {invoice.status} or has a copy in a provider.",
                fix="Void it instead, so the record of what was billed stays.",
            )
        await audit.record(caller, "invoice.delete", target_type="invoice", target_id=invoice.id,
                           before={"number": invoice.number, "status": invoice.status, "total": invoice.total})
        await cancel_queued_exports(ws, invoice.id)
        await ExternalLink.delete().where(
            (ExternalLink.record_type == RecordType.invoice) & (ExternalLink.record_id == invoice.id)
        )
        await Invoice.delete().where(Invoice.id == invoice.id)


async def finalize(caller: Caller, *, invoice_id: int) -> InvoiceOut:
    require(caller, Permission.records_write)
    ws = caller.workspace_id
    assert ws is not None
    async with write_transaction():
        invoice = await _locked_for_action(ws, invoice_id)
        status = invoicing.finalize(invoice.status, invoice.number, await _line_count(invoice.id))
        await Invoice.update({Invoice.status: status, Invoice.updated_at: utcnow()}).where(Invoice.id == invoice.id)
    return await fresh_invoice_out(ws, invoice_id)


async def send(caller: Caller, *, invoice_id: int) -> InvoiceActionOut:
    require(caller, Permission.exports_run)
    ws = caller.workspace_id
    assert ws is not None
    async with jobs.transaction() as tx:
        invoice = await _locked_for_action(ws, invoice_id)
        status = invoicing.send(invoice.status, invoice.number, await _line_count(invoice.id))
        await Invoice.update(
            {Invoice.status: status, Invoice.sent_at: invoice.sent_at or utcnow(), Invoice.updated_at: utcnow()}
        ).where(Invoice.id == invoice.id)
        runs = await record_auto_exports(tx, caller, invoice.id)
        await audit.record(caller, "invoice.send", target_type="invoice", target_id=invoice.id,
                           before={"number": invoice.number, "status": invoice.status},
                           after={"status": status, "export_runs": [run.id for run in runs]})
    return _action_out(await fresh_invoice_out(ws, invoice_id), runs)


async def export(caller: Caller, *, invoice_id: int, data: ExportIn | None = None) -> InvoiceActionOut:
    require(caller, Permission.exports_run)
    ws = caller.workspace_id
    assert ws is not None
    connection_id = data.connection_id if data is not None else None
    async with jobs.transaction() as tx:
        invoice = await _locked_for_action(ws, invoice_id)
        invoicing.check_exportable(invoice.status, invoice.number)
        runs = await record_exports(tx, caller, invoice.id, await target_connections(ws, connection_id))
        await audit.record(caller, "invoice.export", target_type="invoice", target_id=invoice.id,
                           before={"number": invoice.number, "status": invoice.status},
                           after={"connections": [run.connection for run in runs], "runs": [run.id for run in runs]})
    return _action_out(await fresh_invoice_out(ws, invoice_id), runs)


async def revert_to_draft(caller: Caller, *, invoice_id: int) -> InvoiceActionOut:
    require(caller, Permission.books_write)
    ws = caller.workspace_id
    assert ws is not None
    # Before anything changes here: a copy the books hold payments for cannot be taken back.
    await withdrawal.check_withdrawable(ws, await _locked_for_action(ws, invoice_id))
    async with jobs.transaction() as tx:
        invoice = await _locked_for_action(ws, invoice_id)
        status = invoicing.revert_to_draft(invoice.status, invoice.number)
        await Invoice.update({Invoice.status: status, Invoice.locked: False, Invoice.updated_at: utcnow()}).where(
            Invoice.id == invoice.id
        )
        runs = await retract_provider_copies(tx, caller, invoice)
        await audit.record(caller, "invoice.revert", target_type="invoice", target_id=invoice.id,
                           before={"number": invoice.number, "status": invoice.status, "locked": invoice.locked},
                           after={"status": status, "locked": False, "runs": [run.id for run in runs]})
    return _action_out(await fresh_invoice_out(ws, invoice_id), runs)


async def void(caller: Caller, *, invoice_id: int) -> InvoiceActionOut:
    require(caller, Permission.books_write)
    ws = caller.workspace_id
    assert ws is not None
    # Before anything changes here: a copy the books hold payments for cannot be taken back.
    await withdrawal.check_withdrawable(ws, await _locked_for_action(ws, invoice_id))
    async with jobs.transaction() as tx:
        invoice = await _locked_for_action(ws, invoice_id)
        status = invoicing.void(invoice.status, invoice.number)
        await Invoice.update({Invoice.status: status, Invoice.updated_at: utcnow()}).where(Invoice.id == invoice.id)
        # The work was not billed after all: it can go on another invoice, and the books hear it is billable.
        freed = await TimeEntry.update({TimeEntry.invoice: None, TimeEntry.updated_at: utcnow()}).where(
            TimeEntry.invoice == invoice.id
        ).returning(TimeEntry.id)
        runs = await retract_provider_copies(tx, caller, invoice)
        time_runs = await time_sync.queue_freed_time(tx, ws, [row["id"] for row in freed], caller.trigger)
        await audit.record(caller, "invoice.void", target_type="invoice", target_id=invoice.id,
                           before={"number": invoice.number, "status": invoice.status, "total": invoice.total},
                           after={"status": status, "runs": [run.id for run in runs],
                                  "freed_time_entries": [row["id"] for row in freed],
                                  "time_runs": [run.id for run in time_runs]})
        runs = [*runs, *time_runs]
    return _action_out(await fresh_invoice_out(ws, invoice_id), runs)


async def export_many(caller: Caller, *, data: BulkExportIn) -> BulkExportOut:
    require(caller, Permission.exports_run)
    ws = caller.workspace_id
    assert ws is not None
    ids = list(dict.fromkeys(data.invoice_ids))
    async with jobs.transaction() as tx:
        rows = await Invoice.select(Invoice.id, Invoice.number, Invoice.status).where(
            (Invoice.workspace == ws) & Invoice.id.is_in(ids)
        )
        found = {row["id"]: row for row in rows}
        missing = [invoice_id for invoice_id in ids if invoice_id not in found]
        if missing:
            raise NotFound("invoice", ", ".join(str(i) for i in missing))
        drafts = [found[i]["number"] for i in ids if found[i]["status"] == InvoiceStatus.draft]
        if drafts:
            raise invoicing.InvoiceIsDraft(
                f"These invoices are drafts, and drafts are not exported: {', '.join(drafts)}.",
                fix="Finalize them first, or leave them out of the export.",
            )
        voided = [found[i]["number"] for i in ids if found[i]["status"] == InvoiceStatus.void]
        if voided:
            raise invoicing.InvoiceIsVoid(
                f"These invoices are void: {', '.join(voided)}.", fix="Leave them out of the export."
            )
        targets = await target_connections(ws, data.connection_id)
        for target in targets:
            await budget.check(target, ids)
        runs = await record_bulk_export(tx, caller, ids, targets)
        await audit.record(caller, "invoice.export_many", target_type="invoice", target_id=",".join(map(str, ids)),
                           after={"invoices": ids, "connections": [t.id for t in targets],
                                  "runs": [run.id for run in runs]})
    return BulkExportOut(runs=[run_out(run) for run in runs])


async def from_time_entries(caller: Caller, *, data: FromTimeEntriesIn) -> InvoiceOut:
    require(caller, Permission.records_write)
    ws = caller.workspace_id
    assert ws is not None
    ids = list(dict.fromkeys(data.time_entry_ids))
    entries = (
        await TimeEntry.objects()
        .where((TimeEntry.workspace == ws) & TimeEntry.id.is_in(ids))
        .order_by(TimeEntry.worked_on)
        .order_by(TimeEntry.id)
    )
    missing = sorted(set(ids) - {entry.id for entry in entries})
    if missing:
        raise NotFound("time entry", ", ".join(str(i) for i in missing))
    customers = {entry.customer for entry in entries}
    if len(customers) > 1:
        raise Invalid("time_entry_ids", "the entries belong to different customers; bill one customer at a time")
    billed = [entry.id for entry in entries if entry.invoice is not None]
    if billed:
        raise _already_billed(billed)
    unbillable = [entry.id for entry in entries if not entry.billable]
    if unbillable:
        raise Invalid("time_entry_ids", f"entries {unbillable} are marked not billable")
    lines = [
        LineIn(
            item_id=entry.item,
            description=_time_line_description(entry),
            quantity=entry.hours,
            unit_price=entry.rate if entry.rate or entry.item is None else UNSET,
        )
        for entry in entries
    ]
    resolved = await resolve_lines(ws, lines, field="time_entry_ids")
    header = await _header(
        ws,
        {
            "customer_id": customers.pop(),
            "number": data.number,
            "issue_date": data.issue_date,
            "due_date": data.due_date,
            "memo": data.memo,
        },
        None,
    )
    invoice_id = await _bill(ws, ids, header, resolved)
    return await fresh_invoice_out(ws, invoice_id)
