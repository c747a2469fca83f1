"""Items (products and services): CRUD, and the host app's idempotent push by `external_ref`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from piccolo.columns.combination import Combinable

from ledgerbridge import audit, jobs
from ledgerbridge.api.choices import first_by_name, held
from ledgerbridge.api.decoding import check_amount
from ledgerbridge.api.errors import Conflict
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, contains, page_of
from ledgerbridge.api.schemas import given_fields
from ledgerbridge.api.scoping import in_workspace, insert_pushed, referenced
from ledgerbridge.api.sync_state import links_for, mark_links_changed
from ledgerbridge.db import is_unique_violation, write_transaction
from ledgerbridge.domain.items.schemas import ItemChoice, ItemIn, ItemOut, ItemPage, ItemPatch
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.invoicing import format_money
from ledgerbridge.sync.customer_push import queue_push
from ledgerbridge.tables import Account, ExternalLink, Item, RecordType, TaxRate, utcnow

PRICE_PLACES = 4


async def items_out(workspace_id: int, rows: list[Item]) -> list[ItemOut]:
    links = await links_for(workspace_id, RecordType.item, [row.id for row in rows])
    return [
        ItemOut(
            id=row.id,
            name=row.name,
            description=row.description,
            kind=row.kind,
            unit_price=format_money(row.unit_price),
            income_account_id=row.income_account,
            taxable=row.taxable,
            tax_rate_id=row.tax_rate,
            active=row.active,
            source=row.source,
            external_ref=row.external_ref,
            archived_at=row.archived_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            links=links.get(row.id, []),
        )
        for row in rows
    ]


async def item_out(workspace_id: int, row: Item) -> ItemOut:
    return (await items_out(workspace_id, [row]))[0]


async def _columns(workspace_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Request fields to column names, checking references and prices on the way."""
    columns = dict(values)
    if "unit_price" in columns:
        check_amount(columns["unit_price"], "unit_price", places=PRICE_PLACES, min_value=Decimal("0"))
    if "income_account_id" in columns:
        account_id = columns.pop("income_account_id")
        if account_id is not None:
            await referenced(Account, account_id, workspace_id, "income_account_id", "income account")
        columns["income_account"] = account_id
    if "tax_rate_id" in columns:
        rate_id = columns.pop("tax_rate_id")
        if rate_id is not None:
            await referenced(TaxRate, rate_id, workspace_id, "tax_rate_id", "tax rate")
        columns["tax_rate"] = rate_id
    return columns


def _ref_taken(ref: str | None) -> Conflict:
    return Conflict(
        f"Another item already has external_ref {ref!r}.",
        fix=f"Update that item with PUT /api/v1/items/by-ref/{ref}, or use a different external_ref.",
    )


async def _update(workspace_id: int, item: Item, columns: dict[str, Any], trigger: str) -> None:
    changed = {name: value for name, value in columns.items() if getattr(item, name) != value}
    if not changed:
        return
    stored: dict[Any, Any] = {getattr(Item, name): value for name, value in changed.items()}
    if "active" in changed:
        stored[Item.archived_at] = None if changed["active"] else utcnow()
    stored[Item.updated_at] = utcnow()
    try:
        async with jobs.transaction() as tx:  # the change and its automatic push commit together
            await Item.update(stored).where(Item.id == item.id)
            await mark_links_changed(workspace_id, RecordType.item, item.id)
            await queue_push(tx, workspace_id, RecordType.item, item.id, trigger)
    except Exception as exc:
        if is_unique_violation(exc):
            raise _ref_taken(columns.get("external_ref")) from None
        raise


def matching(q: str) -> Combinable:
    """Items whose name or description holds `q`: one rule for the API's list and the forms' pickers."""
    return contains(Item.name, q) | contains(Item.description, q)


#: How many items a picker offers at once (see `customers.services.CHOICES_LIMIT`).
CHOICES_LIMIT = 20


async def choices(caller: Caller, *, q: str = "", limit: int = CHOICES_LIMIT) -> list[ItemChoice]:
    """Active items matching `q` (all when empty), by name, at most `limit`: what an invoice line's picker lists.

    Like `customers.services.choices` (`api.choices`): no total, no links, archived items never offered.
    """
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where: Combinable = (Item.workspace == caller.workspace_id) & Item.active.eq(True)
    if q.strip():
        where = where & matching(q)
    rows = await first_by_name(Item, [Item.id, Item.name, Item.unit_price], where, limit)
    return [ItemChoice(id=row["id"], name=row["name"], unit_price=row["unit_price"]) for row in rows]


async def chosen(caller: Caller, ids: list[int]) -> list[ItemChoice]:
    """These items of the caller's workspace, archived ones too: a form shows the lines it holds."""
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    rows = await held(Item, [Item.id, Item.name, Item.unit_price], caller.workspace_id, ids)
    return [ItemChoice(id=row["id"], name=row["name"], unit_price=row["unit_price"]) for row in rows]


async def list_items(
    caller: Caller,
    *,
    q: str | None = None,
    active: bool | None = None,
    source: str | None = None,
    external_ref: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> ItemPage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where: Combinable = Item.workspace == caller.workspace_id
    if q:
        where = where & matching(q)
    if active is not None:
        where = where & (Item.active == active)
    if source:
        where = where & (Item.source == source)
    if external_ref:
        where = where & (Item.external_ref == external_ref)
    rows, total = await page_of(Item, where, limit=limit, offset=offset, order_by=Item.name)
    return Page(items=await items_out(caller.workspace_id, rows), total=total, limit=limit, offset=offset)


async def create_item(caller: Caller, *, data: ItemIn) -> ItemOut:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    columns = await _columns(caller.workspace_id, given_fields(data))
    try:
        async with jobs.transaction() as tx:
            item = await insert_pushed(Item, caller.workspace_id, columns)
            await queue_push(tx, caller.workspace_id, RecordType.item, item.id, caller.trigger)
    except Exception as exc:
        if is_unique_violation(exc):
            raise _ref_taken(data.external_ref) from None
        raise
    return await item_out(caller.workspace_id, item)


async def get_item(caller: Caller, *, item_id: int) -> ItemOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return await item_out(caller.workspace_id, await in_workspace(Item, item_id, caller.workspace_id, "item"))


async def update_item(caller: Caller, *, item_id: int, data: ItemPatch) -> ItemOut:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    item = await in_workspace(Item, item_id, caller.workspace_id, "item")
    await _update(caller.workspace_id, item, await _columns(caller.workspace_id, given_fields(data)), caller.trigger)
    return await item_out(caller.workspace_id, await in_workspace(Item, item_id, caller.workspace_id, "item"))


async def upsert_item(caller: Caller, *, data: ItemIn, ref: str) -> tuple[ItemOut, bool]:
    """The record after the push, and whether it was created (201) rather than found (200)."""
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    columns = await _columns(caller.workspace_id, given_fields(data))
    columns["external_ref"] = ref
    for attempt in range(2):
        existing = (
            await Item.objects().where((Item.workspace == caller.workspace_id) & (Item.external_ref == ref)).first()
        )
        if existing is not None:
            await _update(caller.workspace_id, existing, columns, caller.trigger)
            fresh = await in_workspace(Item, existing.id, caller.workspace_id, "item")
            return await item_out(caller.workspace_id, fresh), False
        try:
            async with jobs.transaction() as tx:
                item = await insert_pushed(Item, caller.workspace_id, columns)
                await queue_push(tx, caller.workspace_id, RecordType.item, item.id, caller.trigger)
        except Exception as exc:
            if attempt == 0 and is_unique_violation(exc):
                continue
            raise
        return await item_out(caller.workspace_id, item), True
    raise AssertionError("unreachable")


async def delete_item(caller: Caller, *, item_id: int) -> None:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    item = await in_workspace(Item, item_id, caller.workspace_id, "item")
    async with write_transaction():
        linked = await ExternalLink.exists().where(
            (ExternalLink.record_type == RecordType.item)
            & (ExternalLink.record_id == item.id)
            & ExternalLink.remote_id.is_not_null()
        )
        if linked:
            raise Conflict(
                f"Item {item.name!r} has a copy in a provider.",
                fix="Archive it instead: PATCH it with active set to false.",
            )
        await audit.record(caller, "item.delete", target_type="item", target_id=item.id,
                           before={"name": item.name, "kind": item.kind, "unit_price": item.unit_price})
        await ExternalLink.delete().where(
            (ExternalLink.record_type == RecordType.item) & (ExternalLink.record_id == item.id)
        )
        await Item.delete().where(Item.id == item.id)


async def assign_income_accounts(caller: Caller, *, assignments: dict[int, int | None]) -> int:
    """Set many items' income accounts at once (the mapping page's save and "assign to all unmapped").

    One permission check, one transaction and one audit entry for the whole change: the account an
    item carries decides where its sales land in the books, so who mapped what is kept. Items of
    another workspace are refused as not found; only the items whose account changes are written,
    and each queues its automatic push as a single edit would. Returns how many changed.
    """
    require(caller, Permission.records_write)
    ws = caller.workspace_id
    assert ws is not None
    for account_id in {account for account in assignments.values() if account is not None}:
        await referenced(Account, account_id, ws, "income_account_id", "income account")
    ids = list(assignments)
    rows = {row["id"]: row["income_account"] for row in await Item.select(Item.id, Item.income_account).where(
        (Item.workspace == ws) & Item.id.is_in(ids or [0]))}
    for item_id in ids:
        if item_id not in rows:
            await in_workspace(Item, item_id, ws, "item")  # raises its not-found refusal
    changed = {item_id: account for item_id, account in assignments.items() if rows[item_id] != account}
    if not changed:
        return 0
    now = utcnow()
    async with jobs.transaction() as tx:  # the changes, their automatic pushes and the audit entry commit together
        for item_id, new_account in changed.items():
            await Item.update({Item.income_account: new_account, Item.updated_at: now}).where(Item.id == item_id)
            await mark_links_changed(ws, RecordType.item, item_id)
            await queue_push(tx, ws, RecordType.item, item_id, caller.trigger)
        await audit.record(caller, "item.income_accounts", target_type="item",
                           target_id=next(iter(changed)) if len(changed) == 1 else "",
                           before={"income_accounts": {str(i): rows[i] for i in changed}},
                           after={"income_accounts": {str(i): a for i, a in changed.items()}})
    return len(changed)
