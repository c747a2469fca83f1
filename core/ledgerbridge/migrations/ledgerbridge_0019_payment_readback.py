"""A payment the bookkeeper deleted or voided in the books is kept here, marked where it went.

``payment.removed_in_provider`` names the provider whose read-back found the payment gone (or voided)
there; the row stays, with ``voided_at`` set, so it counts for nothing but is never dropped. Existing
payments were live or voided here, so they start empty.

One statement that reads the same on SQLite and PostgreSQL, as 0014 adds ``must_change_password``.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T12:19:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "payment.removed_in_provider"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl(
            "ALTER TABLE payment ADD COLUMN \"removed_in_provider\" VARCHAR(40) NOT NULL DEFAULT ''"
        )

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl('ALTER TABLE payment DROP COLUMN "removed_in_provider"')

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
