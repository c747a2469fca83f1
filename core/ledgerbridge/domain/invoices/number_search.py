"""Invoice search: the invoices whose number contains a text, ignoring case, found from a trigram index.

What "search" means, for the admin list (`/invoices?q=`) and the API (`GET /api/v1/invoices?q=`)
alike: the invoice number contains the text (surrounding spaces dropped), in any case; nothing else
(customer names, references) is searched. That is `api.paging.contains`, and it stays the test
every match passes, so the index below only decides which invoices are looked at, never which match
(tests/web/test_invoice_search.py pins the results).

Why an index: a contains-match cannot use a B-tree, so each search read every number of the
workspace (75-110 ms on PostgreSQL at 100,000 invoices). Migration 0022 adds a trigram index where
the database allows one: on PostgreSQL a `pg_trgm` GIN index, which the planner uses for the same
ILIKE by itself; on SQLite an FTS5 trigram table, which must be asked explicitly, and is asked first
(CROSS JOIN keeps SQLite from walking the workspace's invoices and testing each against it). A text
with no run of three letters outside the `%`/`_` wildcards gives a trigram index nothing to look up,
so SQLite then reads the numbers as before, which is quicker than reading the whole trigram table.
"""

from __future__ import annotations

import re

from piccolo.columns.combination import Combinable

from ledgerbridge.api.paging import contains
from ledgerbridge.domain.invoices.list_ids import MOST_CANDIDATES, in_workspace_by_id
from ledgerbridge.tables import Invoice

SQLITE_TABLE = "invoice_number_search"  # migration 0022
_SQLITE_HAS_TABLE = f"SELECT 1 AS \"found\" FROM sqlite_master WHERE type = 'table' AND name = '{SQLITE_TABLE}'"
_SQLITE_MATCHES = (
    f'SELECT "invoice"."id" AS "id" FROM "{SQLITE_TABLE}" CROSS JOIN "invoice" '
    f'ON "invoice"."id" = "{SQLITE_TABLE}"."rowid" '
    f'WHERE "{SQLITE_TABLE}"."number" LIKE {{}} AND "invoice"."workspace" = {{}} AND "invoice"."number" LIKE {{}} '
    f"LIMIT {{}}"
)
_WILDCARDS = re.compile(r"[%_]")


def _trigram_ready(text: str) -> bool:
    """Whether the pattern holds three characters in a row outside LIKE's wildcards: the least a
    trigram index can look up."""
    return max(len(part) for part in _WILDCARDS.split(text.strip())) >= 3


async def number_matches(workspace_id: int, text: str) -> list[int] | None:
    """The ids of the workspace's invoices whose number contains `text` (ignoring case, as `contains`
    does everywhere), or None when more than `MOST_CANDIDATES` do (filter with `contains` then)."""
    if Invoice.number._meta.engine_type == "sqlite" and _trigram_ready(text) and await Invoice.raw(_SQLITE_HAS_TABLE):
        pattern = f"%{text.strip()}%"
        rows = await Invoice.raw(_SQLITE_MATCHES, pattern, workspace_id, pattern, MOST_CANDIDATES + 1)
    else:
        rows = await Invoice.select(Invoice.id).where(
            (Invoice.workspace == workspace_id) & contains(Invoice.number, text)
        ).limit(MOST_CANDIDATES + 1)
    return None if len(rows) > MOST_CANDIDATES else sorted(row["id"] for row in rows)


async def number_filter(workspace_id: int, text: str) -> Combinable:
    """A list query's filter for the workspace's invoices whose number contains `text`: the few
    matches by id, or (when more than `MOST_CANDIDATES` match, and any page fills at once) the
    contains-match itself."""
    found = await number_matches(workspace_id, text)
    if found is None:
        return (Invoice.workspace == workspace_id) & contains(Invoice.number, text)
    return in_workspace_by_id(workspace_id, found)
