"""The workspaces API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from ledgerbridge.tables import Role


class WorkspaceChoiceOut(Struct):
    id: int
    name: str
    role: Role
    current: Annotated[bool, Meta(description="The session's (or API key's) current workspace.")]


class WorkspaceList(Struct):
    items: list[WorkspaceChoiceOut]


class WorkspaceIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200, description="A client's or business's name.")]
    switch: Annotated[bool, Meta(description="Make it the session's current workspace at once.")] = True
