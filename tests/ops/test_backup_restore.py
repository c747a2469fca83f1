"""Backups an agency can trust: a populated database, backed up and restored into a fresh one, holds every
record and connection, and the tokens still decrypt with the same keys. On SQLite and on PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from ledgerbridge import backups, vault
from ledgerbridge.identity.api_keys import create_api_key
from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.tables import (
    TABLES,
    Connection,
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    RunKind,
    RunState,
    SyncRun,
    utcnow,
)
from ledgerbridge_testing.databases import create_postgres_database, open_database, sqlite_url

from tests.conftest import make_connection


async def populate() -> dict[str, object]:
    user, workspace = await create_admin("owner@example.com", "correct horse battery", "Client Co")
    await create_api_key(workspace.id, "host app", user.id)
    connection = await make_connection(workspace.id)
    now = utcnow()
    customer = Customer(workspace=workspace.id, name="Kate Ørsted", email="kate@example.com", created_at=now,
                        updated_at=now)
    await customer.save()
    invoice = Invoice(workspace=workspace.id, number="INV-1", customer=customer.id, issue_date=date(2026, 11, 3),
                      status="sent", subtotal=Decimal("10.50"), total=Decimal("10.50"), created_at=now,
                      updated_at=now)
    await invoice.save()
    await InvoiceLine(invoice=invoice.id, description="x", quantity=Decimal("1.5"), unit_price=Decimal("7"),
                      line_total=Decimal("10.50")).save()
    await ExternalLink(workspace=workspace.id, connection=connection.id, record_type="invoice", record_id=invoice.id,
                       remote_id="R-1", state="synced", remote_data='{"balance": "10.50"}').save()
    await SyncRun(workspace=workspace.id, connection=connection.id, kind=RunKind.export_invoice, state=RunState.done,
                  params='{"invoice_id": 1}', created_at=now, queued_at=now, finished_at=now).save()
    return {"access": vault.decrypt(connection.access_token_enc),
            "refresh": vault.decrypt(connection.refresh_token_enc)}


async def everything() -> dict[str, list[dict]]:
    return {table._meta.tablename: await table.select().order_by(table._meta.primary_key) for table in TABLES}


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_backup_then_restore_into_a_fresh_database_keeps_every_record(engine, request, tmp_path, monkeypatch,
                                                                            acme):
    async def fresh(name: str) -> str:
        if engine == "sqlite":
            folder = tmp_path / name
            folder.mkdir()
            url = sqlite_url(folder)
        else:
            url = await create_postgres_database(request.getfixturevalue("postgres_dsn"))
        await open_database(url, monkeypatch)
        return url

    await fresh("source")
    tokens = await populate()
    original = await everything()
    assert sum(len(rows) for rows in original.values()) >= 8
    file = tmp_path / "ledgerbridge-backup.json.gz"
    counts = await backups.backup(file)
    assert counts["connection"] == 1 and counts["invoice_line"] == 1

    await fresh("restored")
    assert await Connection.count() == 0
    restored_counts = await backups.restore(file)
    assert restored_counts == counts
    assert await everything() == original
    connection = await Connection.objects().first()
    assert vault.decrypt(connection.access_token_enc) == tokens["access"]
    assert vault.decrypt(connection.refresh_token_enc) == tokens["refresh"]
    # New rows get fresh ids after the restored ones (PostgreSQL's sequences were moved on).
    customer = Customer(workspace=connection.workspace, name="After restore", created_at=utcnow(),
                        updated_at=utcnow())
    await customer.save()
    assert customer.id > max(row["id"] for row in original["customer"])


async def test_restore_refuses_a_database_that_is_not_empty(database, tmp_path, acme):
    await populate()
    file = tmp_path / "backup.json.gz"
    await backups.backup(file)
    with pytest.raises(backups.BackupError, match="not empty"):
        await backups.restore(file)


async def test_restore_refuses_a_backup_from_a_newer_version(database, tmp_path):
    file = tmp_path / "backup.json.gz"
    await backups.backup(file)
    with gzip.open(file, "rt") as handle:
        document = json.load(handle)
    document["migrations"].append("2099-01-01T00:00:00:000000")
    with gzip.open(file, "wt") as handle:
        json.dump(document, handle)
    with pytest.raises(backups.BackupError, match="newer LedgerBridge"):
        await backups.restore(file)


def test_the_backup_and_restore_commands(tmp_path: Path):
    def ledgerbridge(database: Path, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, LEDGERBRIDGE_DATABASE_URL=f"sqlite:///{database}",
                   LEDGERBRIDGE_DATA_DIR=str(tmp_path / "data"))
        return subprocess.run([sys.executable, "-m", "ledgerbridge", *args], env=env, capture_output=True, text=True,
                              timeout=120)

    source, target, file = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3", tmp_path / "backup.json.gz"
    made = ledgerbridge(source, "createadmin", "--email", "owner@example.com", "--password", "correct horse 1")
    assert made.returncode == 0, made.stderr
    backed = ledgerbridge(source, "backup", str(file))
    assert backed.returncode == 0 and "backed up" in backed.stdout, backed.stderr
    restored = ledgerbridge(target, "restore", str(file))
    assert restored.returncode == 0 and "restored" in restored.stdout, restored.stderr
    again = ledgerbridge(target, "restore", str(file))
    assert again.returncode == 1 and "not empty" in again.stderr
