"""Creating and correcting an item (with its income account) through the same service as the items API."""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.items import services as items_services
from ledgerbridge.domain.items.schemas import ItemIn, ItemPatch
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import Item, ItemKind
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import AnyRequest, checked, person, provider_name, see_other, workspace_of
from ledgerbridge_web.form_specs import Back, Spec, record_form
from ledgerbridge_web.forms import FormState, decode, present, typed
from ledgerbridge_web.items import income_accounts

NAMES = ["name", "description", "kind", "unit_price", "income_account_id", "active"]


async def _fields(workspace_id: int) -> list[Spec]:
    accounts = await income_accounts(workspace_id)
    fields = [
        Spec("text", "name", "Name", required=True, attrs='maxlength="200"'),
        Spec("textarea", "description", "Description", hint="The line's text on invoices."),
        Spec("select", "kind", "Kind", options=tuple((kind.value, kind.value.capitalize()) for kind in ItemKind)),
        Spec("text", "unit_price", "Unit price", hint="e.g. 120.00", attrs='inputmode="decimal"'),
    ]
    if accounts:
        options = tuple(
            (str(row["id"]), f"{row['name']}{' (' + row['code'] + ')' if row['code'] else ''} · "
                             f"{provider_name(row['provider'])}")
            for row in accounts
        )
        fields.append(Spec("select", "income_account_id", "Income account", options=options, blank="(none yet)"))
    fields.append(Spec("checkbox", "active", "Active (offered on new invoices)"))
    return fields


def _data(state: FormState, form: Any) -> dict[str, Any]:
    data: dict[str, Any] = {**present(state.values, "name", "kind", "unit_price"),
                            "description": state.values["description"], "active": checked(form, "active")}
    if "income_account_id" in form:
        data["income_account_id"] = state.values["income_account_id"] or None
    return data


@get("/items/new", opt=needs(Permission.records_write))
async def new_item(request: AnyRequest) -> Response[Any]:
    ws = workspace_of(person(request))
    state = FormState(values={"kind": ItemKind.service.value, "unit_price": "0.00", "active": "on"})
    return record_form(request, title="New item", action="/items/new", fields=await _fields(ws), state=state,
                       submit="Create item", back=Back("/items", "Items"))


@post("/items/new", opt=needs(Permission.records_write))
async def create_item(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    state = FormState(values={**typed(form, NAMES), "active": "on" if checked(form, "active") else ""})
    data = decode(state, _data(state, form), ItemIn)
    if data is not None:
        try:
            created = await items_services.create_item(me, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other("/items", notice=f"Item {created.name} created.")
    return record_form(request, title="New item", action="/items/new", fields=await _fields(workspace_of(me)),
                       state=state, submit="Create item", back=Back("/items", "Items"))


async def _item(workspace_id: int, item_id: int) -> Item:
    row = await Item.objects().where((Item.id == item_id) & (Item.workspace == workspace_id)).first()
    if row is None:
        raise LedgerBridgeError(f"There is no item {item_id} in this workspace.", code="not_found",
                                fix="Open Items and pick one from the list.")
    return row


@get("/items/{item_id:int}/edit", opt=needs(Permission.records_write))
async def edit_item(request: AnyRequest, item_id: FromPath[int]) -> Response[Any]:
    ws = workspace_of(person(request))
    row = await _item(ws, item_id)
    state = FormState(values={"name": row.name, "description": row.description, "kind": str(row.kind),
                              "unit_price": f"{row.unit_price:.2f}", "active": "on" if row.active else "",
                              "income_account_id": str(row.income_account or "")})
    return record_form(request, title=f"Edit {row.name}", action=f"/items/{item_id}/edit", fields=await _fields(ws),
                       state=state, submit="Save changes", back=Back("/items", "Items"))


@post("/items/{item_id:int}/edit", opt=needs(Permission.records_write))
async def save_item(request: AnyRequest, item_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    row = await _item(ws, item_id)
    form = await request.form()
    state = FormState(values={**typed(form, NAMES), "active": "on" if checked(form, "active") else ""})
    data = decode(state, _data(state, form), ItemPatch)
    if data is not None:
        try:
            saved = await items_services.update_item(me, item_id=item_id, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other("/items", notice=f"Item {saved.name} saved.")
    return record_form(request, title=f"Edit {row.name}", action=f"/items/{item_id}/edit", fields=await _fields(ws),
                       state=state, submit="Save changes", back=Back("/items", "Items"))


HANDLERS = [new_item, create_item, edit_item, save_item]
