"""A bulk export that the provider's daily allowance cannot carry is refused before it starts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ledgerbridge import budget, connections
from ledgerbridge.ratelimit import Limits
from ledgerbridge.tables import Customer, Invoice, utcnow

from tests.conftest import make_connection


async def _invoices(workspace_id: int, count: int, customers: int = 1) -> list[int]:
    now = utcnow()
    people = []
    for n in range(customers):
        customer = Customer(workspace=workspace_id, name=f"C{n}", created_at=now, updated_at=now)
        await customer.save()
        people.append(customer.id)
    ids = []
    for n in range(count):
        invoice = Invoice(workspace=workspace_id, number=f"B-{n}", customer=people[n % customers],
                          issue_date=date(2026, 11, 2), status="sent", total=Decimal("1"), created_at=now,
                          updated_at=now)
        await invoice.save()
        ids.append(invoice.id)
    return ids


async def test_an_export_the_daily_allowance_cannot_carry_is_refused_with_figures(workspace):
    connection = await make_connection(workspace.id, provider="xero", tenant_name="Demo NZ")
    ids = await _invoices(workspace.id, 600, customers=3)
    fits = await budget.check(connection, ids)  # 600 / 50 = 12 batch calls + 3 new customers
    assert (fits.needed, fits.allowance, fits.used_today) == (15, 5000, 0)
    key = connections.limiter_key(connection)
    assert await connections.limiter().backend.try_acquire(key, Limits(per_day=5000), "t", 1, cost=4990) == 0
    with pytest.raises(budget.DailyLimitAhead) as refused:
        await budget.check(connection, ids)
    assert "needs about 15 calls" in refused.value.message and "only 10 of today's 5000" in refused.value.message
    assert refused.value.code == "daily_limit" and "resets" in refused.value.fix


async def test_providers_without_a_daily_limit_always_fit(workspace):
    connection = await make_connection(workspace.id, provider="quickbooks")
    ids = await _invoices(workspace.id, 40)
    result = await budget.check(connection, ids)
    assert result.allowance is None and result.fits and result.needed == 41  # metered batch items: one each
