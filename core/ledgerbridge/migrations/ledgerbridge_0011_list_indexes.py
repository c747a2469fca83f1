"""Indexes for the lists people page through and the lookups a bulk import makes.

Why: at 100,000 invoices the invoice list sorted and counted every row of the workspace, and the
sync filters ran their link and issue subqueries over whole tables. Each list's filter and sort now
has an index that serves it in order, and the import's page-wide match by email or name (compared
case-folded) has an expression index. Written by hand so the same statements run on SQLite and
PostgreSQL (both support expression indexes and `IF NOT EXISTS`).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T06:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for list filters and sorts, and for import matching"

INDEXES = {
    # /invoices: newest first, by status, by customer (page_of orders by issue_date, then id)
    "invoice_workspace_issued": 'invoice ("workspace", "issue_date", "id")',
    "invoice_workspace_status_issued": 'invoice ("workspace", "status", "issue_date", "id")',
    "invoice_workspace_customer_issued": 'invoice ("workspace", "customer", "issue_date", "id")',
    "invoiceline_invoice": 'invoice_line ("invoice")',
    "payment_invoice": 'payment ("invoice")',
    # sync badges: which invoices have a link in a given state, or an open issue
    "externallink_workspace_type_state": 'external_link ("workspace", "record_type", "state", "record_id")',
    "syncissue_open_records": 'sync_issue ("workspace", "record_type", "resolved_at", "record_id")',
    "syncissue_workspace_seen": 'sync_issue ("workspace", "last_seen_at")',
    # /customers, /items and /time-entries sorts
    "customer_workspace_name": 'customer ("workspace", "name")',
    "item_workspace_name": 'item ("workspace", "name")',
    "timeentry_workspace_worked": 'time_entry ("workspace", "worked_on")',
    # a run's records (/sync-history/<run>)
    "runrecord_run": 'run_record ("run")',
    # import matching: candidates by email or name, compared case-folded
    "customer_workspace_email_folded": 'customer ("workspace", lower("email"))',
    "customer_workspace_name_folded": 'customer ("workspace", lower("name"))',
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
