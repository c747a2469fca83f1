"""The accounts API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct


class AccountOut(Struct):
    id: int
    connection_id: int
    name: str
    code: str
    account_type: str
    active: bool
    updated_at: datetime


class AccountPage(Struct):
    items: list[AccountOut]
    total: int
    limit: int
    offset: int
