"""Every record belongs to a workspace, and a caller sees only the current one's.

Ids in a path that belong to another workspace answer 404, exactly like ids that do not exist, so
nobody can learn what other workspaces hold. Ids inside a request body answer 400 naming the field,
because the request itself is what needs correcting.
"""

from __future__ import annotations

from typing import Any, TypeVar

from piccolo.columns.combination import Combinable
from piccolo.table import Table

from ledgerbridge.api.errors import Invalid, NotFound
from ledgerbridge.tables import utcnow

T = TypeVar("T", bound=Table)


async def in_workspace(table: type[T], record_id: int, workspace_id: int, what: str) -> T:
    """The record `record_id` of the workspace, or `NotFound`."""
    row = (
        await table.objects()
        .where(
            (table._meta.primary_key == record_id) & (table.workspace == workspace_id)  # type: ignore[attr-defined]
        )
        .first()
    )
    if row is None:
        raise NotFound(what, record_id)
    return row


async def referenced(table: type[T], record_id: int, workspace_id: int, field: str, what: str) -> T:
    """The record a body field points to, or `Invalid` naming the field."""
    row = (
        await table.objects()
        .where(
            (table._meta.primary_key == record_id) & (table.workspace == workspace_id)  # type: ignore[attr-defined]
        )
        .first()
    )
    if row is None:
        raise Invalid(field, f"there is no {what} with id {record_id} in this workspace")
    return row


def read_from_provider(table: Any, workspace_id: int, connection_id: int | None, active: bool | None) -> Combinable:
    """The filter of the read-only lists of what providers hold (income accounts, tax rates)."""
    where: Combinable = table.workspace == workspace_id
    if connection_id is not None:
        where = where & (table.connection == connection_id)
    if active is not None:
        where = where & (table.active == active)
    return where


API_SOURCE = "api"  # `source` of records the host app pushed through the API


async def insert_pushed(table: type[T], workspace_id: int, values: dict[str, Any]) -> T:
    """Save a customer or item the host app sent; created inactive means created archived."""
    now = utcnow()
    row = table(workspace=workspace_id, source=API_SOURCE, archived_at=None if values.get("active", True) else now,
                created_at=now, updated_at=now, **values)
    await row.save()
    return row
