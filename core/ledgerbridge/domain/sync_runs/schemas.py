"""The sync runs API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import Struct

from ledgerbridge.api.paging import Page
from ledgerbridge.api.schemas import (
    IssueOut,
    SyncRunOut,
)


class RunRecordOut(Struct):
    id: int
    record_type: str
    record_id: int | None
    remote_id: str | None
    outcome: str
    message: str
    created_at: datetime


class SyncRunDetailOut(Struct):
    run: SyncRunOut
    records: list[RunRecordOut]
    records_total: int
    issues: list[IssueOut]


SyncRunPage = Annotated[Page[SyncRunOut], KwargDefinition(schema_component_key="SyncRunPage")]
