"""The api keys API's request and response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from ledgerbridge.identity.permissions import DEFAULT_KEY_SCOPES, Scope


class ApiKeyIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=120)]
    scopes: Annotated[
        list[Scope],
        Meta(min_length=1, description="What the key may do. No scope manages members or API keys: people do that."),
    ] = msgspec.field(default_factory=lambda: list(DEFAULT_KEY_SCOPES))


class ApiKeyOut(Struct):
    id: int
    name: str
    prefix: Annotated[str, Meta(description="The key's visible start, e.g. lb_1a2b3c4d.")]
    created_by: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    scopes: list[Scope] = msgspec.field(default_factory=list)


class ApiKeyCreatedOut(Struct):
    api_key: ApiKeyOut
    key: Annotated[str, Meta(description="The full key. Shown this once; only its hash is stored.")]


class ApiKeyList(Struct):
    items: list[ApiKeyOut]
