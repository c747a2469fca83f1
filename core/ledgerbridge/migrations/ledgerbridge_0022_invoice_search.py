"""A trigram index of invoice numbers, so the invoice search need not read every invoice (issue 18).

Why: "search" on the invoice list (`/invoices?q=`, `GET /api/v1/invoices?q=`) finds the invoices
whose number contains the text, ignoring case. No B-tree index can answer a contains-match, so at
100,000 invoices each search read every number of the workspace: 75-110 ms on PostgreSQL, 15-30 ms
of SQLite's time. A trigram index answers it from the three-letter pieces of the text, and the
database still checks each candidate against the same ILIKE/LIKE, so the results do not change.

The two engines hold it differently, so this is the one place their statements differ:
- PostgreSQL: a GIN index with `pg_trgm`'s operator class; the planner uses it for `ILIKE` by itself.
  Without `fastupdate` each new invoice's trigrams go straight into the index: with it they wait in
  a pending list that every search reads whole until a vacuum (22 ms for 100,000 fresh invoices).
  `pg_trgm` is a trusted extension (PostgreSQL 13+): a role with CREATE on the database may add it.
  A role that may not (or a server without the contrib package) gets no index and the search reads
  every number, as before: the migration says so in one warning line and goes on. README's
  "Invoice search on PostgreSQL" tells the operator the two statements that add it later.
- SQLite: an FTS5 table with the `trigram` tokenizer (SQLite 3.34+), kept by triggers on `invoice`
  (every path that writes an invoice, restores included, goes through them). An SQLite without it
  is left as it was, likewise with a warning; `number_search` looks for the table before using it.
"""

import logging

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a trigram index of invoice numbers for the invoice search"

log = logging.getLogger("ledgerbridge.migrations")

PG_INDEX = "invoice_number_trgm"
#: A role that may not create the extension must not fail the migration: the error is caught inside
#: the block (a subtransaction), and whether the extension is there is asked afterwards.
PG_TRY_EXTENSION = ("DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; "
                    "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm not created: %', SQLERRM; END $$")
#: The extension's schema: an operator who installed it into another schema than ours still gets the index.
PG_EXTENSION_SCHEMA = ("SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                       "WHERE e.extname = 'pg_trgm'")
SQLITE_TABLE = "invoice_number_search"
SQLITE_STATEMENTS = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TABLE} USING fts5(number, tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS invoice_search_insert AFTER INSERT ON invoice BEGIN "
    f"INSERT INTO {SQLITE_TABLE}(rowid, number) VALUES (NEW.id, NEW.number); END",
    f"CREATE TRIGGER IF NOT EXISTS invoice_search_update AFTER UPDATE OF number ON invoice BEGIN "
    f"UPDATE {SQLITE_TABLE} SET number = NEW.number WHERE rowid = NEW.id; END",
    f"CREATE TRIGGER IF NOT EXISTS invoice_search_delete AFTER DELETE ON invoice BEGIN "
    f"DELETE FROM {SQLITE_TABLE} WHERE rowid = OLD.id; END",
    f"INSERT INTO {SQLITE_TABLE}(rowid, number) SELECT id, number FROM invoice",
]
SQLITE_DROPS = ["DROP TRIGGER IF EXISTS invoice_search_insert", "DROP TRIGGER IF EXISTS invoice_search_update",
                "DROP TRIGGER IF EXISTS invoice_search_delete", f"DROP TABLE IF EXISTS {SQLITE_TABLE}"]


def pg_index_statement(schema: str) -> str:
    """The GIN index, with the operator class named in the extension's own schema."""
    quoted = '"' + schema.replace('"', '""') + '"'
    return (f'CREATE INDEX IF NOT EXISTS {PG_INDEX} ON invoice USING gin ("number" {quoted}.gin_trgm_ops) '
            "WITH (fastupdate = off)")


async def add_postgres_index() -> bool:
    """Add `pg_trgm` if this role may, and the index if the extension is there; False (and a warning
    saying how to add it) when it is not. Also what the migration's fallback test runs as a role that
    may not create extensions."""
    from ledgerbridge.db import current_engine

    engine = current_engine()
    await engine.run_ddl(PG_TRY_EXTENSION)
    found = await engine.run_ddl(PG_EXTENSION_SCHEMA)
    if not found:
        log.warning("Invoice search: the pg_trgm extension is not installed and this database role may not add it, "
                    "so searching invoice numbers reads every invoice. To index it, run as a superuser (or the "
                    "database owner): CREATE EXTENSION pg_trgm; then CREATE INDEX %s ON invoice USING gin "
                    '("number" gin_trgm_ops); (see README, "Invoice search on PostgreSQL").', PG_INDEX)
        return False
    await engine.run_ddl(pg_index_statement(found[0]["schema"]))
    return True


async def add_sqlite_index() -> bool:
    """The FTS5 trigram table, its triggers and its rows; False (and a warning) on an SQLite without
    FTS5's trigram tokenizer, where the search goes on reading every number."""
    from ledgerbridge.db import current_engine

    engine = current_engine()
    try:
        await engine.run_ddl(SQLITE_STATEMENTS[0])
    except Exception as error:  # no FTS5, or no trigram tokenizer (SQLite before 3.34)
        log.warning("Invoice search: this SQLite (%s) has no FTS5 trigram tokenizer, so searching invoice "
                    "numbers reads every invoice. SQLite 3.34 or later indexes it.", error)
        return False
    for statement in SQLITE_STATEMENTS[1:]:
        await engine.run_ddl(statement)
    return True


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        if current_engine().engine_type == "sqlite":
            await add_sqlite_index()
        else:
            await add_postgres_index()

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        if engine.engine_type == "sqlite":
            for statement in SQLITE_DROPS:
                await engine.run_ddl(statement)
        else:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {PG_INDEX}")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
