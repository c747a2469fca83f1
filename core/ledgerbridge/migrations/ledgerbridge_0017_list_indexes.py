"""Indexes for the admin lists' filters and sorts that 0011 and 0016 left without one (issue 18).

Why, list by list, at 100,000 invoices:
- "Exporting" (pending) includes a locked invoice with no link yet; finding those read every invoice
  of the workspace. They are now found by merging a partial index of locked invoices' ids (covering:
  `locked` is in it so the table is never read) with the link index, both in id order.
- The audit trail is read newest first, by action or by target type: it sorted the whole
  workspace's trail (the existing indexes are by id, and by time across every workspace).
- The issues page counts open issues by reason and shows each reason's newest few: it read every
  issue, open or resolved.
- The time page lists unbilled (or all billable) entries: it read every entry of the workspace.
Written by hand so the same statements run on SQLite and PostgreSQL (both take partial indexes, and
a `"locked" = true` condition the query repeats word for word, which SQLite needs to use one).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for the admin lists' remaining filters and sorts"

INDEXES = {
    "invoice_workspace_locked_ids": 'invoice ("workspace", "id", "locked") WHERE "locked" = true',
    "auditentry_workspace_occurred": 'audit_entry ("workspace", "occurred_at", "id")',
    "auditentry_workspace_action_occurred": 'audit_entry ("workspace", "action", "occurred_at", "id")',
    "auditentry_workspace_target_occurred": 'audit_entry ("workspace", "target_type", "occurred_at", "id")',
    "syncissue_workspace_open_code": 'sync_issue ("workspace", "resolved_at", "code", "last_seen_at")',
    "timeentry_workspace_billable_open": 'time_entry ("workspace", "billable", "invoice", "customer", "worked_on")',
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
