"""Migration 0022 on a PostgreSQL where LedgerBridge's role may not add `pg_trgm` (a managed database,
a locked-down production role): the migration completes without the index, says how to add it in
one warning line, and the invoice search answers the same; once the extension can be added, the same
step adds the index."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
import pytest_asyncio
from ledgerbridge import db
from ledgerbridge.cli import migrate_database
from ledgerbridge.domain.invoices.number_search import number_matches
from ledgerbridge.tables import Invoice, utcnow
from ledgerbridge_testing import databases

from tests.conftest import make_tenant
from tests.web import seeding

MIGRATION = importlib.import_module("ledgerbridge.migrations.ledgerbridge_0022_invoice_search")
ROLE = f"lb_no_extensions_{os.getpid()}"


async def _as_superuser(url: str, *statements: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        rows: list[asyncpg.Record] = []
        for statement in statements:
            rows = await connection.fetch(statement)
        return rows
    finally:
        await connection.close()


@pytest_asyncio.fixture
async def plain_role_url(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, str]]:
    """A migrated database with invoices, `pg_trgm` and its index removed, and a role that owns the
    invoice table and may run migrations but may not create extensions (no CREATE on the database):
    (superuser URL, that role's URL)."""
    url = await databases.create_postgres_database(postgres_dsn)
    await databases.open_database(url, monkeypatch)
    tenant = await make_tenant("owner@example.com", "Acme Studio")
    customer = await seeding.customer(tenant.workspace_id, "Globex")
    await Invoice.insert(*[Invoice(workspace=tenant.workspace_id, number=number, customer=customer.id,
                                   issue_date=date(2026, 1, 1), status="finalized", subtotal=Decimal("1.00"),
                                   total=Decimal("1.00"), created_at=utcnow(), updated_at=utcnow())
                           for number in ("INV-0421", "inv-04219", "INV-0422")])
    await databases.close_database()
    await _as_superuser(
        url, f'DROP INDEX {MIGRATION.PG_INDEX}', "DROP EXTENSION pg_trgm", f'CREATE ROLE "{ROLE}" LOGIN',
        f'ALTER TABLE invoice OWNER TO "{ROLE}"', f'GRANT ALL ON migration TO "{ROLE}"',
        f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{ROLE}"',
        f"DELETE FROM migration WHERE name = '{MIGRATION.ID}'")
    host, name = url.removeprefix("postgresql://postgres@").split("/", 1)
    try:
        yield url, f"postgresql://{ROLE}@{host}/{name}"
    finally:
        await db.close_pool()
        await _as_superuser(url, 'ALTER TABLE invoice OWNER TO postgres', f'DROP OWNED BY "{ROLE}"',
                            f'DROP ROLE "{ROLE}"')


async def _has_index(url: str) -> bool:
    rows = await _as_superuser(url, f"SELECT 1 FROM pg_indexes WHERE indexname = '{MIGRATION.PG_INDEX}'")
    return bool(rows)


async def test_without_pg_trgm_the_migration_goes_on_and_says_how_to_add_it(
        plain_role_url: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    superuser, plain = plain_role_url
    db.use_engine(db.make_engine(plain))
    with caplog.at_level(logging.WARNING, logger="ledgerbridge.migrations"):
        assert await migrate_database() == [MIGRATION.ID]
    said = [record.getMessage() for record in caplog.records if record.name == "ledgerbridge.migrations"]
    assert len(said) == 1 and "CREATE EXTENSION pg_trgm" in said[0] and "gin_trgm_ops" in said[0]
    assert not await _has_index(superuser)
    assert not await _as_superuser(superuser, "SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")

    workspace = (await Invoice.select(Invoice.workspace).first())["workspace"]  # type: ignore[index]
    expected = sorted(row["id"] for row in await Invoice.select(Invoice.id).where(Invoice.number != "INV-0422"))
    assert await number_matches(workspace, "inv-0421") == expected, "the search reads every number instead"
    await db.close_pool()

    # The operator adds the extension (README): the same step then indexes the numbers.
    db.use_engine(db.make_engine(superuser))
    caplog.clear()
    assert await MIGRATION.add_postgres_index() is True
    assert await _has_index(superuser) and not caplog.records
    assert await number_matches(workspace, "inv-0421") == expected
