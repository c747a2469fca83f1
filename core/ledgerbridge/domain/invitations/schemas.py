"""The invitations API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from ledgerbridge.tables import Role


class InvitationIn(Struct):
    role: Role = Role.member
    note: Annotated[str, Meta(max_length=200, description="Who it is for, as a reminder to you.")] = ""


class InvitationOut(Struct):
    id: int
    workspace_name: str
    role: Role
    note: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime


class InvitationCreatedOut(Struct):
    invitation: InvitationOut
    token: Annotated[str, Meta(description="The invitation's secret. Shown this once; only its hash is stored.")]
    accept_url: Annotated[str, Meta(description="The link to give the invitee: they open it and accept.")]


class InvitationList(Struct):
    items: list[InvitationOut]


class AcceptIn(Struct):
    token: Annotated[str, Meta(min_length=1, max_length=200)]


class JoinIn(Struct):
    """Accepting as someone new to LedgerBridge: the account is created with the invitation."""

    token: Annotated[str, Meta(min_length=1, max_length=200)]
    email: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1000)]
    name: Annotated[str, Meta(max_length=200)] = ""


class JoinedOut(Struct):
    workspace_id: int
    workspace_name: str
    role: Role
    user_id: int
