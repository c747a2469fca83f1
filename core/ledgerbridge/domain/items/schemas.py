"""The items API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import UNSET, Meta, Struct, UnsetType

from ledgerbridge.api.paging import Page
from ledgerbridge.api.schemas import (
    ExternalRef,
    Id,
    LinkOut,
    MoneyIn,
    MoneyOut,
)
from ledgerbridge.tables import ItemKind


class ItemIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=4000)] = ""
    kind: ItemKind = ItemKind.service
    unit_price: MoneyIn = Decimal("0")
    income_account_id: Id | None = None
    taxable: bool = False
    tax_rate_id: Id | None = None
    active: bool = True
    external_ref: ExternalRef | None = None


class ItemPatch(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    kind: ItemKind | UnsetType = UNSET
    unit_price: MoneyIn | UnsetType = UNSET
    income_account_id: Id | UnsetType | None = UNSET
    taxable: bool | UnsetType = UNSET
    tax_rate_id: Id | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class ItemOut(Struct):
    id: int
    name: str
    description: str
    kind: str
    unit_price: MoneyOut
    income_account_id: int | None
    taxable: bool
    tax_rate_id: int | None
    active: bool
    source: str
    external_ref: str | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    links: list[LinkOut]


ItemPage = Annotated[Page[ItemOut], KwargDefinition(schema_component_key="ItemPage")]


class ItemChoice(Struct):
    """An item as a form's picker offers it: its name and the price a line takes from it."""

    id: int
    name: str
    unit_price: Decimal
