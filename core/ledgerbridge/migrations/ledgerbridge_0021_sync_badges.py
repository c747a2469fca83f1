"""`invoice.link_count`: how many provider links an invoice has, kept by the database itself (issue 18).

Why: the "Exporting" filter lists locked invoices with no link yet (their first export is on its
way). Finding those compared every locked invoice of the workspace with every link, however few
matched: 14 ms on SQLite and 75-120 ms on PostgreSQL at 100,000 invoices, on every render of
`/invoices?sync=pending`. With the count stored, a partial index holds exactly those invoices and
the filter reads a handful of index entries.

Links are written from many places (exports, imports, read-back, reconnects, deletes), so the
count is kept by triggers on `external_link` rather than by each of them: a path added later cannot
forget it. The column is not declared on the Piccolo `Invoice` table on purpose: a model's `save()`
writes every declared column back, and would put a stale count over the trigger's.

The column, its backfill and the index are the same statements on both databases; a trigger's body
cannot be (SQLite takes its statements inline, PostgreSQL a PL/pgSQL function), so those two differ
by engine and do the same thing: +1 for each invoice link inserted, -1 for each deleted, both for a
link moved to another record.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "invoice.link_count kept by triggers; an index of locked invoices with no link"

INDEX = ('CREATE INDEX IF NOT EXISTS invoice_locked_unlinked ON invoice ("workspace", "id") '
         'WHERE "locked" = true AND "link_count" = 0')
BACKFILL = ('UPDATE invoice SET link_count = (SELECT count(*) FROM external_link WHERE '
            "external_link.record_type = 'invoice' AND external_link.record_id = invoice.id) "
            "WHERE id IN (SELECT record_id FROM external_link WHERE record_type = 'invoice')")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS externallink_count_insert AFTER INSERT ON external_link "
    "WHEN NEW.record_type = 'invoice' BEGIN "
    "UPDATE invoice SET link_count = link_count + 1 WHERE id = NEW.record_id; END",
    "CREATE TRIGGER IF NOT EXISTS externallink_count_delete AFTER DELETE ON external_link "
    "WHEN OLD.record_type = 'invoice' BEGIN "
    "UPDATE invoice SET link_count = link_count - 1 WHERE id = OLD.record_id; END",
    "CREATE TRIGGER IF NOT EXISTS externallink_count_move AFTER UPDATE OF record_type, record_id ON external_link "
    "BEGIN "
    "UPDATE invoice SET link_count = link_count - 1 WHERE OLD.record_type = 'invoice' AND id = OLD.record_id; "
    "UPDATE invoice SET link_count = link_count + 1 WHERE NEW.record_type = 'invoice' AND id = NEW.record_id; END",
]
POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION externallink_count() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP <> 'INSERT' THEN\n"
    "    IF OLD.record_type = 'invoice' THEN\n"
    "      UPDATE invoice SET link_count = link_count - 1 WHERE id = OLD.record_id;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  IF TG_OP <> 'DELETE' THEN\n"
    "    IF NEW.record_type = 'invoice' THEN\n"
    "      UPDATE invoice SET link_count = link_count + 1 WHERE id = NEW.record_id;\n"
    "    END IF;\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END\n$$",
    "DROP TRIGGER IF EXISTS externallink_count ON external_link",
    "CREATE TRIGGER externallink_count AFTER INSERT OR DELETE OR UPDATE OF record_type, record_id "
    "ON external_link FOR EACH ROW EXECUTE FUNCTION externallink_count()",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        await engine.run_ddl("ALTER TABLE invoice ADD COLUMN link_count INTEGER NOT NULL DEFAULT 0")
        await engine.run_ddl(BACKFILL)
        for statement in SQLITE_TRIGGERS if engine.engine_type == "sqlite" else POSTGRES_TRIGGERS:
            await engine.run_ddl(statement)
        await engine.run_ddl(INDEX)

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        if engine.engine_type == "sqlite":
            for name in ("externallink_count_insert", "externallink_count_delete", "externallink_count_move"):
                await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name}")
        else:
            await engine.run_ddl("DROP TRIGGER IF EXISTS externallink_count ON external_link")
            await engine.run_ddl("DROP FUNCTION IF EXISTS externallink_count()")
        await engine.run_ddl("DROP INDEX IF EXISTS invoice_locked_unlinked")
        await engine.run_ddl("ALTER TABLE invoice DROP COLUMN link_count")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
