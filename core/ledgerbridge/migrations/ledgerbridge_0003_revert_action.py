"""Connection.revert_action: what reverting an exported invoice to draft does to the provider's copy."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-21T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "connection revert_action"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl(
            "ALTER TABLE connection ADD COLUMN revert_action VARCHAR(10) NOT NULL DEFAULT 'void'"
        )

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl("ALTER TABLE connection DROP COLUMN revert_action")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
