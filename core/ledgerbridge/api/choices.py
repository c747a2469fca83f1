"""What a form's picker asks of a workspace's records: the first few by name, or the ones a form holds.

Why its own queries rather than `paging.page_of`: a picker asks on every keystroke and needs neither a
total nor links, which would cost a count over every match and a second query. Customers and items
both answer it this way; each service keeps its permission check and its own result type.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Combinable
from piccolo.table import Table

#: The most a picker may ask for at once, whatever `limit` it passes.
MOST_CHOICES = 100


async def first_by_name(table: type[Table], columns: list[Column], where: Combinable,
                        limit: int) -> list[dict[str, Any]]:
    """The rows matching `where`, in name order, at most `limit`: a scan of the (workspace, name) index
    that stops at the limit."""
    name, key = table._meta.get_column_by_name("name"), table._meta.primary_key
    return await table.select(*columns).where(where).order_by(name).order_by(key).limit(
        max(1, min(limit, MOST_CHOICES)))


async def held(table: type[Table], columns: list[Column], workspace_id: int, ids: list[int]) -> list[dict[str, Any]]:
    """These rows of the workspace, archived ones too: a form shows what it holds."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    workspace, key = table._meta.get_column_by_name("workspace"), table._meta.primary_key
    return await table.select(*columns).where((workspace == workspace_id) & key.is_in(wanted))
