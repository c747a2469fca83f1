"""The accounts API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import Struct

from ledgerbridge.api.paging import Page


class AccountOut(Struct):
    id: int
    connection_id: int
    name: str
    code: str
    account_type: str
    active: bool
    updated_at: datetime


AccountPage = Annotated[Page[AccountOut], KwargDefinition(schema_component_key="AccountPage")]
