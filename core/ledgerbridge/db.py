"""How LedgerBridge talks to its database: one engine, chosen by one setting.

SQLite is the embedded default and PostgreSQL the production choice. Two engine quirks are handled
here, once, so the rest of the code can ignore which engine it runs on:

* Money must stay `Decimal`. Piccolo hands `Decimal` to SQLite as `float`; the `Money` column
  stores it as exact text on SQLite and as `NUMERIC` on PostgreSQL.
* SQLite allows one writer at a time, so a deferred read-then-write transaction fails with
  "database is locked" under concurrency. Every write transaction goes through
  `write_transaction()`, which takes SQLite's write lock up front (`BEGIN IMMEDIATE`, waiting up to
  the busy timeout) on top of WAL mode; the writers of one event loop take turns before that
  (`sqlite_engine`), so they do not wait in SQLite's busy handler, and connections are kept per loop.
* asyncpg pools belong to one event loop, and the server and the Dramatiq worker each run their own
  loop; the PostgreSQL engine keeps one pool per loop, and the SQLite engine its kept connections.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import asyncpg
from piccolo.columns import Numeric
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from ledgerbridge.sqlite_engine import LoopLocalSQLiteEngine

SQLITE_BUSY_TIMEOUT_SECONDS = 30

# Exact text in, Decimal out. Registered after Piccolo's own float adapter, so it replaces it.
sqlite3.register_adapter(Decimal, str)
sqlite3.register_converter("DECIMALTEXT", lambda raw: Decimal(raw.decode()))


class Money(Numeric):
    """A `Decimal` column that never passes through float, on any engine."""

    @property
    def column_type(self) -> str:
        if self._meta.engine_type == "sqlite":
            return "DECIMALTEXT"
        return super().column_type


class LoopLocalPostgresEngine(PostgresEngine):
    """A PostgreSQL engine with a connection pool per event loop.

    Without a pool for the running loop it falls back to one connection per query, which is
    always correct, only slower.
    """

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self._pools: dict[asyncio.AbstractEventLoop | None, asyncpg.Pool] = {}
        self._pool_lock: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        super().__init__(config=config, **kwargs)

    @staticmethod
    def _loop() -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    @property  # type: ignore[override]
    def pool(self) -> asyncpg.Pool | None:
        return self._pools.get(self._loop())

    @pool.setter
    def pool(self, value: asyncpg.Pool | None) -> None:
        loop = self._loop()
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value

    async def ensure_pool(self, max_size: int = 10) -> None:
        """Create this loop's pool once; concurrent callers on the same loop share it."""
        loop = asyncio.get_running_loop()
        if loop in self._pools:
            return
        lock = self._pool_lock.setdefault(loop, asyncio.Lock())
        async with lock:
            if loop not in self._pools:
                self._pools[loop] = await asyncpg.create_pool(**self.config, min_size=1, max_size=max_size)

    async def close_pool(self) -> None:
        pool = self._pools.pop(self._loop(), None)
        if pool is not None:
            await pool.close()


def make_engine(database_url: str) -> Engine:
    """Turn `LEDGERBRIDGE_DATABASE_URL` into a Piccolo engine."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Owner-only from the first byte: the file holds the books and the encrypted tokens, and
            # SQLite gives its -wal and -shm files the same permissions.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        _enable_wal(path)
        return LoopLocalSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    parsed = urlparse(database_url)
    config = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or "") or None,
        "database": (parsed.path or "/ledgerbridge").lstrip("/"),
    }
    return LoopLocalPostgresEngine(config=config)


def _enable_wal(path: Path) -> None:
    """WAL lets readers proceed while one writer writes; the mode is stored in the file."""
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def current_engine() -> Engine:
    # Lazy: the tables import this module (for `Money`), so they cannot be imported at its top.
    from ledgerbridge.tables import Workspace

    return Workspace._meta.db


def use_engine(engine: Engine) -> None:
    """Point every LedgerBridge table at `engine` (tests switch between SQLite and PostgreSQL)."""
    # Lazy: the tables and `piccolo_conf` import this module; Piccolo's own table loads its config.
    from piccolo.apps.migrations.tables import Migration

    from ledgerbridge import piccolo_conf
    from ledgerbridge.tables import TABLES

    replaced = piccolo_conf.DB
    if isinstance(replaced, LoopLocalSQLiteEngine) and replaced is not engine:
        replaced.forget_closed_loops()  # before the collector drops them (`sqlite_engine`)
    piccolo_conf.DB = engine  # what Piccolo's migration runner finds
    for table in [*TABLES, Migration]:
        table._meta._db = engine


def write_transaction() -> Any:
    """A transaction that is safe to write in, on either engine (see the module docstring)."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def read_transaction() -> Any:
    """Several reads on one connection, seeing one snapshot. Why: on SQLite each query outside a
    transaction opens a connection of its own (a thread and its PRAGMAs), which cost more than the
    few reads of a whole batch's export. Inside a write transaction it is that transaction."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.deferred)
    return engine.transaction()


class NoOpenTransaction(RuntimeError):
    """A raw statement outside a transaction could outlive a change that rolled back."""


def transaction_connection() -> tuple[bool, Any]:
    """(on SQLite?, the driver's connection) of the open transaction, for statements sent as they are."""
    engine: Any = current_engine()
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise NoOpenTransaction("run raw statements inside the transaction of their change (write_transaction)")
    return isinstance(engine, SQLiteEngine), transaction.connection


def marks(values: Sequence[Any]) -> str:
    """`?, ?, ?`: the placeholders of an `IN (...)` list of these values, for `fetch_raw`."""
    return ", ".join("?" for _ in values)


async def fetch_raw(statement: str, *params: Any) -> list[Any]:
    """Run `statement` (`?` placeholders, on either engine) in the open transaction; its rows, which
    read as mappings. Why: on the hottest paths (the rate limiter's ledger, asked before every
    provider request) building a small statement through Piccolo cost more than running it."""
    sqlite, connection = transaction_connection()
    params = tuple(value.value if isinstance(value, Enum) else value for value in params)  # the drivers want `str`
    if sqlite:  # one trip to the connection's thread, not three (execute, fetch, close the cursor)
        return list(await connection.execute_fetchall(statement, params))
    parts = statement.split("?")
    numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
    return list(await connection.fetch(numbered, *params))


async def ensure_pool() -> None:
    """Give the running event loop its PostgreSQL pool, or its kept SQLite connections (`sqlite_engine`)."""
    engine = current_engine()
    if isinstance(engine, LoopLocalPostgresEngine | LoopLocalSQLiteEngine):
        await engine.ensure_pool()


async def close_pool() -> None:
    engine = current_engine()
    if isinstance(engine, LoopLocalPostgresEngine | LoopLocalSQLiteEngine):
        await engine.close_pool()


def is_unique_violation(exc: BaseException) -> bool:
    """Both engines' ways of saying a unique constraint refused a row."""
    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
