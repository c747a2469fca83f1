"""Signing in with an OpenID Connect issuer: the accounts people link there.

``oidc_identity`` keeps, per person, the issuer's ``iss`` and ``sub`` of each account they signed in
with, so later sign-ins find them by that pair even when their email at the issuer changed. The pair
is unique: one account at an issuer belongs to one person here.

Written by hand (like 0009) so the same statements run on SQLite and PostgreSQL; only the primary
key's type differs.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T06:13:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "accounts linked at OpenID Connect issuers"

CREATE = """CREATE TABLE "oidc_identity" (
    "id" {PK},
    "user" INTEGER REFERENCES "lb_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
    "issuer" VARCHAR(300) NOT NULL DEFAULT '',
    "subject" VARCHAR(255) NOT NULL DEFAULT '',
    "email" VARCHAR(254) NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    "last_used_at" TIMESTAMPTZ DEFAULT null
)"""

INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS oidcidentity_issuer_subject ON oidc_identity ("issuer", "subject")',
    'CREATE INDEX IF NOT EXISTS oidcidentity_user ON oidc_identity ("user")',
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

        await current_engine().run_ddl('DROP TABLE IF EXISTS "oidc_identity"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
