"""The issues API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import KwargDefinition
from msgspec import Struct

from ledgerbridge.api.paging import Page
from ledgerbridge.api.schemas import (
    IssueOut,
    SyncRunOut,
)

IssuePage = Annotated[Page[IssueOut], KwargDefinition(schema_component_key="IssuePage")]


class IssueGroupOut(Struct):
    code: str
    message: str
    fix: str
    count: int
    issues: list[IssueOut]


class IssueGroupsOut(Struct):
    groups: list[IssueGroupOut]
    total: int


class IssueRetryOut(Struct):
    issue: IssueOut
    run: SyncRunOut
