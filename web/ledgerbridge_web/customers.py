"""Customers: search and filter, where each came from, archive (never delete a linked one), re-sync.

Before importing, the review page (customer_review.py) shows what an import would do, row by row;
"Import from <provider>" here queues the whole import, whose run shows what it linked and created.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.api.paging import contains
from ledgerbridge.api.sync_state import links_for
from ledgerbridge.domain.connections import services as connections_services
from ledgerbridge.domain.connections.schemas import SyncRequestIn
from ledgerbridge.domain.customers import services as customers_services
from ledgerbridge.domain.customers.schemas import CustomerPatch
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import Connection, ConnectionStatus, Customer, RecordType
from litestar import Response, get, post
from litestar.params import FromPath
from piccolo.columns.combination import Combinable

from ledgerbridge_web.common import (
    PAGE_SIZE,
    AnyRequest,
    Paging,
    capped_count,
    failed,
    page,
    page_number,
    person,
    see_other,
    workspace_of,
)


@get("/customers")
async def customer_list(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    query = request.query_params
    chosen = {name: str(query.get(name) or "") for name in ("q", "state", "source")}
    where: Combinable = Customer.workspace == ws
    if chosen["q"].strip():
        where = where & (contains(Customer.name, chosen["q"]) | contains(Customer.email, chosen["q"]))
    if chosen["state"] == "active":
        where = where & Customer.active.eq(True)
    elif chosen["state"] == "archived":
        where = where & Customer.active.eq(False)
    if chosen["source"]:
        where = where & (Customer.source == chosen["source"])
    paging = Paging(page_number(request), await capped_count(Customer, where, page_number(request)))
    rows = await Customer.select(
        Customer.id, Customer.name, Customer.email, Customer.kind, Customer.active, Customer.source
    ).where(where).order_by(Customer.name).order_by(Customer.id).limit(PAGE_SIZE).offset(paging.offset)
    sources = sorted(
        {row["source"] for row in await Customer.select(Customer.source).where(Customer.workspace == ws).distinct()}
    )
    connections = await Connection.select(Connection.id, Connection.provider, Connection.tenant_name).where(
        (Connection.workspace == ws) & (Connection.status == ConnectionStatus.connected)
    )
    return page(
        request, "customers.html", customers=rows, chosen=chosen, sources=sources, paging=paging,
        link=lambda n: paging.link(request, n), connections=connections,
    )


@get("/customers/{customer_id:int}")
async def customer_page(request: AnyRequest, customer_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    row = await Customer.objects().where((Customer.id == customer_id) & (Customer.workspace == ws)).first()
    if row is None:
        raise LedgerBridgeError(f"There is no customer {customer_id} in this workspace.", code="not_found",
                                fix="Open Customers and pick one from the list.")
    links = (await links_for(ws, RecordType.customer, [customer_id])).get(customer_id, [])
    return page(request, "customer.html", customer=row, links=links,
                external=row.source not in ("local", "api") or any(link.remote_id for link in links))


@post("/customers/{customer_id:int}/resync", opt=needs(Permission.exports_run))
async def resync(request: AnyRequest, customer_id: FromPath[int]) -> Response[Any]:
    """Send this customer to the books connection again (the others are read-only)."""
    me = person(request)
    back = f"/customers/{customer_id}"
    try:
        run = await customers_services.resync_customer(me, customer_id=customer_id)
    except LedgerBridgeError as exc:
        if exc.code == "not_found":
            raise
        return failed(back, exc)
    return see_other(back, notice=f"Re-sync queued: run #{run.id}.")


@post("/customers/{customer_id:int}/archive", opt=needs(Permission.records_write))
async def archive(request: AnyRequest, customer_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    form = await request.form()
    active = str(form.get("active", "")) == "true"
    back = f"/customers/{customer_id}"
    try:
        await customers_services.update_customer(me, customer_id=customer_id,
                                  data=CustomerPatch(active=active))
    except LedgerBridgeError as exc:
        return failed(back, exc)
    return see_other(back, notice="Customer restored." if active else "Customer archived.")


@post("/customers/import", opt=needs(Permission.exports_run))
async def import_customers(request: AnyRequest) -> Response[Any]:
    """Queue a customer import from one connection; its run lists what was linked and created."""
    me = person(request)
    form = await request.form()
    connection_id = str(form.get("connection_id") or "")
    if not connection_id.isdigit():
        return see_other("/customers", error="Pick the integration to import from.", fix="Choose one, then import.")
    try:
        result = await connections_services.sync(me, connection_id=int(connection_id),
                                           data=SyncRequestIn(what=["customers"]))
    except LedgerBridgeError as exc:
        return failed("/customers", exc)
    return see_other(f"/sync-history/{result.runs[0].id}", notice="Importing customers.")


HANDLERS = [customer_list, customer_page, resync, archive, import_customers]
