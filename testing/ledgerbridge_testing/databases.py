"""Fresh, migrated LedgerBridge databases for tests, on SQLite or on a throwaway PostgreSQL server.

A test that touches the database must start from an empty, fully migrated one, and code that must
work on both engines is proven on both: the fixtures built on these functions give each test its own
database file, or its own database on the PostgreSQL server the run started.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import asyncpg
import pytest
from ledgerbridge import db, jobs
from ledgerbridge.cli import migrate_database
from ledgerbridge.settings import get_settings
from ledgerbridge.sync import run_handlers

_names = itertools.count()


def sqlite_url(directory: Path) -> str:
    """The URL of a database file of its own in ``directory`` (a test's tmp_path)."""
    return f"sqlite:///{directory / 'ledgerbridge.sqlite3'}"


async def create_postgres_database(dsn: str) -> str:
    """Create an empty database on the server at ``dsn`` (no database name) and return its URL."""
    name = f"lb_test_{os.getpid()}_{next(_names)}"
    connection = await asyncpg.connect(f"{dsn}/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{dsn}/{name}"


async def open_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point settings and every table at ``url``, migrate it, and install the engine's run handlers
    (the test process runs jobs itself, as a worker would)."""
    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", url)
    get_settings.cache_clear()
    db.use_engine(db.make_engine(url))
    await migrate_database()
    jobs.install_handlers(run_handlers())


async def close_database() -> None:
    """Close the connections the current engine holds (PostgreSQL pools outlive a test otherwise)."""
    await db.close_pool()
