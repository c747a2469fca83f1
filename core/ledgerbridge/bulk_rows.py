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
from enum import Enum
from typing import Any

from piccolo.table import Table

from ledgerbridge.db import marks, transaction_connection

# Bound values per statement: below SQLite's 32,766 and asyncpg's 32,767 parameters.
MAX_PARAMETERS = 30_000


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


async def insert_rows(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Insert `rows` (values in `columns` order); returns their new ids in the same order."""
    return [int(row["id"]) for row in await _insert(table, columns, rows, 'RETURNING "id"')]


async def _insert(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]],
                  suffix: str) -> list[Any]:
    """Multi-row INSERTs of `rows`, as many as the driver's parameter limit needs, each ending in
    `suffix` (its RETURNING clause); returns every statement's answered rows in order."""
    if not rows:
        return []
    sqlite, connection = transaction_connection()
    name = table._meta.tablename
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    answered: list[Any] = []
    for start in range(0, len(rows), per_statement):
        part = rows[start:start + per_statement]
        # Enums as their value: the drivers take `str`, not a `str` subclass they do not know.
        values = [value.value if isinstance(value, Enum) else value for row in part for value in row]
        statement = f'INSERT INTO "{name}" ({_quoted(columns)}) VALUES {{marks}} {suffix}'
        if sqlite:
            rows_marks = ", ".join(f"({marks(columns)})" for _ in part)
            answered.extend(await connection.execute_fetchall(statement.format(marks=rows_marks), values))
        else:
            width = len(columns)
            numbered = ", ".join("(" + ", ".join(f"${n * width + c + 1}" for c in range(width)) + ")"
                                 for n in range(len(part)))
            answered.extend(await connection.fetch(statement.format(marks=numbered), *values))
    return answered


async def update_rows(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Update rows by id: each row is its values in `columns` order followed by its id. One
    prepared statement run for all rows (the drivers' executemany), not a query each."""
    if not rows:
        return
    sqlite, connection = transaction_connection()
    name = table._meta.tablename
    params = [[value.value if isinstance(value, Enum) else value for value in row] for row in rows]
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
