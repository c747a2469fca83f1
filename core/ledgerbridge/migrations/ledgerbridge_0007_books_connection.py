"""One books connection per workspace; withdrawn provider copies kept for history; voided payments.

Written by hand so the same statements run on SQLite and PostgreSQL. Existing data is migrated as
the issue asks: in a workspace with several connections the oldest keeps the books and the others
become read-only. A partial unique index makes "one books per workspace" a rule of the database,
not only of the service, so two consents finishing at once cannot both become the books.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T06:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "books connection, withdrawn copies, voided payments"

ALTER = [
    'ALTER TABLE connection ADD COLUMN "is_books" BOOLEAN NOT NULL DEFAULT false',
    """ALTER TABLE connection ADD COLUMN "reissue_number" VARCHAR(20) NOT NULL DEFAULT 'suffix'""",
    'ALTER TABLE payment ADD COLUMN "voided_at" TIMESTAMPTZ DEFAULT null',
    """UPDATE connection SET "is_books" = true
       WHERE "id" IN (SELECT MIN("id") FROM connection GROUP BY "workspace")""",
]

CREATE = [
    """CREATE TABLE "withdrawn_copy" (
        "id" {PK},
        "workspace" INTEGER REFERENCES "workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "connection" INTEGER REFERENCES "connection" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "record_type" VARCHAR(20) NOT NULL DEFAULT '',
        "record_id" INTEGER NOT NULL DEFAULT 0,
        "remote_id" VARCHAR(100) NOT NULL DEFAULT '',
        "remote_version" VARCHAR(100) NOT NULL DEFAULT '',
        "remote_number" VARCHAR(100) NOT NULL DEFAULT '',
        "remote_data" JSON NOT NULL DEFAULT '{}',
        "action" VARCHAR(10) NOT NULL DEFAULT 'void',
        "state" VARCHAR(20) NOT NULL DEFAULT 'withdrawing',
        "message" TEXT NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "withdrawn_at" TIMESTAMPTZ DEFAULT null
    )""",
]

INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS connection_one_books ON connection ("workspace") WHERE "is_books"',
    'CREATE INDEX IF NOT EXISTS withdrawncopy_record ON withdrawn_copy ("connection", "record_type", "record_id")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def create() -> None:
        from piccolo.engine.sqlite import SQLiteEngine

        from ledgerbridge.db import current_engine

        engine = current_engine()
        pk = "INTEGER PRIMARY KEY NOT NULL" if isinstance(engine, SQLiteEngine) else "SERIAL PRIMARY KEY NOT NULL"
        for statement in ALTER:
            await engine.run_ddl(statement)
        for statement in CREATE:
            await engine.run_ddl(statement.replace("{PK}", pk))
        for statement in INDEXES:
            await engine.run_ddl(statement)

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        await engine.run_ddl("DROP INDEX IF EXISTS connection_one_books")
        await engine.run_ddl('DROP TABLE IF EXISTS "withdrawn_copy"')
        for table, column in (("connection", "is_books"), ("connection", "reissue_number"), ("payment", "voided_at")):
            await engine.run_ddl(f'ALTER TABLE {table} DROP COLUMN "{column}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
