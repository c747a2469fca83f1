"""The host app hears back: the outbox, webhook endpoints and their deliveries, notices to people.

Written by hand (like 0003-0005) so the same statements run on SQLite and PostgreSQL; only the
primary key's type differs. Indexes keep the events feed, the per-endpoint delivery order and the
dashboard's notices cheap to read.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbox, webhook endpoints and deliveries, notices"

TABLES = ["notification_opt_out", "notice", "webhook_attempt", "webhook_delivery", "webhook_endpoint", "outbox"]

CREATE = [
    """CREATE TABLE "outbox" (
        "id" {PK},
        "event_id" VARCHAR(40) UNIQUE NOT NULL DEFAULT '',
        "workspace" INTEGER REFERENCES "workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "type" VARCHAR(60) NOT NULL DEFAULT '',
        "version" INTEGER NOT NULL DEFAULT 1,
        "data" JSON NOT NULL DEFAULT '{}',
        "occurred_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE "webhook_endpoint" (
        "id" {PK},
        "workspace" INTEGER REFERENCES "workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "url" VARCHAR(2000) NOT NULL DEFAULT '',
        "description" VARCHAR(200) NOT NULL DEFAULT '',
        "event_types" JSON NOT NULL DEFAULT '[]',
        "secret_enc" TEXT NOT NULL DEFAULT '',
        "previous_secret_enc" TEXT NOT NULL DEFAULT '',
        "previous_secret_expires_at" TIMESTAMPTZ DEFAULT null,
        "enabled" BOOLEAN NOT NULL DEFAULT true,
        "disabled_reason" TEXT NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE "webhook_delivery" (
        "id" {PK},
        "endpoint" INTEGER REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "event" INTEGER REFERENCES "outbox" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "state" VARCHAR(20) NOT NULL DEFAULT 'pending',
        "attempts" INTEGER NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "claimed_until" TIMESTAMPTZ DEFAULT null,
        "last_status" INTEGER DEFAULT null,
        "last_error" TEXT NOT NULL DEFAULT '',
        "delivered_at" TIMESTAMPTZ DEFAULT null,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE "webhook_attempt" (
        "id" {PK},
        "delivery" INTEGER REFERENCES "webhook_delivery" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "number" INTEGER NOT NULL DEFAULT 1,
        "status_code" INTEGER DEFAULT null,
        "response_excerpt" TEXT NOT NULL DEFAULT '',
        "error" TEXT NOT NULL DEFAULT '',
        "latency_ms" INTEGER NOT NULL DEFAULT 0,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE "notice" (
        "id" {PK},
        "workspace" INTEGER REFERENCES "workspace" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "user" INTEGER REFERENCES "lb_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "kind" VARCHAR(40) NOT NULL DEFAULT '',
        "subject" VARCHAR(200) NOT NULL DEFAULT '',
        "body" TEXT NOT NULL DEFAULT '',
        "link" VARCHAR(2000) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "email_due" BOOLEAN NOT NULL DEFAULT false,
        "emailed_at" TIMESTAMPTZ DEFAULT null,
        "email_error" TEXT NOT NULL DEFAULT '',
        "dismissed_at" TIMESTAMPTZ DEFAULT null
    )""",
    """CREATE TABLE "notification_opt_out" (
        "id" {PK},
        "user" INTEGER REFERENCES "lb_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
        "kind" VARCHAR(40) NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )""",
]

INDEXES = [
    'CREATE INDEX IF NOT EXISTS outbox_workspace_id ON outbox ("workspace", "id")',
    'CREATE INDEX IF NOT EXISTS outbox_occurred ON outbox ("occurred_at")',
    'CREATE UNIQUE INDEX IF NOT EXISTS webhookdelivery_one_per_event ON webhook_delivery ("endpoint", "event")',
    'CREATE INDEX IF NOT EXISTS webhookdelivery_endpoint_state ON webhook_delivery ("endpoint", "state", "event")',
    'CREATE INDEX IF NOT EXISTS webhookattempt_delivery ON webhook_attempt ("delivery")',
    'CREATE INDEX IF NOT EXISTS notice_workspace ON notice ("workspace", "dismissed_at")',
    'CREATE UNIQUE INDEX IF NOT EXISTS notificationoptout_one ON notification_opt_out ("user", "kind")',
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

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        for table in TABLES:
            await engine.run_ddl(f'DROP TABLE IF EXISTS "{table}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
