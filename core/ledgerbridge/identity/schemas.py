"""Request and response types of the sign-in endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Struct

from ledgerbridge.api.schemas import Id, Text254
from ledgerbridge.tables import Role


class LoginIn(Struct):
    email: Text254
    password: Annotated[str, Meta(max_length=1000)]


class PasswordChangeIn(Struct):
    current_password: Annotated[str, Meta(max_length=1000)]
    new_password: Annotated[str, Meta(max_length=1000)]


class WorkspaceChoiceOut(Struct):
    id: int
    name: str
    role: Role


class MeOut(Struct):
    via: Literal["session", "api_key"]
    workspace_id: int | None
    workspace_name: str
    role: Role | None
    user_id: int | None = None
    email: str = ""
    name: str = ""
    api_key_prefix: str | None = None
    workspaces: list[WorkspaceChoiceOut] = []
    csrf_token: str = ""
    must_change_password: bool = False  # true: every other call is refused until POST /auth/password


class CsrfOut(Struct):
    csrf_token: str
    header: str
    form_field: str


class SwitchWorkspaceIn(Struct):
    workspace_id: Id


class FirstPasswordIn(Struct):
    new_password: Annotated[str, Meta(max_length=1000)]


class LinkedAccountOut(Struct):
    """An account at an OpenID Connect issuer that signs this person in."""

    id: int
    issuer: str
    issuer_name: str
    email: str
    linked_at: datetime
    last_used_at: datetime | None


class SignInMethodsOut(Struct):
    has_password: bool
    can_unlink: bool  # false: unlinking any account would leave no way to sign in (set a password first)
    linked_accounts: list[LinkedAccountOut]
