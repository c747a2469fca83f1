"""Composite uniqueness: the rules that keep records linked, never duplicated.

Unique indexes rather than constraints, because SQLite cannot add a constraint to an existing table.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-21T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"

INDEXES = {
    "membership_one_per_workspace": ("membership", ("user", "workspace")),
    "customer_one_external_ref": ("customer", ("workspace", "external_ref")),
    "item_one_external_ref": ("item", ("workspace", "external_ref")),
    "invoice_one_number": ("invoice", ("workspace", "number")),
    "invoice_one_external_ref": ("invoice", ("workspace", "external_ref")),
    "timeentry_one_external_ref": ("time_entry", ("workspace", "external_ref")),
    "externallink_one_per_record": ("external_link", ("connection", "record_type", "record_id")),
    "externallink_one_per_remote": ("external_link", ("connection", "record_type", "remote_id")),
    "ratewindow_one_window": ("rate_window", ("key", "window_start")),
    "syncrun_active_dedupe": ("sync_run", ("dedupe_key",)),
}
PLAIN_INDEXES = {
    "syncrun_state_queued": ("sync_run", ("state", "queued_at")),
    "syncrun_workspace_created": ("sync_run", ("workspace", "created_at")),
    "syncissue_record": ("sync_issue", ("workspace", "record_type", "record_id")),
    "invoice_workspace_status": ("invoice", ("workspace", "status")),
}


def _quoted(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{column}"' for column in columns)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def create() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        for name, (table, columns) in INDEXES.items():
            await engine.run_ddl(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({_quoted(columns)})")
        for name, (table, columns) in PLAIN_INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({_quoted(columns)})")

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        for name in [*INDEXES, *PLAIN_INDEXES]:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
