"""Customers API: validation, filters, workspace isolation and idempotent pushes by external_ref."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, make_customer


async def test_create_and_get(api: AsyncTestClient, tenant: Tenant) -> None:
    created = await make_customer(api, "Globex", email="ap@globex.test", currency="EUR")
    assert created["source"] == "api"
    assert created["currency"] == "EUR"
    fetched = await api.get(f"/api/v1/customers/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["email"] == "ap@globex.test"


async def test_missing_name_is_a_400_naming_the_field(api: AsyncTestClient) -> None:
    response = await api.post("/api/v1/customers", json={"email": "x@y.test"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert "name" in body["message"]
    assert body["fix"]


async def test_wrong_type_is_a_400_naming_the_field(api: AsyncTestClient) -> None:
    response = await api.post("/api/v1/customers", json={"name": "Globex", "currency": "euro"})
    assert response.status_code == 400
    body = response.json()
    assert "currency" in body["message"]
    assert body["fields"][0]["field"] == "currency"
    assert "Traceback" not in response.text


async def test_bad_json_is_a_400_not_a_500(api: AsyncTestClient) -> None:
    response = await api.post(
        "/api/v1/customers", content=b'{"name": "Glo', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"


async def test_bad_query_parameter_names_it(api: AsyncTestClient) -> None:
    response = await api.get("/api/v1/customers", params={"limit": "lots"})
    assert response.status_code == 400
    assert "limit" in response.json()["message"]
    too_many = await api.get("/api/v1/customers", params={"limit": 5000})
    assert too_many.status_code == 400
    assert "limit" in too_many.json()["message"]


async def test_filters_and_pagination(api: AsyncTestClient) -> None:
    for name in ("Alpha Co", "Beta LLC", "Gamma Alpha"):
        await make_customer(api, name)
    archived = await make_customer(api, "Delta", active=False)
    assert archived["archived_at"] is not None

    found = (await api.get("/api/v1/customers", params={"q": "alpha"})).json()
    assert sorted(c["name"] for c in found["items"]) == ["Alpha Co", "Gamma Alpha"]
    assert found["total"] == 2

    inactive = (await api.get("/api/v1/customers", params={"active": "false"})).json()
    assert [c["name"] for c in inactive["items"]] == ["Delta"]

    page = (await api.get("/api/v1/customers", params={"limit": 2, "offset": 2})).json()
    assert page["total"] == 4
    assert [c["name"] for c in page["items"]] == ["Delta", "Gamma Alpha"]

    assert (await api.get("/api/v1/customers", params={"source": "quickbooks"})).json()["total"] == 0
    assert (await api.get("/api/v1/customers", params={"source": "api"})).json()["total"] == 4


async def test_update_and_archive(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    response = await api.patch(f"/api/v1/customers/{customer['id']}", json={"phone": "555-0100", "active": False})
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "555-0100"
    assert body["active"] is False and body["archived_at"] is not None
    assert body["name"] == "Globex"


async def test_another_workspaces_customer_is_not_found(api: AsyncTestClient, app, other_tenant: Tenant) -> None:
    mine = await make_customer(api, "Mine")
    async with AsyncTestClient(app=app) as other:
        other.headers.update(other_tenant.headers)
        theirs = await make_customer(other, "Theirs")
        assert (await other.get(f"/api/v1/customers/{mine['id']}")).status_code == 404
        assert (await other.patch(f"/api/v1/customers/{mine['id']}", json={"name": "x"})).status_code == 404
        assert (await other.delete(f"/api/v1/customers/{mine['id']}")).status_code == 404
        listed = (await other.get("/api/v1/customers")).json()
        assert [c["name"] for c in listed["items"]] == ["Theirs"]
    response = await api.get(f"/api/v1/customers/{theirs['id']}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_upsert_by_external_ref_is_idempotent(api: AsyncTestClient) -> None:
    body = {"name": "Initech", "email": "billing@initech.test"}
    first = await api.put("/api/v1/customers/by-ref/crm-42", json=body)
    assert first.status_code == 201
    again = await api.put("/api/v1/customers/by-ref/crm-42", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    changed = await api.put("/api/v1/customers/by-ref/crm-42", json={**body, "name": "Initech Inc"})
    assert changed.status_code == 200 and changed.json()["name"] == "Initech Inc"
    listed = (await api.get("/api/v1/customers", params={"external_ref": "crm-42"})).json()
    assert listed["total"] == 1
    assert listed["items"][0]["external_ref"] == "crm-42"


async def test_same_external_ref_in_two_workspaces_is_two_customers(
    api: AsyncTestClient, app, other_tenant: Tenant
) -> None:
    ours = await api.put("/api/v1/customers/by-ref/shared-1", json={"name": "Ours"})
    async with AsyncTestClient(app=app) as other:
        other.headers.update(other_tenant.headers)
        theirs = await other.put("/api/v1/customers/by-ref/shared-1", json={"name": "Theirs"})
    assert ours.status_code == theirs.status_code == 201
    assert ours.json()["id"] != theirs.json()["id"]
    assert (await api.get(f"/api/v1/customers/{ours.json()['id']}")).json()["name"] == "Ours"


async def test_posting_a_taken_external_ref_is_a_conflict(api: AsyncTestClient) -> None:
    await make_customer(api, "First", external_ref="dup")
    response = await api.post("/api/v1/customers", json={"name": "Second", "external_ref": "dup"})
    assert response.status_code == 409
    assert "by-ref/dup" in response.json()["fix"]


async def test_delete_only_unused_customers(api: AsyncTestClient) -> None:
    unused = await make_customer(api, "Unused")
    assert (await api.delete(f"/api/v1/customers/{unused['id']}")).status_code == 204
    assert (await api.get(f"/api/v1/customers/{unused['id']}")).status_code == 404
    used = await make_customer(api, "Used")
    await api.post("/api/v1/invoices", json={"customer_id": used["id"]})
    response = await api.delete(f"/api/v1/customers/{used['id']}")
    assert response.status_code == 409
    assert "Archive" in response.json()["fix"]
