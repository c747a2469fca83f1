"""Runs that wait instead of failing, and writes that one run at a time may send.

* ``sync_run.claims`` counts every time a worker took the run, waits included. ``attempts`` now
  counts only the tries that ended by a crash, a lost lease or an end (a run that waits for a
  provider gives its attempt back), so the claim number is what tells a write prepared by this
  try from one an earlier try may already have sent.
* ``outboundwrite_one_open``: at most one unsettled (pending or uncertain) write per record and
  operation in a connection. Two runs preparing the same write race on this index; the loser
  re-reads the winner's row and waits for it instead of sending the record a second time.

Raw statements that read the same on SQLite and PostgreSQL (both know partial indexes).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T06:12:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync_run claims; one open outbound write per record"
OPEN = "state IN ('pending', 'uncertain')"
RECORD = '"connection", "record_type", "record_id", "operation"'


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        await engine.run_ddl("ALTER TABLE sync_run ADD COLUMN claims INTEGER NOT NULL DEFAULT 0")
        # Before the index: the old race could leave two open writes for one record. The newest stays
        # open, as uncertain (it is looked up before anything is resent); the older ones are closed.
        await engine.run_ddl(
            f"UPDATE outbound_write SET state = 'uncertain' WHERE id IN (SELECT max(id) FROM outbound_write "
            f"WHERE {OPEN} GROUP BY {RECORD} HAVING count(*) > 1)"
        )
        await engine.run_ddl(
            "UPDATE outbound_write SET state = 'failed', error = 'Superseded by a newer write of the same record.' "
            f"WHERE {OPEN} AND id NOT IN (SELECT max(id) FROM outbound_write WHERE {OPEN} GROUP BY {RECORD})"
        )
        await engine.run_ddl(
            f"CREATE UNIQUE INDEX IF NOT EXISTS outboundwrite_one_open ON outbound_write ({RECORD}) WHERE {OPEN}"
        )

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        engine = current_engine()
        await engine.run_ddl("DROP INDEX IF EXISTS outboundwrite_one_open")
        await engine.run_ddl("ALTER TABLE sync_run DROP COLUMN claims")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
