"""The audit API's response types (msgspec Structs, Litestar's native types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar.params import KwargDefinition
from msgspec import Meta, Struct

from ledgerbridge.api.paging import Page


class AuditEntryOut(Struct):
    id: int
    occurred_at: datetime
    actor: Annotated[str, Meta(description="The person's email, or `API key lb_...`.")]
    actor_user_id: int | None
    actor_api_key_id: int | None
    action: Annotated[str, Meta(description="What was done, e.g. `invoice.void`, `connection.settings`.")]
    target_type: str
    target_id: str
    ip: str
    user_agent: str
    before: Annotated[dict[str, Any], Meta(description="The changed fields' values before.")]
    after: Annotated[dict[str, Any], Meta(description="The changed fields' values after.")]


AuditPage = Annotated[Page[AuditEntryOut], KwargDefinition(schema_component_key="AuditPage")]
