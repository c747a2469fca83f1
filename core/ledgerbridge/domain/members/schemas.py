"""The members API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from ledgerbridge.api.schemas import (
    Text254,
)
from ledgerbridge.tables import Role


class WorkspaceOut(Struct):
    id: int
    name: str
    slug: str


class MemberIn(Struct):
    email: Text254
    role: Role = Role.member
    name: Annotated[str, Meta(max_length=200)] = ""
    password: Annotated[str, Meta(max_length=1000)] | None = None


class MemberPatch(Struct):
    role: Role


class MemberOut(Struct):
    user_id: int
    email: str
    name: str
    role: Role


class MemberList(Struct):
    items: list[MemberOut]
