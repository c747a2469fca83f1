"""Creating and correcting a customer in the browser, through the same service as `POST /api/v1/customers`."""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.customers import services as customers_services
from ledgerbridge.domain.customers.schemas import CustomerIn, CustomerPatch
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import Connection, ConnectionStatus, Customer, CustomerKind
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import AnyRequest, person, see_other, workspace_of
from ledgerbridge_web.form_specs import Back, Spec, record_form
from ledgerbridge_web.forms import FormState, decode, present, typed

FIELDS = [
    Spec("text", "name", "Name", required=True, hint="As it appears on invoices.", attrs='maxlength="255"'),
    Spec("text", "company", "Company"),
    Spec("email", "email", "Email", hint="Where invoices are sent."),
    Spec("text", "phone", "Phone"),
    Spec("text", "address_line1", "Address"),
    Spec("text", "city", "City"),
    Spec("text", "postal_code", "Postal code"),
    Spec("text", "country", "Country"),
    Spec("text", "currency", "Currency", required=True, hint="Three letters, e.g. USD, EUR, GBP.",
         attrs='maxlength="3" autocapitalize="characters"'),
    Spec("select", "kind", "Kind", options=tuple((kind.value, kind.value.capitalize()) for kind in CustomerKind)),
    Spec("textarea", "notes", "Notes"),
]
NAMES = [spec.name for spec in FIELDS]
TEXT = [name for name in NAMES if name not in ("name", "currency", "kind")]


def _values(form: Any) -> dict[str, str]:
    values = typed(form, NAMES)
    values["currency"] = values["currency"].upper()
    return values


async def _home_currency(workspace_id: int) -> str:
    """The connected company's own currency first: a customer billed in another one is a conversion surprise."""
    rows = await Connection.select(Connection.currency).where(
        (Connection.workspace == workspace_id) & (Connection.status == ConnectionStatus.connected)
    ).order_by(Connection.id)
    return next((row["currency"] for row in rows if row["currency"]), "USD")


@get("/customers/new", opt=needs(Permission.records_write))
async def new_customer(request: AnyRequest) -> Response[Any]:
    ws = workspace_of(person(request))
    state = FormState(values={"currency": await _home_currency(ws), "kind": CustomerKind.business.value})
    return record_form(request, title="New customer", action="/customers/new", fields=FIELDS, state=state,
                       submit="Create customer", back=Back("/customers", "Customers"))


@post("/customers/new", opt=needs(Permission.records_write))
async def create_customer(request: AnyRequest) -> Response[Any]:
    me = person(request)
    state = FormState(values=_values(await request.form()))
    data = decode(state, {**present(state.values, "name", "currency", "kind"),
                          **{name: state.values[name] for name in TEXT}}, CustomerIn)
    if data is not None:
        try:
            created = await customers_services.create_customer(me, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other(f"/customers/{created.id}", notice=f"Customer {created.name} created.")
    return record_form(request, title="New customer", action="/customers/new", fields=FIELDS, state=state,
                       submit="Create customer", back=Back("/customers", "Customers"))


async def _customer(request: AnyRequest, customer_id: int) -> Customer:
    ws = workspace_of(person(request))
    row = await Customer.objects().where((Customer.id == customer_id) & (Customer.workspace == ws)).first()
    if row is None:
        raise LedgerBridgeError(f"There is no customer {customer_id} in this workspace.", code="not_found",
                                fix="Open Customers and pick one from the list.")
    return row


@get("/customers/{customer_id:int}/edit", opt=needs(Permission.records_write))
async def edit_customer(request: AnyRequest, customer_id: FromPath[int]) -> Response[Any]:
    row = await _customer(request, customer_id)
    state = FormState(values={name: str(getattr(row, name) or "") for name in NAMES})
    return record_form(request, title=f"Edit {row.name}", action=f"/customers/{customer_id}/edit", fields=FIELDS,
                       state=state, submit="Save changes", back=Back(f"/customers/{customer_id}", row.name))


@post("/customers/{customer_id:int}/edit", opt=needs(Permission.records_write))
async def save_customer(request: AnyRequest, customer_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    row = await _customer(request, customer_id)
    state = FormState(values=_values(await request.form()))
    data = decode(state, {name: state.values[name] for name in NAMES}, CustomerPatch)
    if data is not None:
        try:
            saved = await customers_services.update_customer(me, customer_id=customer_id, data=data)
        except LedgerBridgeError as exc:
            state.refuse(exc)
        else:
            return see_other(f"/customers/{customer_id}", notice=f"Customer {saved.name} saved.")
    return record_form(request, title=f"Edit {row.name}", action=f"/customers/{customer_id}/edit", fields=FIELDS,
                       state=state, submit="Save changes", back=Back(f"/customers/{customer_id}", row.name))


HANDLERS = [new_customer, create_customer, edit_customer, save_customer]
