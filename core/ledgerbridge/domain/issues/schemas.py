"""The issues API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from msgspec import Struct

from ledgerbridge.api.schemas import (
    IssueOut,
    SyncRunOut,
)


class IssuePage(Struct):
    items: list[IssueOut]
    total: int
    limit: int
    offset: int


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
