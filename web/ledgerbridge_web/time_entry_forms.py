"""Recording, correcting and deleting time in the browser, through the same service as the time entries API.

A billed entry belongs to its invoice: the service refuses to change it, and the page says why.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledgerbridge.domain.time_entries import services as entries_services
from ledgerbridge.domain.time_entries.schemas import TimeEntryIn, TimeEntryPatch
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import TimeEntry
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import (
    AnyRequest,
    checked,
    failed,
    ids_from,
    page,
    person,
    see_other,
    workspace_of,
)
from ledgerbridge_web.form_specs import Back, Spec, record_form
from ledgerbridge_web.forms import FormState, decode, present, typed
from ledgerbridge_web.pickers import customer_picker, item_picker

NAMES = ["customer_id", "person", "worked_on", "hours", "rate", "item_id", "description"]
BACK = Back("/time-entries", "Time")


async def _fields(me: Caller, state: FormState) -> list[Spec]:
    """The form's fields; its pickers cost a fixed number of queries, whatever the number of customers and items."""
    return [
        Spec("picker", "customer_id", "Customer", required=True, blank="Choose a customer",
             picker=await customer_picker(me, [state.values.get("customer_id", "")])),
        Spec("text", "person", "Who", required=True, attrs='maxlength="200" autocomplete="name"'),
        Spec("date", "worked_on", "Worked on", required=True),
        Spec("text", "hours", "Hours", required=True, hint="e.g. 1.5", attrs='inputmode="decimal"'),
        Spec("text", "rate", "Hourly rate", hint="e.g. 120.00", attrs='inputmode="decimal"'),
        Spec("picker", "item_id", "Item", blank="(no item)",
             picker=await item_picker(me, [state.values.get("item_id", "")])),
        Spec("textarea", "description", "What was done"),
        Spec("checkbox", "billable", "Billable"),
    ]


def _state(form: Any) -> FormState:
    return FormState(values={**typed(form, NAMES), "billable": "on" if checked(form, "billable") else ""})


def _data(state: FormState) -> dict[str, Any]:
    return {**present(state.values, "customer_id", "person", "worked_on", "hours", "rate"),
            "item_id": state.values["item_id"] or None, "description": state.values["description"],
            "billable": state.values["billable"] == "on"}


@get("/time-entries/new", opt=needs(Permission.records_write))
async def new_entry(request: AnyRequest) -> Response[Any]:
    me = person(request)
    chosen = str(request.query_params.get("customer_id") or "")
    state = FormState(values={"worked_on": date.today().isoformat(), "billable": "on", "rate": "0",
                              "person": me.name or "", "customer_id": chosen if chosen.isdigit() else ""})
    return record_form(request, title="Record time", action="/time-entries/new", fields=await _fields(me, state),
                       state=state, submit="Save time entry", back=BACK)


@post("/time-entries/new", opt=needs(Permission.records_write))
async def create_entry(request: AnyRequest) -> Response[Any]:
    me = person(request)
    state = _state(await request.form())
    data = decode(state, _data(state), TimeEntryIn)
    if data is not None:
        try:
            created = await entries_services.create_entry(me, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other("/time-entries", notice=f"Recorded {created.hours} hours on {created.worked_on}.")
    return record_form(request, title="Record time", action="/time-entries/new", fields=await _fields(me, state),
                       state=state, submit="Save time entry", back=BACK)


async def _entry(workspace_id: int, entry_id: int) -> TimeEntry:
    row = await TimeEntry.objects().where((TimeEntry.id == entry_id) & (TimeEntry.workspace == workspace_id)).first()
    if row is None:
        raise LedgerBridgeError(f"There is no time entry {entry_id} in this workspace.", code="not_found",
                                fix="Open Time and pick one from the list.")
    return row


@get("/time-entries/{entry_id:int}/edit", opt=needs(Permission.records_write))
async def edit_entry(request: AnyRequest, entry_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    row = await _entry(ws, entry_id)
    state = FormState(values={
        "customer_id": str(row.customer), "person": row.person, "worked_on": row.worked_on.isoformat(),
        "hours": str(row.hours), "rate": str(row.rate), "item_id": str(row.item or ""),
        "description": row.description, "billable": "on" if row.billable else "",
    })
    return record_form(request, title="Edit time entry", action=f"/time-entries/{entry_id}/edit",
                       fields=await _fields(me, state), state=state, submit="Save changes", back=BACK,
                       billed=row.invoice is not None)


@post("/time-entries/{entry_id:int}/edit", opt=needs(Permission.records_write))
async def save_entry(request: AnyRequest, entry_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    await _entry(ws, entry_id)
    state = _state(await request.form())
    data = decode(state, _data(state), TimeEntryPatch)
    if data is not None:
        try:
            await entries_services.update_entry(me, entry_id=entry_id, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other("/time-entries", notice="Time entry saved.")
    return record_form(request, title="Edit time entry", action=f"/time-entries/{entry_id}/edit",
                       fields=await _fields(me, state), state=state, submit="Save changes", back=BACK)


@post("/time-entries/delete/confirm", opt=needs(Permission.records_write))
async def confirm_delete(request: AnyRequest) -> Response[Any]:
    """Deleting asks first (this answer changes nothing); the ids come from the list's checkboxes."""
    me = person(request)
    ids = ids_from(await request.form())
    rows = await TimeEntry.select(TimeEntry.id).where(
        (TimeEntry.workspace == workspace_of(me)) & TimeEntry.id.is_in(ids or [0]) & TimeEntry.invoice.is_null()
    )
    if not rows:
        return see_other("/time-entries", error="No unbilled time entry was selected.",
                         fix="Tick the entries to delete; billed entries belong to their invoice.")
    count = len(rows)
    return page(request, "confirm.html", question=f"Delete {count} time entr{'ies' if count != 1 else 'y'}?",
                explanation="They are removed for good; nothing has been billed from them yet.",
                action="/time-entries/delete", verb="Delete", cancel="/time-entries",
                hidden=[("ids", row["id"]) for row in rows])


@post("/time-entries/delete", opt=needs(Permission.records_write))
async def delete_entries(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ids = ids_from(await request.form())
    try:
        for entry_id in ids:
            await entries_services.delete_entry(me, entry_id=entry_id)
    except LedgerBridgeError as exc:
        return failed("/time-entries", exc)
    return see_other("/time-entries", notice=f"Deleted {len(ids)} time entr{'ies' if len(ids) != 1 else 'y'}.")


HANDLERS = [new_entry, create_entry, edit_entry, save_entry, confirm_delete, delete_entries]
