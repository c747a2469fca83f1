"""Time entries pushed by the host app (or typed in), to be billed with from-time-entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar import Response
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from piccolo.columns.combination import Combinable

from ledgerbridge import audit, jobs
from ledgerbridge.api.decoding import check_amount
from ledgerbridge.api.errors import Conflict
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.schemas import given_fields
from ledgerbridge.api.scoping import in_workspace, referenced
from ledgerbridge.api.sync_state import mark_links_changed
from ledgerbridge.db import is_unique_violation, write_transaction
from ledgerbridge.domain.invoices.exports import NotConnected
from ledgerbridge.domain.time_entries.schemas import (
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryPage,
    TimeEntryPatch,
    TimeSyncIn,
    TimeSyncOut,
)
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.invoicing import format_money, to_cents
from ledgerbridge.sync.books_target import books_connections
from ledgerbridge.sync.time_sync import linked_connections, queue_time_sync
from ledgerbridge.tables import Connection, Customer, Item, RecordType, TimeEntry, utcnow

HOURS_PLACES = 2


RATE_PLACES = 4


def entry_out(row: TimeEntry) -> TimeEntryOut:
    return TimeEntryOut(
        id=row.id,
        customer_id=row.customer,
        item_id=row.item,
        person=row.person,
        person_email=row.person_email,
        worked_on=row.worked_on,
        hours=format_money(row.hours),
        rate=format_money(row.rate),
        amount=format_money(to_cents(Decimal(row.hours) * Decimal(row.rate))),
        description=row.description,
        billable=row.billable,
        invoice_id=row.invoice,
        external_ref=row.external_ref,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _columns(workspace_id: int, values: dict[str, Any]) -> dict[str, Any]:
    columns = dict(values)
    if "hours" in columns:
        check_amount(columns["hours"], "hours", places=HOURS_PLACES, min_value=Decimal("0"))
    if "rate" in columns:
        check_amount(columns["rate"], "rate", places=RATE_PLACES, min_value=Decimal("0"))
    if "customer_id" in columns:
        columns["customer"] = (
            await referenced(Customer, columns.pop("customer_id"), workspace_id, "customer_id", "customer")
        ).id
    if "item_id" in columns:
        item_id = columns.pop("item_id")
        if item_id is not None:
            await referenced(Item, item_id, workspace_id, "item_id", "item")
        columns["item"] = item_id
    return columns


def _billed(entry: TimeEntry) -> Conflict:
    return Conflict(
        f"Time entry {entry.id} is billed on an invoice, so it can no longer change.",
        fix="Void that invoice first if the entry is wrong.",
    )


def _ref_taken(ref: str | None) -> Conflict:
    return Conflict(
        f"Another time entry already has external_ref {ref!r}.",
        fix=f"Update it with PUT /api/v1/time-entries/by-ref/{ref}, or use a different external_ref.",
    )


async def _update(entry: TimeEntry, columns: dict[str, Any]) -> None:
    changed = {name: value for name, value in columns.items() if getattr(entry, name) != value}
    if not changed:
        return
    if entry.invoice is not None:
        raise _billed(entry)
    linked = await linked_connections(entry.workspace, entry.id)
    try:
        async with jobs.transaction() as tx:  # the edit and the update of its synced copies commit together
            await TimeEntry.update(
                {**{getattr(TimeEntry, name): value for name, value in changed.items()}, TimeEntry.updated_at: utcnow()}
            ).where(TimeEntry.id == entry.id)
            await mark_links_changed(entry.workspace, RecordType.time_entry, entry.id)
            for connection in linked:
                await queue_time_sync(tx, connection, [entry.id], "time_entry_edit")
    except Exception as exc:
        if is_unique_violation(exc):
            raise _ref_taken(columns.get("external_ref")) from None
        raise


async def _insert(workspace_id: int, columns: dict[str, Any]) -> TimeEntry:
    now = utcnow()
    entry = TimeEntry(workspace=workspace_id, created_at=now, updated_at=now, **columns)
    await entry.save()
    return entry


async def list_entries(
    caller: Caller,
    *,
    customer_id: int | None = None,
    billed: bool | None = None,
    billable: bool | None = None,
    invoice_id: int | None = None,
    external_ref: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> TimeEntryPage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where: Combinable = TimeEntry.workspace == caller.workspace_id
    if customer_id is not None:
        where = where & (TimeEntry.customer == customer_id)
    if billed is not None:
        where = where & (TimeEntry.invoice.is_not_null() if billed else TimeEntry.invoice.is_null())
    if billable is not None:
        where = where & (TimeEntry.billable == billable)
    if invoice_id is not None:
        where = where & (TimeEntry.invoice == invoice_id)
    if external_ref:
        where = where & (TimeEntry.external_ref == external_ref)
    rows, total = await page_of(
        TimeEntry, where, limit=limit, offset=offset, order_by=TimeEntry.worked_on, ascending=False
    )
    return Page(items=[entry_out(row) for row in rows], total=total, limit=limit, offset=offset)


async def create_entry(caller: Caller, *, data: TimeEntryIn) -> TimeEntryOut:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    columns = await _columns(caller.workspace_id, given_fields(data))
    try:
        async with write_transaction():
            entry = await _insert(caller.workspace_id, columns)
    except Exception as exc:
        if is_unique_violation(exc):
            raise _ref_taken(data.external_ref) from None
        raise
    return entry_out(entry)


async def get_entry(caller: Caller, *, entry_id: int) -> TimeEntryOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return entry_out(await in_workspace(TimeEntry, entry_id, caller.workspace_id, "time entry"))


async def update_entry(caller: Caller, *, entry_id: int, data: TimeEntryPatch) -> TimeEntryOut:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    entry = await in_workspace(TimeEntry, entry_id, caller.workspace_id, "time entry")
    await _update(entry, await _columns(caller.workspace_id, given_fields(data)))
    return entry_out(await in_workspace(TimeEntry, entry_id, caller.workspace_id, "time entry"))


async def upsert_entry(caller: Caller, *, data: TimeEntryIn, ref: str) -> Response[TimeEntryOut]:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    columns = await _columns(caller.workspace_id, given_fields(data))
    columns["external_ref"] = ref
    for attempt in range(2):
        existing = (
            await TimeEntry.objects()
            .where((TimeEntry.workspace == caller.workspace_id) & (TimeEntry.external_ref == ref))
            .first()
        )
        if existing is not None:
            await _update(existing, columns)
            fresh = await in_workspace(TimeEntry, existing.id, caller.workspace_id, "time entry")
            return Response(entry_out(fresh), status_code=HTTP_200_OK)
        try:
            async with write_transaction():
                entry = await _insert(caller.workspace_id, columns)
        except Exception as exc:
            if attempt == 0 and is_unique_violation(exc):
                continue
            raise
        return Response(entry_out(entry), status_code=HTTP_201_CREATED)
    raise AssertionError("unreachable")


async def delete_entry(caller: Caller, *, entry_id: int) -> None:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    entry = await in_workspace(TimeEntry, entry_id, caller.workspace_id, "time entry")
    if entry.invoice is not None:
        raise _billed(entry)
    async with write_transaction():
        await audit.record(caller, "time_entry.delete", target_type="time_entry", target_id=entry.id,
                           before=entry_out(entry))
        await TimeEntry.delete().where((TimeEntry.id == entry.id) & TimeEntry.invoice.is_null())


async def sync_entries(caller: Caller, *, data: TimeSyncIn) -> TimeSyncOut:
    """Queue the selected entries for the books, as billable time to invoice there (HoursLogger's
    "sync times, invoice them in QuickBooks"). Refused before anything is queued when the provider
    keeps no time records."""
    require(caller, Permission.exports_run)
    assert caller.workspace_id is not None
    ids = list(dict.fromkeys(data.time_entry_ids))
    found = {row["id"] for row in await TimeEntry.select(TimeEntry.id).where(
        (TimeEntry.workspace == caller.workspace_id) & TimeEntry.id.is_in(ids))}
    missing = [entry_id for entry_id in ids if entry_id not in found]
    if missing:
        await in_workspace(TimeEntry, missing[0], caller.workspace_id, "time entry")  # raises not found
    if data.connection_id is not None:
        connection = await in_workspace(Connection, data.connection_id, caller.workspace_id, "connection")
    else:
        books = await books_connections(caller.workspace_id)
        if not books:
            raise NotConnected("No accounting software is connected, so there is nowhere to sync time to.",
                               fix="Connect one from Integrations, then sync the time entries again.")
        connection = books[0]
    async with jobs.transaction() as tx:
        run_id = await queue_time_sync(tx, connection, ids, caller.trigger)
    return TimeSyncOut(run_id=run_id, connection_id=connection.id, count=len(ids))
