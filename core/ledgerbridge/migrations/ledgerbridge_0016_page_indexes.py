"""An index for the invoice pages' per-invoice link lookups (issue 18, admin pages at 100,000 invoices).

Why: the invoice list shows each invoice's links and filters by sync badge with a per-invoice
"has a link" probe (`workspace`, `record_type`, `record_id`); the existing link indexes start with
the connection, or put the state before the record, so each probe scanned every invoice link of the
workspace. Written by hand so the same statement runs on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index for the invoice pages' link lookups"

INDEXES = {
    "externallink_workspace_type_record": 'external_link ("workspace", "record_type", "record_id")',
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def create() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
