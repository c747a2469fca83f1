"""A batch of invoices costs the database a fixed number of statements, whatever its size (issue 18).

Counted by SQLite itself: every connection the engine opens carries a trace callback, which SQLite
calls for each statement it runs (BEGIN and COMMIT included), so the count covers every query and
transaction of the run, ours or Piccolo's. The export checks, claims and records a batch with a
few queries each, not a few per invoice; before, 9 invoices cost about 10 statements more each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from ledgerbridge import connections, db
from ledgerbridge.db import current_engine
from ledgerbridge.errors import AuthorizationError
from ledgerbridge.sync.batch_session import BatchSession
from ledgerbridge.tables import (
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    OutboundWrite,
    RunKind,
    RunState,
    SyncRun,
    WriteState,
    utcnow,
)

from tests.core.test_sync import no_broker, run  # noqa: F401  (no_broker is an autouse fixture)

STATEMENTS: list[str] = []


class TracedConnection(sqlite3.Connection):
    """A connection that tells SQLite to report each statement it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_trace_callback(STATEMENTS.append)


@pytest.fixture
async def traced(database: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    engine: Any = current_engine()
    monkeypatch.setitem(engine.connection_kwargs, "factory", TracedConnection)
    await db.close_pool()  # the connections kept so far were opened untraced
    await db.ensure_pool()
    STATEMENTS.clear()
    yield STATEMENTS
    STATEMENTS.clear()


async def _invoices(connection: Any, customer_id: int, prefix: str, count: int) -> list[Invoice]:
    invoices = []
    for n in range(count):
        invoice = Invoice(workspace=connection.workspace, number=f"{prefix}-{n}", customer=customer_id,
                          issue_date=date(2026, 11, 2), status="sent", subtotal=Decimal("10.00"),
                          total=Decimal("10.00"), created_at=utcnow(), updated_at=utcnow())
        await invoice.save()
        await InvoiceLine(invoice=invoice.id, description="Work", quantity=Decimal("1"), unit_price=Decimal("10"),
                          line_total=Decimal("10.00")).save()
        invoices.append(invoice)
    return invoices


def _ours(traced: list[str]) -> list[str]:
    """The statements sent, without the repeats SQLite reports for a trigger it runs: each row a
    trigger fires on is reported again as the statement that fired it, expanded the same."""
    return [statement for n, statement in enumerate(traced) if n == 0 or statement != traced[n - 1]]


async def _statements_to_export(connection: Any, invoices: list[Invoice], traced: list[str]) -> int:
    traced.clear()
    done = await run(RunKind.export_invoices, connection, invoice_ids=[i.id for i in invoices])
    # What a trigger runs (`invoice.link_count`, migration 0021) is SQLite's own work per row, not a
    # statement of ours.
    count = len(_ours(traced))
    assert done.state == RunState.done and done.failed == 0, done.error
    return count


async def test_a_batch_costs_the_same_statements_for_three_invoices_as_for_nine(connection, acme, traced):
    customer = Customer(workspace=connection.workspace, name="Grace", email="g@example.com", created_at=utcnow(),
                        updated_at=utcnow())
    await customer.save()
    exported = await run(RunKind.export_customer, connection, customer_id=customer.id)
    assert exported.state == RunState.done, exported.error
    small = await _invoices(connection, customer.id, "S", 3)
    large = await _invoices(connection, customer.id, "L", 9)  # Acme takes 10 a batch: each run is one batch

    for_three = await _statements_to_export(connection, small, traced)
    acme.CALLS.clear()
    for_nine = await _statements_to_export(connection, large, traced)

    assert acme.CALLS.count("export_invoices_batch") == 1
    assert 0 < for_three == for_nine, (for_three, for_nine)  # on main: 214 and 508
    # What the statements did: each invoice linked once, its write applied, nothing sent twice.
    assert await ExternalLink.count().where(ExternalLink.record_type == "invoice") == 12
    writes = await OutboundWrite.select(OutboundWrite.state).where(OutboundWrite.record_type == "invoice")
    assert [w["state"] for w in writes] == [WriteState.applied] * 12
    numbers = sorted(r["number"] for r in acme.remote_records("invoice"))
    assert numbers == sorted(i.number for i in small + large)
    assert await SyncRun.count().where(SyncRun.kind == RunKind.export_invoices) == 2


async def test_batches_side_by_side_share_one_provider_session(connection, acme, traced):
    """The lanes' batch requests go through one provider session (`sync.batch_session`): the connection's
    row and token are read once for the run, not once per request as `connections.call` does (only its
    status is read before each request)."""
    customer = Customer(workspace=connection.workspace, name="Ada", email="a@example.com", created_at=utcnow(),
                        updated_at=utcnow())
    await customer.save()
    exported = await run(RunKind.export_customer, connection, customer_id=customer.id)
    assert exported.state == RunState.done, exported.error
    two = await _invoices(connection, customer.id, "T", 20)  # Acme takes 10 a batch: 2 batches, then 4
    four = await _invoices(connection, customer.id, "F", 40)

    def connection_reads() -> int:
        return sum(1 for statement in _ours(traced)
                   if 'FROM "connection"' in statement and '"access_token_enc"' in statement)

    await _statements_to_export(connection, two, traced)
    for_two = connection_reads()
    acme.CALLS.clear()
    await _statements_to_export(connection, four, traced)
    for_four = connection_reads()

    assert acme.CALLS.count("export_invoices_batch") == 4
    assert 0 < for_two == for_four, (for_two, for_four)
    numbers = sorted(r["number"] for r in acme.remote_records("invoice"))
    assert numbers == sorted(i.number for i in two + four)


async def test_a_run_disconnected_midway_sends_no_further_batch(connection, acme):
    """Revoking at the provider is a courtesy that may fail, so the shared session's access token could
    outlive a disconnect: the session reads the connection's status before each request instead."""
    async with BatchSession(connection.id) as session:
        await session.call("import_customers", cursor=None)
        await connections.disconnect(connection.id)
        acme.CALLS.clear()
        with pytest.raises(AuthorizationError) as refused:
            await session.call("import_customers", cursor=None)
    assert refused.value.code == "not_connected"
    assert acme.CALLS == []
