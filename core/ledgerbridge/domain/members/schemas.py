"""The members API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from msgspec import Struct

from ledgerbridge.tables import Role


class WorkspaceOut(Struct):
    id: int
    name: str
    slug: str


class MemberPatch(Struct):
    role: Role


class MemberOut(Struct):
    user_id: int
    email: str
    name: str
    role: Role


class MemberList(Struct):
    items: list[MemberOut]


class PasswordResetOut(Struct):
    """A member's new one-time password, to pass on once: they must change it at first sign-in."""

    user_id: int
    email: str
    password: str
