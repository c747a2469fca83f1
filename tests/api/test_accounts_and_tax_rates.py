"""Accounts and tax rates: readable, scoped, and not writable through the API."""

from __future__ import annotations

from decimal import Decimal

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_connection


async def test_read_only_and_scoped(api: AsyncTestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    from ledgerbridge.tables import Account, TaxRate, utcnow

    mine = await make_connection(tenant.workspace_id)
    theirs = await make_connection(other_tenant.workspace_id)
    await Account(
        workspace=tenant.workspace_id, connection=mine.id, name="Sales", code="4000", updated_at=utcnow()
    ).save()
    foreign = Account(workspace=other_tenant.workspace_id, connection=theirs.id, name="Theirs", updated_at=utcnow())
    await foreign.save()
    await TaxRate(
        workspace=tenant.workspace_id, connection=mine.id, name="GST", rate=Decimal("12.5"), updated_at=utcnow()
    ).save()

    accounts = (await api.get("/api/v1/accounts")).json()
    assert [(a["name"], a["code"]) for a in accounts["items"]] == [("Sales", "4000")]
    assert (await api.get(f"/api/v1/accounts/{foreign.id}")).status_code == 404
    rates = (await api.get("/api/v1/tax-rates", params={"connection_id": mine.id})).json()
    assert [(r["name"], r["rate"]) for r in rates["items"]] == [("GST", "12.5000")]

    refused = await api.post("/api/v1/accounts", json={"name": "New"})
    assert refused.status_code == 405
    assert refused.json()["code"] == "method_not_allowed"
