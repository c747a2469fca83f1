"""Items and their income accounts, and the mapping page that assigns accounts in bulk.

The mapping exists only where a connected provider has income accounts (`Capabilities.income_accounts`);
elsewhere the page lists items without an account column. Saving changes goes through the API's own
item update, so an item mapped anew is marked for re-sync exactly as an API change would be.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.api.paging import contains
from ledgerbridge.domain.items import services as items_services
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import Account, Connection, Item
from litestar import Response, get, post
from piccolo.columns.combination import Combinable

from ledgerbridge_web.common import (
    PAGE_SIZE,
    AnyRequest,
    Paging,
    capabilities,
    capped_count,
    failed,
    int_or_none,
    page,
    page_number,
    person,
    see_other,
    workspace_of,
)

MAPPING_PAGE_SIZE = 200


async def income_accounts(workspace_id: int) -> list[dict[str, Any]]:
    """Active income accounts of the workspace's connections whose provider has them."""
    connections = await Connection.select(Connection.id, Connection.provider).where(
        Connection.workspace == workspace_id
    )
    wanted = [row["id"] for row in connections if capabilities(row["provider"]).income_accounts]
    if not wanted:
        return []
    return await Account.select(
        Account.id, Account.name, Account.code, Account.connection.provider.as_alias("provider")
    ).where(Account.connection.is_in(wanted) & Account.active.eq(True)).order_by(Account.name)


async def _uses_accounts(workspace_id: int) -> bool:
    rows = await Connection.select(Connection.provider).where(Connection.workspace == workspace_id)
    return any(capabilities(row["provider"]).income_accounts for row in rows)


@get("/items")
async def item_list(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    q = str(request.query_params.get("q") or "")
    where: Combinable = Item.workspace == ws
    if q.strip():
        where = where & contains(Item.name, q)
    paging = Paging(page_number(request), await capped_count(Item, where, page_number(request)))
    rows = await Item.select(
        Item.id, Item.name, Item.kind, Item.unit_price, Item.active, Item.source,
        Item.income_account.name.as_alias("account_name"),
    ).where(where).order_by(Item.name).order_by(Item.id).limit(PAGE_SIZE).offset(paging.offset)
    unmapped = await Item.count().where((Item.workspace == ws) & Item.income_account.is_null() & Item.active.eq(True))
    return page(
        request, "items.html", items=rows, q=q, paging=paging, link=lambda n: paging.link(request, n),
        show_accounts=await _uses_accounts(ws), unmapped=unmapped,
    )


@get("/items/mapping")
async def mapping_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    if not await _uses_accounts(ws):
        return see_other("/items", notice="Your connected accounting software has no income accounts to map.")
    number = page_number(request)
    total = await capped_count(Item, Item.workspace == ws, number, MAPPING_PAGE_SIZE)
    paging = Paging(number, total, MAPPING_PAGE_SIZE)
    rows = await Item.select(Item.id, Item.name, Item.income_account).where(Item.workspace == ws).order_by(
        Item.name
    ).order_by(Item.id).limit(MAPPING_PAGE_SIZE).offset(paging.offset)
    return page(
        request, "item_mapping.html", items=rows, accounts=await income_accounts(ws), paging=paging,
        link=lambda n: paging.link(request, n),
    )


@post("/items/mapping", opt=needs(Permission.records_write))
async def save_mapping(request: AnyRequest) -> Response[Any]:
    """Per-item dropdowns: only the items whose account changed are saved."""
    me = person(request)
    form = await request.form()
    wanted = {
        int(key.removeprefix("account_")): int_or_none(value)
        for key, value in form.items()
        if key.startswith("account_") and key.removeprefix("account_").isdigit()
    }
    try:
        # The service writes only the items whose account changed, and refuses another workspace's.
        count = await items_services.assign_income_accounts(me, assignments=wanted)
    except LedgerBridgeError as exc:
        return failed("/items/mapping", exc)
    return see_other("/items/mapping", notice=f"Saved {count} item{'s' if count != 1 else ''}.")


@post("/items/mapping/unmapped", opt=needs(Permission.records_write))
async def assign_unmapped(request: AnyRequest) -> Response[Any]:
    me = person(request)
    ws = workspace_of(me)
    form = await request.form()
    account_id = int_or_none(form.get("account_id"))
    if account_id is None:
        return see_other("/items/mapping", error="Pick an income account first.", fix="Choose one, then assign.")
    unmapped = (Item.workspace == ws) & Item.income_account.is_null()
    ids = [row["id"] for row in await Item.select(Item.id).where(unmapped)]
    try:
        count = await items_services.assign_income_accounts(me, assignments=dict.fromkeys(ids, account_id))
    except LedgerBridgeError as exc:
        return failed("/items/mapping", exc)
    plural = "s" if count != 1 else ""
    return see_other("/items/mapping", notice=f"Assigned the account to {count} unmapped item{plural}.")


HANDLERS = [item_list, mapping_page, save_mapping, assign_unmapped]
