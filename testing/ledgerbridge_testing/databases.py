"""Fresh, migrated LedgerBridge databases for tests, on SQLite or on a throwaway PostgreSQL server.

A test that touches the database must start from an empty, fully migrated one, and code that must
work on both engines is proven on both: the fixtures built on these functions give each test its own
database file, or its own database on the PostgreSQL server the run started.

Migrating takes most of a second and a run opens hundreds of databases, so each engine is migrated
once per test process into a template, and every test's database is a copy of it (SQLite's backup
API, PostgreSQL's ``CREATE DATABASE ... TEMPLATE``). ``open_database`` still runs the migrations,
which find nothing pending, so a stale template cannot pass unnoticed.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
from pathlib import Path

import asyncpg
import pytest
from ledgerbridge import db, jobs
from ledgerbridge.cli import migrate_database
from ledgerbridge.settings import get_settings
from ledgerbridge.sync import run_handlers

_names = itertools.count()
_sqlite_template: Path | None = None
_postgres_templates: dict[str, str] = {}


def sqlite_url(directory: Path) -> str:
    """The URL of a database file of its own in ``directory`` (a test's tmp_path)."""
    return f"sqlite:///{directory / 'ledgerbridge.sqlite3'}"


async def create_postgres_database(dsn: str) -> str:
    """Create an empty database on the server at ``dsn`` (no database name) and return its URL."""
    template = _postgres_templates.get(dsn)
    if template is None:
        template = _postgres_templates[dsn] = await _migrated_postgres_template(dsn)
    name = f"lb_test_{os.getpid()}_{next(_names)}"
    await _create(dsn, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return f"{dsn}/{name}"


async def _create(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(f"{dsn}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _migrated_postgres_template(dsn: str) -> str:
    """A migrated database nobody stays connected to (PostgreSQL copies only an idle template)."""
    name = f"lb_template_{os.getpid()}"
    await _create(dsn, f'CREATE DATABASE "{name}"')
    before = db.current_engine()
    db.use_engine(db.make_engine(f"{dsn}/{name}"))
    try:
        await migrate_database()
    finally:
        await db.close_pool()
        db.use_engine(before)
    return name


async def _sqlite_template_file() -> Path:
    """The migrated SQLite template of this process, made on first use."""
    global _sqlite_template
    if _sqlite_template is None:
        template = Path(tempfile.mkdtemp(prefix="lb-template-")) / "template.sqlite3"
        before = db.current_engine()
        db.use_engine(db.make_engine(f"sqlite:///{template}"))
        try:
            await migrate_database()
        finally:
            db.use_engine(before)
        _sqlite_template = template
    return _sqlite_template


def _copy_into_empty_file(template: Path, path: Path) -> bool:
    """Fill ``path`` with the template's pages unless it already holds a database; owner-only, as the
    server creates it. False when there was a database to keep."""
    if path.exists() and path.stat().st_size > 0:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source, target = sqlite3.connect(template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return True


async def open_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point settings and every table at ``url``, migrate it, and install the engine's run handlers
    (the test process runs jobs itself, as a worker would)."""
    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", url)
    get_settings.cache_clear()
    if url.startswith("sqlite:///"):
        _copy_into_empty_file(await _sqlite_template_file(), Path(url.removeprefix("sqlite:///")))
    db.use_engine(db.make_engine(url))
    await db.ensure_pool()  # as the server and the workers run: kept connections, SQLite's writers taking turns
    await migrate_database()
    jobs.install_handlers(run_handlers())


async def close_database() -> None:
    """Close the connections the current engine holds (PostgreSQL pools outlive a test otherwise)."""
    await db.close_pool()
