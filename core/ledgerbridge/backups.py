"""`ledgerbridge backup` / `restore`: one portable file holding every row, on SQLite or PostgreSQL.

A portable dump rather than `pg_dump` or SQLite's file copy, so the same two commands work on both
engines, need no database client tools in the image, and can move an agency from SQLite to
PostgreSQL. The file is gzipped JSON: each table's rows, plus the migrations the database had run,
so a restore refuses a backup from a newer LedgerBridge than the one restoring it.

Tokens stay encrypted in the file, exactly as in the database. A restore is readable only with the
same `LEDGERBRIDGE_ENCRYPTION_KEYS`: keep the keys somewhere other than beside the backups, or
whoever holds a copy of both holds every client's accounting access.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from piccolo.columns import JSON, JSONB, UUID, Bytea, Date, Numeric, Timestamp, Timestamptz
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table, sort_table_classes

from ledgerbridge import __version__
from ledgerbridge.db import current_engine, write_transaction
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.schema import known_migrations, migrate, pending_migrations
from ledgerbridge.tables import TABLES

FORMAT = "ledgerbridge-backup"
FORMAT_VERSION = 1
INSERT_CHUNK = 200


class BackupError(LedgerBridgeError):
    code = "backup_failed"


def _tables() -> list[type[Table]]:
    """Every table, parents before children, so inserting in this order satisfies foreign keys."""
    return sort_table_classes(list(TABLES))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _decoder(column: Any) -> Any:
    """How to turn a column's JSON value back into what the engine expects."""
    if isinstance(column, Timestamptz | Timestamp):
        return datetime.fromisoformat
    if isinstance(column, Date):
        return date.fromisoformat
    if isinstance(column, Numeric):
        return Decimal
    if isinstance(column, UUID):
        return uuid.UUID
    if isinstance(column, Bytea):
        return base64.b64decode
    if isinstance(column, JSON | JSONB):
        return lambda value: value if isinstance(value, str) else json.dumps(value)
    return None


async def backup(path: Path) -> dict[str, int]:
    """Write every row to `path` (gzipped JSON); return the row count per table."""
    pending = await pending_migrations()
    if pending:
        raise BackupError(f"The database has {len(pending)} migrations still to apply.",
                          fix="Run `ledgerbridge migrate` first, so the backup matches this version.")
    tables: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    async with current_engine().transaction():  # one consistent snapshot on PostgreSQL
        for table in _tables():
            rows = await table.select().order_by(table._meta.primary_key)
            tables[table._meta.tablename] = [{key: _encode(value) for key, value in row.items()} for row in rows]
            counts[table._meta.tablename] = len(rows)
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, "ledgerbridge": __version__,
                "migrations": known_migrations(), "tables": tables}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        json.dump(document, handle)
    partial.replace(path)  # a crash mid-write never leaves a truncated file under the real name
    return counts


def _read(path: Path) -> dict[str, Any]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} is not a LedgerBridge backup ({exc.__class__.__name__}).",
                          fix="Give the file `ledgerbridge backup` wrote.") from exc
    if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} is not a LedgerBridge backup this version can read.",
                          fix="Give the file `ledgerbridge backup` wrote.")
    newer = sorted(set(document.get("migrations", [])) - set(known_migrations()))
    if newer:
        raise BackupError(f"The backup comes from a newer LedgerBridge ({document.get('ledgerbridge')}); "
                          f"this version lacks {len(newer)} of its migrations.",
                          fix="Restore it with the version that wrote it (or a newer one).")
    return document


async def restore(path: Path) -> dict[str, int]:
    """Load a backup into an empty database (migrating it first); return the row count per table."""
    document = _read(path)
    await migrate()
    for table in _tables():
        if await table.count() > 0:
            raise BackupError(f"The database is not empty (table {table._meta.tablename} has rows).",
                              fix="Restore into a new, empty database, then point LEDGERBRIDGE_DATABASE_URL at it.")
    counts: dict[str, int] = {}
    async with write_transaction():
        for table in _tables():
            rows = document["tables"].get(table._meta.tablename, [])
            columns = {column._meta.db_column_name: column for column in table._meta.columns}
            decoders = {name: _decoder(column) for name, column in columns.items()}
            for start in range(0, len(rows), INSERT_CHUNK):
                chunk = [table.from_dict({name: (decoders[name](value) if value is not None and decoders[name]
                                                 else value)
                                          for name, value in row.items() if name in columns})
                         for row in rows[start:start + INSERT_CHUNK]]
                await table.insert(*chunk)
            counts[table._meta.tablename] = len(rows)
    if isinstance(current_engine(), PostgresEngine):
        for table in _tables():
            name = table._meta.tablename
            key = table._meta.primary_key._meta.db_column_name
            await table.raw(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{key}'), "
                            f"COALESCE(MAX(\"{key}\"), 1), MAX(\"{key}\") IS NOT NULL) FROM \"{name}\"")
    return counts
