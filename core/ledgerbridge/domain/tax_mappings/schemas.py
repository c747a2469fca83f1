"""The tax mapping API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from ledgerbridge.api.schemas import Id, MoneyIn

Percent = Annotated[str, Meta(description="Percent, as a decimal string.", examples=["20.0000"])]


class TaxRateIn(Struct):
    """One of our own tax rates (the books' rates are read from the provider, never made here)."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    rate: MoneyIn
    code: Annotated[str, Meta(max_length=60)] = ""


class TaxMappingOut(Struct):
    tax_rate_id: int
    name: str
    rate: Percent
    books_rate_id: int | None
    books_rate_name: str
    suggested_rate_id: int | None
    suggested_rate_name: str


class TaxMappingList(Struct):
    connection_id: int
    unmapped: int
    items: list[TaxMappingOut]


class TaxMappingIn(Struct):
    books_rate_id: Id | None  # null removes the mapping
    connection_id: Id | None = None  # default: the workspace's books connection


class ApplySuggestionsIn(Struct):
    connection_id: Id | None = None
