"""The tax rates API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import Meta, Struct

from ledgerbridge.api.paging import Page


class TaxRateOut(Struct):
    id: int
    connection_id: int | None
    name: str
    code: str
    rate: Annotated[str, Meta(description="Percent, as a decimal string.", examples=["20.0000"])]
    active: bool
    updated_at: datetime


TaxRatePage = Annotated[Page[TaxRateOut], KwargDefinition(schema_component_key="TaxRatePage")]
