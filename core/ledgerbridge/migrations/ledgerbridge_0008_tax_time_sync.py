"""Tax mapping: each of our tax rates points at the books connection's tax code/rate it exports as.

Written by hand (like 0003-0006) so the same statements run on SQLite and PostgreSQL; only the
primary key's type differs. One row per (connection, our rate): a rate the connection itself
imported needs no row, it is its own counterpart.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T06:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tax mapping"

CREATE = """CREATE TABLE "tax_mapping" (
    "id" {PK},
    "workspace" INTEGER REFERENCES "workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
    "connection" INTEGER REFERENCES "connection" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
    "tax_rate" INTEGER REFERENCES "tax_rate" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
    "books_rate" INTEGER REFERENCES "tax_rate" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
    "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)"""

INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS taxmapping_one_per_rate ON tax_mapping ("connection", "tax_rate")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def create() -> None:
        from piccolo.engine.sqlite import SQLiteEngine

        from ledgerbridge.db import current_engine

        engine = current_engine()
        pk = "INTEGER PRIMARY KEY NOT NULL" if isinstance(engine, SQLiteEngine) else "SERIAL PRIMARY KEY NOT NULL"
        await engine.run_ddl(CREATE.replace("{PK}", pk))
        for statement in INDEXES:
            await engine.run_ddl(statement)

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl('DROP TABLE IF EXISTS "tax_mapping"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
