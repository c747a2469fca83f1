"""A password set by someone else must be changed at first sign-in.

``lb_user.must_change_password`` is set when an owner resets a member's password, when
`createadmin --reset-password` sets one, and when `serve` generates the first owner's password;
it is cleared when the person chooses their own. Existing accounts chose theirs (or were made by
whoever runs the server), so they start cleared.

One statement that reads the same on SQLite and PostgreSQL, as 0007 adds `is_books`.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T09:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lb_user.must_change_password"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl(
            'ALTER TABLE lb_user ADD COLUMN "must_change_password" BOOLEAN NOT NULL DEFAULT false'
        )

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl('ALTER TABLE lb_user DROP COLUMN "must_change_password"')

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
