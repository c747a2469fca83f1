"""The time entries API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import UNSET, Meta, Struct, UnsetType

from ledgerbridge.api.paging import Page
from ledgerbridge.api.schemas import (
    ExternalRef,
    Id,
    MoneyIn,
    MoneyOut,
    Text254,
)


class TimeEntryIn(Struct):
    customer_id: Id
    person: Annotated[str, Meta(min_length=1, max_length=200)]
    worked_on: date
    hours: MoneyIn
    item_id: Id | None = None
    person_email: Text254 = ""
    rate: MoneyIn = Decimal("0")
    description: Annotated[str, Meta(max_length=4000)] = ""
    billable: bool = True
    external_ref: ExternalRef | None = None


class TimeEntryPatch(Struct):
    customer_id: Id | UnsetType = UNSET
    person: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    worked_on: date | UnsetType = UNSET
    hours: MoneyIn | UnsetType = UNSET
    item_id: Id | UnsetType | None = UNSET
    person_email: Text254 | UnsetType = UNSET
    rate: MoneyIn | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    billable: bool | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class TimeEntryOut(Struct):
    id: int
    customer_id: int
    item_id: int | None
    person: str
    person_email: str
    worked_on: date
    hours: MoneyOut
    rate: MoneyOut
    amount: MoneyOut
    description: str
    billable: bool
    invoice_id: int | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime


TimeEntryPage = Annotated[Page[TimeEntryOut], KwargDefinition(schema_component_key="TimeEntryPage")]


class TimeSyncIn(Struct):
    """Time entries to send to the books on their own, as billable time to invoice there."""

    time_entry_ids: Annotated[list[Id], Meta(min_length=1, max_length=500)]
    connection_id: Id | None = None  # default: the workspace's books connection


class TimeSyncOut(Struct):
    run_id: int
    connection_id: int
    count: int
