"""Table objects made from rows already read, without Piccolo's per-column constructor.

Why: `Table.objects()` builds each object through `Table.__init__`, which looks every column up,
works out its default and sets it through the column's descriptor: about 0.1 ms an object. A bulk
export of 6,000 invoices builds some 30,000 (invoices, lines, customers, links, write-ahead
records), and on Xero that work sits between the first minute's requests, whose spread carries into
the export's end time. A Piccolo object keeps its column values in its `__dict__` under the
columns' names, which is all the descriptors read, so the same object is made here by filling that
`__dict__` at once. The objects behave as `objects()`'s do: attribute reads, `save()`, `remove()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from copy import copy
from typing import Any, TypeVar

from piccolo.columns.defaults.base import Default
from piccolo.table import Table

from ledgerbridge.db import fetch_raw

T = TypeVar("T", bound=Table)


def loaded(table: type[T], rows: Iterable[Mapping[str, Any]]) -> list[T]:
    """Objects of rows read with `table.select()` (every column): what `table.objects()` returns."""
    names = [column._meta.name for column in table._meta.columns]
    made = []
    for row in rows:
        instance = table.__new__(table)
        values = instance.__dict__
        values["_exists_in_db"] = True
        values["_was_created"] = None
        for name in names:
            values[name] = row[name]
        made.append(instance)
    return made


async def fetched(table: type[T], where: str, *params: Any) -> list[T]:
    """`loaded` objects of the rows `where` picks (raw SQL, `?` placeholders), read in the open
    transaction without building the query through Piccolo: for reads made while SQLite's one write
    lock is held, where every millisecond is one the run's other lanes wait."""
    columns = ", ".join(f'"{column._meta.db_column_name}" AS "{column._meta.name}"' for column in table._meta.columns)
    return loaded(table, await fetch_raw(f'SELECT {columns} FROM "{table._meta.tablename}" WHERE {where}', *params))


def unsaved(table: type[T], rows: Iterable[Mapping[str, Any]]) -> list[T]:
    """New objects (not in the database yet) with these values and the columns' defaults for the rest,
    as `table(**values)` makes them; the defaults are worked out once for all the rows."""
    defaults: dict[str, Any] = {}
    for column in table._meta.columns:
        value = column.get_default_value()
        defaults[column._meta.name] = value.python() if isinstance(value, Default) else value
    made = []
    for row in rows:
        unknown = set(row) - defaults.keys()
        if unknown:
            raise ValueError(f"Unrecognized columns - {sorted(unknown)}")
        instance = table.__new__(table)
        values = instance.__dict__
        values["_exists_in_db"] = False
        values["_was_created"] = None
        values.update({name: copy(value) if isinstance(value, (list, dict)) else value
                       for name, value in defaults.items()})
        values.update(row)
        made.append(instance)
    return made
