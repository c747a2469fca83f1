"""Time entries: billable work by customer, billed into a draft invoice in one step."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from ledgerbridge.domain.invoices import services as invoices_services
from ledgerbridge.domain.invoices.schemas import FromTimeEntriesIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import TimeEntry
from litestar import Response, get, post

from ledgerbridge_web.common import AnyRequest, failed, ids_from, page, person, see_other, workspace_of

ENTRIES_SHOWN = 500


@get("/time-entries")
async def entry_list(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    show_billed = request.query_params.get("billed") == "1"
    where = (TimeEntry.workspace == ws) & TimeEntry.billable.eq(True)
    if not show_billed:
        where = where & TimeEntry.invoice.is_null()
    rows = await TimeEntry.select(
        TimeEntry.id, TimeEntry.customer, TimeEntry.customer.name.as_alias("customer_name"), TimeEntry.person,
        TimeEntry.worked_on, TimeEntry.hours, TimeEntry.rate, TimeEntry.description, TimeEntry.invoice,
        TimeEntry.invoice.number.as_alias("invoice_number"),
    ).where(where).order_by(TimeEntry.customer.name).order_by(TimeEntry.worked_on).limit(ENTRIES_SHOWN)
    groups = [(name, list(entries)) for name, entries in groupby(rows, key=lambda row: row["customer_name"])]
    return page(request, "time_entries.html", groups=groups, show_billed=show_billed)


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


HANDLERS = [entry_list, bill]
