"""Connection.currency: the connected company's home currency, as the provider reports it.

Customers imported without a currency of their own take it, so invoices billed to them are in the
currency the company keeps its books in, and a mismatch can be named before it misleads anyone.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-21T23:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "connection currency"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl("ALTER TABLE connection ADD COLUMN currency VARCHAR(3) NOT NULL DEFAULT ''")

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl("ALTER TABLE connection DROP COLUMN currency")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
