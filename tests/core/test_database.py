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
