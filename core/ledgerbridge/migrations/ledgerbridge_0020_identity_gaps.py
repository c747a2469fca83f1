"""The name of the issuer a linked sign-in account belongs to ("Intuit", "Google"...).

The account page lists a person's linked OpenID Connect accounts by the name the sign-in button
shows. An ID token carries only the issuer's URL, and Intuit's differs from the address it is
configured by (its discovery document), so the name is kept with the link when it is made and
refreshed at each sign-in. Links made before this migration start empty; the page shows the
issuer's host name for them until their next sign-in.

One statement that reads the same on SQLite and PostgreSQL, as 0014 adds `must_change_password`.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T12:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "oidc_identity.issuer_name"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="ledgerbridge", description=DESCRIPTION)

    async def add() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl(
            'ALTER TABLE oidc_identity ADD COLUMN "issuer_name" VARCHAR(200) NOT NULL DEFAULT \'\''
        )

    async def drop() -> None:
        from ledgerbridge.db import current_engine

        await current_engine().run_ddl('ALTER TABLE oidc_identity DROP COLUMN "issuer_name"')

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
