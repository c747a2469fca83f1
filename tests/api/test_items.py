"""Items API: exact prices, checked references, idempotent pushes, isolation."""

from __future__ import annotations

from decimal import Decimal

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant


async def test_prices_are_exact_from_numbers_and_strings(api: AsyncTestClient) -> None:
    as_number = await api.post("/api/v1/items", json={"name": "Widget", "unit_price": 12.5})
    assert as_number.status_code == 201, as_number.text
    assert as_number.json()["unit_price"] == "12.50"
    as_string = await api.post("/api/v1/items", json={"name": "Bolt", "unit_price": "0.1234"})
    assert as_string.json()["unit_price"] == "0.1234"
    from ledgerbridge.tables import Item

    stored = await Item.select(Item.unit_price).where(Item.name == "Bolt").first()
    assert stored["unit_price"] == Decimal("0.1234")


async def test_prices_the_database_would_round_are_refused(api: AsyncTestClient) -> None:
    response = await api.post("/api/v1/items", json={"name": "Widget", "unit_price": "0.12345"})
    assert response.status_code == 400
    assert response.json()["fields"] == [{"field": "unit_price", "message": "has more than 4 decimal places"}]
    infinite = await api.post("/api/v1/items", json={"name": "Widget", "unit_price": "Infinity"})
    assert infinite.status_code == 400 and "unit_price" in infinite.json()["message"]


async def test_references_must_be_in_the_workspace(api: AsyncTestClient, other_tenant: Tenant) -> None:
    from ledgerbridge.tables import TaxRate, utcnow

    theirs = TaxRate(workspace=other_tenant.workspace_id, name="Theirs", rate=Decimal("5"), updated_at=utcnow())
    await theirs.save()
    response = await api.post("/api/v1/items", json={"name": "Widget", "taxable": True, "tax_rate_id": theirs.id})
    assert response.status_code == 400
    assert "tax_rate_id" in response.json()["message"]
    account = await api.post("/api/v1/items", json={"name": "Widget", "income_account_id": 12345})
    assert account.status_code == 400 and "income_account_id" in account.json()["message"]


async def test_upsert_by_external_ref_and_archive(api: AsyncTestClient) -> None:
    body = {"name": "Consulting hour", "unit_price": "150"}
    first = await api.put("/api/v1/items/by-ref/sku-1", json=body)
    again = await api.put("/api/v1/items/by-ref/sku-1", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert (await api.get("/api/v1/items")).json()["total"] == 1
    archived = await api.patch(f"/api/v1/items/{first.json()['id']}", json={"active": False})
    assert archived.json()["archived_at"] is not None
    assert (await api.get("/api/v1/items", params={"active": "true"})).json()["total"] == 0


async def test_another_workspaces_item_is_not_found(api: AsyncTestClient, app, other_tenant: Tenant) -> None:
    item = (await api.post("/api/v1/items", json={"name": "Mine"})).json()
    async with AsyncTestClient(app=app) as other:
        other.headers.update(other_tenant.headers)
        assert (await other.get(f"/api/v1/items/{item['id']}")).status_code == 404
        assert (await other.patch(f"/api/v1/items/{item['id']}", json={"name": "x"})).status_code == 404
        assert (await other.delete(f"/api/v1/items/{item['id']}")).status_code == 404
