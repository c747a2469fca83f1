"""Mapping our tax rates to the books' tax codes/rates, as items are mapped to income accounts.

Any member may map (as any member may assign an item's income account): the mapping decides what
an export sends, never changes the books by itself. A mapping names one of the books connection's
own rates; a rate that connection imported is its own counterpart and cannot be mapped elsewhere.
Changing a mapping marks the items that carry the rate for re-sync, so their copies follow.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.api.decoding import check_amount
from ledgerbridge.api.errors import Invalid
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.api.sync_state import mark_links_changed
from ledgerbridge.db import write_transaction
from ledgerbridge.domain.invoices.exports import NotConnected
from ledgerbridge.domain.tax_mappings.schemas import (
    ApplySuggestionsIn,
    TaxMappingIn,
    TaxMappingList,
    TaxMappingOut,
    TaxRateIn,
)
from ledgerbridge.domain.tax_rates.schemas import TaxRateOut
from ledgerbridge.domain.tax_rates.services import tax_rate_out
from ledgerbridge.errors import NotSupported
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.invoicing import format_money
from ledgerbridge.plugins import get_registry
from ledgerbridge.sync.books_target import books_connections
from ledgerbridge.sync.tax_mapping import suggest
from ledgerbridge.tables import Connection, Item, RecordType, TaxMapping, TaxRate, utcnow

RATE_PLACES = 4


async def create_tax_rate(caller: Caller, *, data: TaxRateIn) -> TaxRateOut:
    """One of our own rates, for invoice lines and items; it reaches the books through its mapping."""
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    check_amount(data.rate, "rate", places=RATE_PLACES, min_value=Decimal("0"))
    async with write_transaction():
        rate = TaxRate(workspace=caller.workspace_id, connection=None, name=data.name, code=data.code,
                       rate=data.rate, active=True, updated_at=utcnow())
        await rate.save()
    return tax_rate_out(rate)


async def mapping_connection(workspace_id: int, connection_id: int | None) -> Connection:
    """The connection whose tax rates ours map to: the named one, else the books connection."""
    if connection_id is not None:
        connection = await in_workspace(Connection, connection_id, workspace_id, "connection")
    else:
        books = await books_connections(workspace_id)
        if not books:
            raise NotConnected("No accounting software is connected, so there are no tax rates to map to.",
                               fix="Connect one from Integrations and import its tax rates.")
        connection = books[0]
    info = get_registry().provider(connection.provider)
    if not info.capabilities.tax_rates:
        raise NotSupported(f"{info.name} takes no tax rates from us, so there is nothing to map.")
    return connection


async def _books_rates(connection: Connection) -> list[TaxRate]:
    return list(await TaxRate.objects().where(
        (TaxRate.connection == connection.id) & TaxRate.active.eq(True)
    ).order_by(TaxRate.name))


async def _our_rates(connection: Connection) -> list[TaxRate]:
    """Rates of the workspace that are not the connection's own: made here, or from another connection."""
    rows = await TaxRate.objects().where(
        (TaxRate.workspace == connection.workspace) & TaxRate.active.eq(True)
    ).order_by(TaxRate.name)
    return [row for row in rows if row.connection != connection.id]


async def mappings(connection: Connection) -> TaxMappingList:
    """Every rate of ours with its mapping and the suggested books' rate (by name and percent)."""
    candidates = await _books_rates(connection)
    by_id = {c.id: c for c in candidates}
    mapped = {row["tax_rate"]: row["books_rate"] for row in await TaxMapping.select(
        TaxMapping.tax_rate, TaxMapping.books_rate).where(TaxMapping.connection == connection.id)}
    items = []
    for rate in await _our_rates(connection):
        target = by_id.get(mapped.get(rate.id, 0))
        suggestion = suggest(rate, candidates)
        items.append(TaxMappingOut(
            tax_rate_id=rate.id, name=rate.name, rate=format_money(rate.rate, places=RATE_PLACES),
            books_rate_id=target.id if target else None, books_rate_name=target.name if target else "",
            suggested_rate_id=suggestion.id if suggestion else None,
            suggested_rate_name=suggestion.name if suggestion else "",
        ))
    return TaxMappingList(connection_id=connection.id, unmapped=sum(1 for i in items if i.books_rate_id is None),
                          items=items)


async def list_mappings(caller: Caller, *, connection_id: int | None = None) -> TaxMappingList:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return await mappings(await mapping_connection(caller.workspace_id, connection_id))


async def _store(connection: Connection, assignments: dict[int, int | None]) -> None:
    """Save mappings in one transaction; items carrying a remapped rate go out of step."""
    async with write_transaction():
        for rate_id, books_rate_id in assignments.items():
            await TaxMapping.delete().where(
                (TaxMapping.connection == connection.id) & (TaxMapping.tax_rate == rate_id))
            if books_rate_id is not None:
                await TaxMapping(workspace=connection.workspace, connection=connection.id, tax_rate=rate_id,
                                 books_rate=books_rate_id, updated_at=utcnow()).save()
            for item in await Item.select(Item.id).where(
                    (Item.workspace == connection.workspace) & (Item.tax_rate == rate_id)):
                await mark_links_changed(connection.workspace, RecordType.item, item["id"])


async def assign(workspace_id: int, connection_id: int | None, assignments: dict[int, int | None]) -> Connection:
    """Check then store mappings: each rate is ours, each target one of the connection's own rates."""
    connection = await mapping_connection(workspace_id, connection_id)
    targets = {c.id for c in await _books_rates(connection)}
    for rate_id, books_rate_id in assignments.items():
        rate = await in_workspace(TaxRate, rate_id, workspace_id, "tax rate")
        if rate.connection == connection.id:
            raise Invalid("tax_rate_id", f"The tax rate “{rate.name}” comes from this connection; it needs no mapping.",
                          fix="Map only your own tax rates, or those of another connection.")
        if books_rate_id is not None and books_rate_id not in targets:
            raise Invalid("books_rate_id", f"Tax rate {books_rate_id} is not an active tax rate of this connection.",
                          fix="Pick one from the connection's tax rates (GET /api/v1/tax-rates?connection_id=…).")
    await _store(connection, assignments)
    return connection


async def set_mapping(caller: Caller, *, tax_rate_id: int, data: TaxMappingIn) -> TaxMappingList:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    connection = await assign(caller.workspace_id, data.connection_id, {tax_rate_id: data.books_rate_id})
    return await mappings(connection)


async def apply_suggestions(caller: Caller, *, data: ApplySuggestionsIn) -> TaxMappingList:
    """Map every unmapped rate of ours to its suggestion; rates without one stay unmapped."""
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    connection = await mapping_connection(caller.workspace_id, data.connection_id)
    current = await mappings(connection)
    wanted: dict[int, Any] = {
        item.tax_rate_id: item.suggested_rate_id
        for item in current.items if item.books_rate_id is None and item.suggested_rate_id is not None
    }
    if wanted:
        await _store(connection, wanted)
    return await mappings(connection)
