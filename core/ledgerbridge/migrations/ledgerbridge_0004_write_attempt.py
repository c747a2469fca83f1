"""OutboundWrite.attempt: which attempt of its run prepared a write.

A write still pending from an earlier attempt may have reached the provider and must be settled
before it is sent again; one prepared in this attempt has not been sent yet. Comparing attempt
numbers tells them apart without trusting clocks across worker processes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-21T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "outbound_write attempt"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl("ALTER TABLE outbound_write ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0")

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl("ALTER TABLE outbound_write DROP COLUMN attempt")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
