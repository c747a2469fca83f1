"""Many rows written in one statement, inside the caller's open transaction, on either engine.

Why not Piccolo's own bulk insert: it builds a model instance and a query string per row, which
cost more than the database itself when an import writes a thousand customers a page (a profile
showed four fifths of an import's time in it). These functions hand plain tuples to the driver
in the transaction Piccolo opened, so the rows commit or roll back with everything else in it.

Ids come back in the order the rows were given: one multi-row INSERT ... RETURNING answers in
VALUES order on SQLite and PostgreSQL, the same assumption Piccolo's bulk insert makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from piccolo.table import Table

from ledgerbridge.db import marks, transaction_connection

# Bound values per statement: below SQLite's 32,766 and asyncpg's 32,767 parameters.
MAX_PARAMETERS = 30_000


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _sqlite_datetime(value: datetime) -> str:
    """What Piccolo's SQLite adapter stores for a datetime (UTC, `str`), so rows written here read
    back as Piccolo's own do."""
    return str(value.astimezone(UTC) if value.tzinfo is not None else value)


def driver_values(values: list[Any], *, sqlite: bool) -> list[Any]:
    """`values` as the driver takes them: enums as their value (the drivers want `str`, not a subclass
    they do not know) and, on SQLite, datetimes as Piccolo's adapter writes them.

    Why not leave datetimes to the adapter: sqlite3 calls it back in Python for every datetime bound,
    and a page's rows all carry the same `now` (a profile of a 50,000-customer import found a tenth of
    its time there). The value types are gathered in C first, so a page with neither costs no Python
    call per value; one with them converts each distinct datetime once."""
    kinds = set(map(type, values))
    special = {kind for kind in kinds if issubclass(kind, Enum) or (sqlite and issubclass(kind, datetime))}
    if not special:
        return values
    converted: dict[Any, Any] = {}
    out = []
    for value in values:
        if type(value) in special:
            plain = converted.get(value)
            if plain is None:
                plain = converted[value] = value.value if isinstance(value, Enum) else _sqlite_datetime(value)
            value = plain
        out.append(value)
    return out


@lru_cache(maxsize=32)
def _numbered(width: int, count: int) -> str:
    """PostgreSQL's `($1, $2), ($3, $4)` for `count` rows of `width` values: a page's statements repeat it."""
    return ", ".join("(" + ", ".join(f"${n * width + c + 1}" for c in range(width)) + ")" for n in range(count))


async def insert_rows(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Insert `rows` (values in `columns` order); returns their new ids in the same order."""
    return [int(row["id"]) for row in await _insert(table, columns, rows, 'RETURNING "id"')]


async def append_rows(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """`insert_rows` for rows whose ids nobody needs (a run's records): nothing comes back, so the
    driver builds no row per insert."""
    await _insert(table, columns, rows, "")


async def _insert(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]],
                  suffix: str) -> list[Any]:
    """Multi-row INSERTs of `rows`, as many as the driver's parameter limit needs, each ending in
    `suffix` (its RETURNING clause); returns every statement's answered rows in order."""
    if not rows:
        return []
    sqlite, connection = transaction_connection()
    name = table._meta.tablename
    width = len(columns)
    per_statement = max(1, MAX_PARAMETERS // width)
    head = f'INSERT INTO "{name}" ({_quoted(columns)}) VALUES '
    row_marks = f"({marks(columns)})"
    answered: list[Any] = []
    for start in range(0, len(rows), per_statement):
        part = rows[start:start + per_statement]
        values = driver_values([value for row in part for value in row], sqlite=sqlite)
        if sqlite:
            statement = head + ", ".join([row_marks] * len(part)) + f" {suffix}"
            answered.extend(await connection.execute_fetchall(statement, values))
        else:
            answered.extend(await connection.fetch(f"{head}{_numbered(width, len(part))} {suffix}", *values))
    return answered


async def update_rows(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Update rows by id: each row is its values in `columns` order followed by its id. One
    prepared statement run for all rows (the drivers' executemany), not a query each."""
    if not rows:
        return
    sqlite, connection = transaction_connection()
    name = table._meta.tablename
    params = [driver_values(list(row), sqlite=sqlite) for row in rows]
    if sqlite:
        assignments = ", ".join(f'"{column}" = ?' for column in columns)
        await connection.executemany(f'UPDATE "{name}" SET {assignments} WHERE "id" = ?', params)
    else:
        assignments = ", ".join(f'"{column}" = ${n + 1}' for n, column in enumerate(columns))
        await connection.executemany(f'UPDATE "{name}" SET {assignments} WHERE "id" = ${len(columns) + 1}', params)


async def insert_new_rows(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                          key: str) -> dict[Any, int]:
    """Insert `rows` where no unique index refuses them (ON CONFLICT DO NOTHING); returns the new id
    of each row inserted by its `key` column's value (one of `columns`). Rows left out are another
    transaction's, which the caller deals with one by one. One statement per part, like `insert_rows`.
    """
    answered = await _insert(table, columns, rows, f'ON CONFLICT DO NOTHING RETURNING "id", "{key}"')
    return {row[key]: int(row["id"]) for row in answered}


async def update_column_by_id(table: type[Table], column: str, values: dict[int, Any],
                              common: dict[str, Any]) -> None:
    """Set `column` to each row's own value (by id) and the `common` columns to one value for all,
    in one statement (a CASE on the id), where `update_rows` runs a statement per row. The per-row
    values are text on PostgreSQL (a CASE of parameters is typed text), so `column` is a text column."""
    if not values:
        return
    sqlite, connection = transaction_connection()
    name = table._meta.tablename
    params: list[Any] = []

    def mark(value: Any) -> str:
        params.append(value.value if isinstance(value, Enum) else value)
        return "?" if sqlite else f"${len(params)}"

    assignments = [f'"{name_}" = {mark(value)}' for name_, value in common.items()]
    cases = " ".join(f"WHEN {mark(row_id)} THEN {mark(value)}" for row_id, value in values.items())
    assignments.append(f'"{column}" = CASE "id" {cases} ELSE "{column}" END')
    ids = ", ".join(mark(row_id) for row_id in values)
    statement = f'UPDATE "{name}" SET {", ".join(assignments)} WHERE "id" IN ({ids})'
    if sqlite:
        await connection.execute_fetchall(statement, params)
    else:
        await connection.execute(statement, *params)
