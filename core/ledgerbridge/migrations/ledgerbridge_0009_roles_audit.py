"""Roles and scopes, invitations, the audit trail.

Written by hand (like 0003-0006) so the same statements run on SQLite and PostgreSQL; only the
primary key's type differs. Existing members keep their role (`owner`, `member`; the new roles
`accountant` and `viewer` need no change to the column). Existing API keys keep what they could do
before, minus managing connections: the column's default is exactly that set, and new keys always
name their scopes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T06:09:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "roles and API key scopes, invitations, audit trail"

LEGACY_KEY_SCOPES = '["read", "records:write", "exports:write", "books:write", "webhooks:manage"]'

TABLES = ["audit_entry", "invitation"]

CREATE = [
    f"ALTER TABLE api_key ADD COLUMN scopes JSON NOT NULL DEFAULT '{LEGACY_KEY_SCOPES}'",
    """CREATE TABLE "invitation" (
        "id" {PK},
        "workspace" INTEGER REFERENCES "workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "role" VARCHAR(20) NOT NULL DEFAULT 'member',
        "note" VARCHAR(200) NOT NULL DEFAULT '',
        "token_hash" VARCHAR(64) UNIQUE NOT NULL DEFAULT '',
        "created_by" INTEGER REFERENCES "lb_user" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "accepted_by" INTEGER REFERENCES "lb_user" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null,
        "accepted_at" TIMESTAMPTZ DEFAULT null,
        "revoked_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE TABLE "audit_entry" (
        "id" {PK},
        "workspace" INTEGER REFERENCES "workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "occurred_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "actor_user" INTEGER REFERENCES "lb_user" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null,
        "actor_api_key" INTEGER REFERENCES "api_key" ("id") ON DELETE SET NULL ON UPDATE CASCADE DEFAULT null,
        "actor" VARCHAR(260) NOT NULL DEFAULT '',
        "action" VARCHAR(60) NOT NULL DEFAULT '',
        "target_type" VARCHAR(40) NOT NULL DEFAULT '',
        "target_id" VARCHAR(64) NOT NULL DEFAULT '',
        "ip" VARCHAR(64) NOT NULL DEFAULT '',
        "user_agent" VARCHAR(300) NOT NULL DEFAULT '',
        "before" JSON NOT NULL DEFAULT '{}',
        "after" JSON NOT NULL DEFAULT '{}'
    )""",
]

# Append-only, enforced by the database too: a change to what an entry says is refused. Only the
# actor columns may change, because deleting a user or key sets them to NULL (the `actor` text stays).
AUDITED_COLUMNS = ('"workspace", "occurred_at", "actor", "action", "target_type", "target_id", "ip", '
                   '"user_agent", "before", "after"')
APPEND_ONLY_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_entry_append_only BEFORE UPDATE OF {AUDITED_COLUMNS} ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
]
APPEND_ONLY_POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OF {AUDITED_COLUMNS} ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
]

INDEXES = [
    'CREATE INDEX IF NOT EXISTS invitation_workspace ON invitation ("workspace", "accepted_at")',
    'CREATE INDEX IF NOT EXISTS auditentry_workspace_id ON audit_entry ("workspace", "id")',
    'CREATE INDEX IF NOT EXISTS auditentry_occurred ON audit_entry ("occurred_at")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def create() -> None:
        from piccolo.engine.sqlite import SQLiteEngine

        from ledgerbridge.db import current_engine

        engine = current_engine()
        pk = "INTEGER PRIMARY KEY NOT NULL" if isinstance(engine, SQLiteEngine) else "SERIAL PRIMARY KEY NOT NULL"
        for statement in CREATE:
            await engine.run_ddl(statement.replace("{PK}", pk))
        for statement in INDEXES:
            await engine.run_ddl(statement)
        for statement in APPEND_ONLY_SQLITE if isinstance(engine, SQLiteEngine) else APPEND_ONLY_POSTGRES:
            await engine.run_ddl(statement)

    async def drop() -> None:
        from piccolo.engine.sqlite import SQLiteEngine

        from ledgerbridge.db import current_engine

        engine = current_engine()
        if not isinstance(engine, SQLiteEngine):
            await engine.run_ddl("DROP FUNCTION IF EXISTS audit_entry_append_only() CASCADE")
        for table in TABLES:
            await engine.run_ddl(f'DROP TABLE IF EXISTS "{table}"')
        await engine.run_ddl("ALTER TABLE api_key DROP COLUMN scopes")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
