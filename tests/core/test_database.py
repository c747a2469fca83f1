"""The database layer on both engines: exact money, uniqueness, and SQLite under concurrency."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest
from ledgerbridge import db
from ledgerbridge.tables import Customer, ExternalLink, Invoice, Workspace, utcnow


async def _invoice(ws: Workspace, **values) -> Invoice:
    customer = Customer(workspace=ws.id, name="Ada", created_at=utcnow(), updated_at=utcnow())
    await customer.save()
    invoice = Invoice(workspace=ws.id, customer=customer.id, number=values.pop("number", "INV-1"),
                      issue_date=date(2026, 11, 1), created_at=utcnow(), updated_at=utcnow(), **values)
    await invoice.save()
    return invoice


async def test_money_round_trips_exactly(any_database):
    ws = Workspace(name="W", slug="w")
    await ws.save()
    total = Decimal("0.1") + Decimal("0.2")
    big = Decimal("1234567890123456.78")
    invoice = await _invoice(ws, total=total, subtotal=big)
    row = await Invoice.select(Invoice.total, Invoice.subtotal).where(Invoice.id == invoice.id).first()
    assert row["total"] == Decimal("0.30") and isinstance(row["total"], Decimal)
    assert row["subtotal"] == big  # 18 significant digits: a float would have lost the cents


async def test_one_link_per_record_and_per_remote(any_database):
    from ledgerbridge.tables import Connection

    ws = Workspace(name="W", slug="w")
    await ws.save()
    conn = Connection(workspace=ws.id, provider="acme", created_at=utcnow(), updated_at=utcnow())
    await conn.save()
    base = dict(workspace=ws.id, connection=conn.id, record_type="customer", created_at=utcnow(),
                updated_at=utcnow())
    await ExternalLink(record_id=1, remote_id="A", **base).save()
    with pytest.raises(Exception) as same_record:
        await ExternalLink(record_id=1, remote_id="B", **base).save()
    assert db.is_unique_violation(same_record.value)
    with pytest.raises(Exception) as same_remote:
        await ExternalLink(record_id=2, remote_id="A", **base).save()
    assert db.is_unique_violation(same_remote.value)


async def test_concurrent_read_then_write_on_sqlite_is_never_locked(database):
    """The failure STACK.md saw: deferred read-then-write transactions on SQLite lock each other."""
    ws = Workspace(name="W", slug="w")
    await ws.save()
    invoice = await _invoice(ws, total=Decimal("0"))

    async def bump() -> None:
        async with db.write_transaction():
            row = await Invoice.select(Invoice.total).where(Invoice.id == invoice.id).first()
            await Invoice.update({Invoice.total: row["total"] + Decimal("1.01")}).where(Invoice.id == invoice.id)

    results = await asyncio.gather(*(bump() for _ in range(60)), return_exceptions=True)
    assert [r for r in results if isinstance(r, Exception)] == []
    row = await Invoice.select(Invoice.total).where(Invoice.id == invoice.id).first()
    assert row["total"] == Decimal("60.60")  # no lost update either


async def test_bulk_rows_store_datetimes_and_enums_as_piccolo_does(any_database):
    """`bulk_rows` converts datetimes and enums itself (not through sqlite3's adapter): rows it writes
    must read back, and sort, exactly like rows Piccolo saved. A UTC-offset time must be stored as UTC."""
    from datetime import datetime, timedelta, timezone

    from ledgerbridge.bulk_rows import append_rows, insert_rows
    from ledgerbridge.tables import Connection, LinkState

    ws = Workspace(name="W", slug="w")
    await ws.save()
    conn = Connection(workspace=ws.id, provider="acme", created_at=utcnow(), updated_at=utcnow())
    await conn.save()
    pacific = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=-8)))
    later = pacific + timedelta(seconds=1)
    saved = ExternalLink(workspace=ws.id, connection=conn.id, record_type="customer", record_id=1, remote_id="P",
                         state=LinkState.archived, last_synced_at=pacific, created_at=pacific, updated_at=pacific)
    await saved.save()
    columns = ["workspace", "connection", "record_type", "record_id", "remote_id", "state", "last_synced_at",
               "created_at", "updated_at"]
    async with db.write_transaction():
        ids = await insert_rows(ExternalLink, columns, [
            (ws.id, conn.id, "customer", 2, "B", LinkState.archived, pacific, pacific, later),
            (ws.id, conn.id, "customer", 3, "C", LinkState.warning, later, pacific, pacific),
        ])
        await append_rows(ExternalLink, columns, [(ws.id, conn.id, "customer", 4, "D", LinkState.synced, pacific,
                                                    pacific, pacific)])
    rows = {row.remote_id: row for row in await ExternalLink.objects().where(ExternalLink.connection == conn.id)}
    assert [rows["B"].id, rows["C"].id] == ids
    assert rows["B"].last_synced_at == rows["P"].last_synced_at == pacific
    assert rows["B"].last_synced_at.utcoffset() == timedelta(0)
    assert rows["B"].state == rows["P"].state == LinkState.archived and rows["C"].state == LinkState.warning
    assert rows["D"].state == LinkState.synced and rows["D"].created_at == pacific
    # Stored the same way: the same moment finds both rows, and order by time holds.
    same = await ExternalLink.select(ExternalLink.remote_id).where(ExternalLink.last_synced_at == pacific)
    assert sorted(row["remote_id"] for row in same) == ["B", "D", "P"]
    ordered = await ExternalLink.select(ExternalLink.remote_id).where(
        ExternalLink.connection == conn.id).order_by(ExternalLink.updated_at, ExternalLink.remote_id)
    assert [row["remote_id"] for row in ordered][-1] == "B"
