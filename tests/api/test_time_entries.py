"""Time entries API, and billing them with from-time-entries."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_customer


async def entry(client: AsyncTestClient, customer_id: int, **values: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "person": "Ada", "worked_on": "2026-11-02", "hours": "1.5", "rate": "90"}
    response = await client.post("/api/v1/time-entries", json={**body, **values})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_list_and_validate(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    created = await entry(api, customer["id"], hours=0.25)
    assert (created["hours"], created["rate"], created["amount"]) == ("0.25", "90.00", "22.50")
    assert (await api.get("/api/v1/time-entries", params={"billed": "false"})).json()["total"] == 1
    bad = await api.post(
        "/api/v1/time-entries",
        json={"customer_id": customer["id"], "person": "Ada", "worked_on": "yesterday", "hours": "1"},
    )
    assert bad.status_code == 400 and "worked_on" in bad.json()["message"]
    negative = await api.post(
        "/api/v1/time-entries",
        json={"customer_id": customer["id"], "person": "Ada", "worked_on": "2026-11-02", "hours": "-1"},
    )
    assert negative.status_code == 400 and "hours" in negative.json()["message"]


async def test_upsert_by_external_ref(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    body = {"customer_id": customer["id"], "person": "Ada", "worked_on": "2026-11-02", "hours": "2"}
    first = await api.put("/api/v1/time-entries/by-ref/te-1", json=body)
    second = await api.put("/api/v1/time-entries/by-ref/te-1", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert (await api.get("/api/v1/time-entries")).json()["total"] == 1


async def test_bill_time_entries_into_a_draft(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    item = (await api.post("/api/v1/items", json={"name": "Dev hour", "unit_price": "120"})).json()
    first = await entry(api, customer["id"], worked_on="2026-11-03", description="API work")
    second = await entry(api, customer["id"], worked_on="2026-11-01", rate="0", item_id=item["id"], hours="2")
    response = await api.post(
        "/api/v1/invoices/from-time-entries", json={"time_entry_ids": [first["id"], second["id"]]}
    )
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["status"] == "draft"
    assert [(line["quantity"], line["unit_price"]) for line in invoice["lines"]] == [
        ("2.00", "120.00"),  # oldest first; no rate on the entry: the item's price
        ("1.50", "90.00"),
    ]
    assert "API work" in invoice["lines"][1]["description"]
    assert invoice["total"] == "375.00"
    billed = (await api.get("/api/v1/time-entries", params={"invoice_id": invoice["id"]})).json()
    assert sorted(e["id"] for e in billed["items"]) == sorted([first["id"], second["id"]])

    again = await api.post("/api/v1/invoices/from-time-entries", json={"time_entry_ids": [first["id"]]})
    assert again.status_code == 409
    locked = await api.patch(f"/api/v1/time-entries/{first['id']}", json={"hours": "9"})
    assert locked.status_code == 409

    await api.post(f"/api/v1/invoices/{invoice['id']}/void")
    released = (await api.get(f"/api/v1/time-entries/{first['id']}")).json()
    assert released["invoice_id"] is None


async def test_entries_of_two_customers_are_billed_separately(api: AsyncTestClient) -> None:
    one, two = await make_customer(api, "One"), await make_customer(api, "Two")
    a, b = await entry(api, one["id"]), await entry(api, two["id"])
    response = await api.post("/api/v1/invoices/from-time-entries", json={"time_entry_ids": [a["id"], b["id"]]})
    assert response.status_code == 400 and "time_entry_ids" in response.json()["message"]
    from ledgerbridge.tables import Invoice

    assert await Invoice.count() == 0


async def test_another_workspaces_entries_are_not_found(api: AsyncTestClient, app, other_tenant: Tenant) -> None:
    customer = await make_customer(api)
    mine = await entry(api, customer["id"])
    async with AsyncTestClient(app=app) as other:
        other.headers.update(other_tenant.headers)
        assert (await other.get(f"/api/v1/time-entries/{mine['id']}")).status_code == 404
        response = await other.post("/api/v1/invoices/from-time-entries", json={"time_entry_ids": [mine["id"]]})
        assert response.status_code == 404
