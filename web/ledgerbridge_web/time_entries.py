"""Time entries: billable work by customer, billed into a draft invoice in one step."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from ledgerbridge.domain.invoices import services as invoices_services
from ledgerbridge.domain.invoices.schemas import FromTimeEntriesIn
from ledgerbridge.domain.time_entries import services as time_services
from ledgerbridge.domain.time_entries.schemas import TimeSyncIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.plugins import get_registry
from ledgerbridge.sync.books_target import books_connections
from ledgerbridge.sync.time_sync import keeps_time
from ledgerbridge.tables import TimeEntry
from litestar import Response, get, post

from ledgerbridge_web.common import (
    PAGE_SIZE,
    AnyRequest,
    Paging,
    capped_count,
    failed,
    ids_from,
    page,
    page_number,
    person,
    see_other,
    workspace_of,
)


@get("/time-entries")
async def entry_list(request: AnyRequest) -> Response[Any]:
    """A page of entries at a time, grouped by customer (a group may go on over the next page): the
    list used to show the first 500, and at 20,000 entries rendering those took most of its time."""
    me = person(request)
    ws = workspace_of(me)
    show_billed = request.query_params.get("billed") == "1"
    where = (TimeEntry.workspace == ws) & TimeEntry.billable.eq(True)
    if not show_billed:
        where = where & TimeEntry.invoice.is_null()
    paging = Paging(page_number(request), await capped_count(TimeEntry, where, page_number(request)))
    rows = await TimeEntry.select(
        TimeEntry.id, TimeEntry.customer, TimeEntry.customer.name.as_alias("customer_name"), TimeEntry.person,
        TimeEntry.worked_on, TimeEntry.hours, TimeEntry.rate, TimeEntry.description, TimeEntry.invoice,
        TimeEntry.invoice.number.as_alias("invoice_number"),
    ).where(where).order_by(TimeEntry.customer.name).order_by(TimeEntry.worked_on).order_by(TimeEntry.id).limit(
        PAGE_SIZE).offset(paging.offset)
    groups = [(name, list(entries)) for name, entries in groupby(rows, key=lambda row: row["customer_name"])]
    books = await books_connections(ws)
    time_books = books[0] if books and keeps_time(books[0]) else None
    no_time = get_registry().provider(books[0].provider).name if books and time_books is None else ""
    return page(request, "time_entries.html", groups=groups, show_billed=show_billed, time_books=time_books,
                no_time=no_time, paging=paging, link=lambda n: paging.link(request, n))


@post("/time-entries/invoice", opt=needs(Permission.records_write))
async def bill(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    ids = ids_from(form)
    if not ids:
        return see_other("/time-entries", error="No time entry was selected.", fix="Tick the entries to bill.")
    try:
        invoice = await invoices_services.from_time_entries(
            me, data=FromTimeEntriesIn(time_entry_ids=ids)
        )
    except LedgerBridgeError as exc:
        return failed("/time-entries", exc)
    return see_other(f"/invoices/{invoice.id}", notice=f"Invoice {invoice.number} created from {len(ids)} entries.")


@post("/time-entries/sync", opt=needs(Permission.exports_run))
async def sync(request: AnyRequest) -> Response[Any]:
    """Send the ticked entries to the books on their own, as billable time to invoice there."""
    me = person(request)
    form = await request.form()
    ids = ids_from(form)
    if not ids:
        return see_other("/time-entries", error="No time entry was selected.", fix="Tick the entries to sync.")
    try:
        queued = await time_services.sync_entries(me, data=TimeSyncIn(time_entry_ids=ids))
    except LedgerBridgeError as exc:
        return failed("/time-entries", exc)
    plural = "y" if queued.count == 1 else "ies"
    return see_other(f"/sync-history/{queued.run_id}", notice=f"Syncing {queued.count} time entr{plural} to the books.")


HANDLERS = [entry_list, bill, sync]
