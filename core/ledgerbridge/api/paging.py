"""Lists: offset pagination, the same on every list, and case-insensitive text search.

`limit` (1-200, default 50) and `offset`: offsets suit the admin UI's numbered pages and the small,
slowly changing lists here; every answer carries `total` so a client knows when it has read
everything.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from litestar.params import QueryParameter
from msgspec import Struct
from piccolo.columns import Column
from piccolo.columns.combination import Combinable, Where
from piccolo.table import Table

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")]
Offset = Annotated[int, QueryParameter(ge=0, le=2**63 - 1, description="How many matches to skip (offset pagination).")]

T = TypeVar("T")


class Page(Struct, Generic[T]):
    """The one shape of every list answer. Each domain names its own (`CustomerPage = Annotated[
    Page[CustomerOut], KwargDefinition(schema_component_key="CustomerPage")]`) so the OpenAPI schema
    reads `CustomerPage` rather than a mangled generic name."""

    items: list[T]
    total: int
    limit: int
    offset: int


async def count_at_most(table: type[Table], where: Combinable, most: int) -> int:
    """How many rows match `where`, counting no further than `most`: the database stops reading there,
    and only the number comes back (not a row per match)."""
    inner = table.select(table._meta.primary_key).where(where).limit(most)
    rows = await table.raw('SELECT COUNT(*) AS "n" FROM ({}) AS "capped"', inner.querystrings[0])
    return int(rows[0]["n"])


async def page_of(
    table: type[Table],
    where: Combinable,
    *,
    limit: int,
    offset: int,
    order_by: Column,
    ascending: bool = True,
    count_up_to: int | None = None,
) -> tuple[list[Any], int]:
    """One page of `table` rows matching `where`, and how many match in all (or, with `count_up_to`,
    up to that many: a page that says "more than 1,000" need not count a whole table)."""
    total = (await count_at_most(table, where, count_up_to) if count_up_to is not None
             else await table.count().where(where))
    rows = (
        await table.objects()
        .where(where)
        .order_by(order_by, ascending=ascending)
        .order_by(table._meta.primary_key, ascending=ascending)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def contains(column: Column, text: str) -> Where:
    """`column` contains `text`, ignoring case: ILIKE on PostgreSQL, LIKE on SQLite (where LIKE
    already ignores case, and ILIKE does not exist)."""
    pattern = f"%{text.strip()}%"
    if column._meta.engine_type == "sqlite":
        return column.like(pattern)
    return column.ilike(pattern)
