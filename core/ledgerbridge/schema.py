"""Is the database schema current, bringing it up to date, and waiting until someone has.

Only `ledgerbridge serve` and `ledgerbridge migrate` apply migrations. Workers and the scheduler
start beside the web server (compose starts them together) and must not query tables that do not
exist yet, nor race it to create them, so they wait here until nothing is pending.

Piccolo's migration runner prints progress meant for an interactive terminal ("5 migrations
already complete", then "5 migrations not yet run" on the same empty database); we keep that
chatter out of a server's start output and log one line saying what was applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration

from ledgerbridge.errors import LedgerBridgeError

APP = "ledgerbridge"
log = logging.getLogger(__name__)


class MigrationFailed(LedgerBridgeError):
    """A migration did not apply; the database is as the last one that did left it."""

    code = "migration_failed"


class SchemaNotReady(LedgerBridgeError):
    """Migrations were still pending when a worker or the scheduler stopped waiting."""

    code = "schema_not_ready"


def known_migrations() -> list[str]:
    """The ids of every migration this version ships, oldest first."""
    manager = BaseMigrationManager()
    folder = manager.get_app_config(APP).resolved_migrations_folder_path
    return sorted(manager.get_migration_ids(manager.get_migration_modules(folder)))


async def pending_migrations() -> list[str]:
    """Migrations this version ships that the database has not run (all of them on an empty database)."""
    known = known_migrations()
    if not await Migration.table_exists():
        return known
    ran = set(await Migration.get_migrations_which_ran(app_name=APP))
    return [name for name in known if name not in ran]


async def migrate() -> list[str]:
    """Apply every pending migration and return their ids; safe to run on each start."""
    pending = await pending_migrations()
    if not pending:
        return []
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter):
        result = await run_forwards(APP)
    if not result.success:
        raise MigrationFailed(f"The database migration failed: {result.message}",
                              fix="Restore the backup taken before the upgrade, or run the previous version; "
                                  "the output of `ledgerbridge migrate` names the failing step.")
    log.info("applied %d database migrations", len(pending), extra={"migrations": pending})
    return pending


async def wait_for_migrations(patience: float = 300.0, every: float = 2.0) -> None:
    """Return once the schema is current; log once while waiting, give up after `patience` seconds."""
    deadline = time.monotonic() + patience
    said = False
    while True:
        try:
            pending = await pending_migrations()
        except Exception as exc:  # the database is not up yet: the same wait
            pending = [f"(database unreachable: {exc.__class__.__name__})"]
        if not pending:
            return
        if not said:
            log.info("waiting for `ledgerbridge serve` or `ledgerbridge migrate` to apply %d migrations",
                     len(pending))
            said = True
        if time.monotonic() > deadline:
            raise SchemaNotReady(
                f"The database still has {len(pending)} migrations to apply after {patience:.0f} seconds.",
                fix="Start `ledgerbridge serve` (it migrates on start) or run `ledgerbridge migrate`, then "
                    "start this process again.")
        await asyncio.sleep(every)
