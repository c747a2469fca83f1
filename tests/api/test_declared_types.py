"""Requests get exactly the types the OpenAPI schema declares (issue 14, item 5).

The contract run (`test_api_contract.py`) found the server accepting what its schema refuses:
`0`/`1` for booleans in bodies and queries, `"0.5"` for a date-time, numbers for money the schema
typed as strings only. Each is now refused with a 400 naming the field, or documented; these are
the requests it sent.
"""

# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, api, app, make_customer, make_invoice, tenant  # noqa: F401  (fixtures)


def _refused(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.text)
    body = response.json()
    assert body["code"] == "validation_failed", body
    assert [f["field"] for f in body["fields"]] == [field], body
    assert body["fix"], body
    return body


@pytest.mark.parametrize("value", [0, 1, "true", None])
async def test_a_body_boolean_must_be_true_or_false(api: AsyncTestClient, value: Any) -> None:
    body = _refused(await api.post("/api/v1/customers", json={"name": "Globex", "active": value}), "active")
    assert "bool" in body["message"]
    assert (await api.get("/api/v1/customers")).json()["total"] == 0  # nothing was created


async def test_a_nested_body_field_is_named_by_its_path(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    entry = {"customer_id": customer["id"], "person": "Ada", "worked_on": "2026-11-30", "hours": "1", "billable": 1}
    _refused(await api.put("/api/v1/time-entries/by-ref/t-1", json=entry), "billable")
    line = {"description": "Consulting", "quantity": "1", "unit_price": "5", "tax_rate_id": "1"}
    body = {"customer_id": customer["id"], "lines": [line]}
    _refused(await api.post("/api/v1/invoices", json=body), "lines[0].tax_rate_id")


async def test_a_body_integer_is_not_a_string(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    _refused(await api.post("/api/v1/invoices", json={"customer_id": str(customer["id"])}), "customer_id")


async def test_strict_bodies_still_take_what_the_schema_says(api: AsyncTestClient) -> None:
    customer = await make_customer(api, active=False)
    assert customer["active"] is False
    invoice = await make_invoice(
        api, customer["id"], lines=[{"description": "x", "quantity": 2, "unit_price": 12.5}], issue_date="2026-12-01"
    )
    assert invoice["total"] == "25.00"


@pytest.mark.parametrize(
    ("query", "field"),
    [("active=1", "active"), ("active=0", "active"), ("active=yes", "active"), ("limit=5.0", "limit"),
     ("offset=%2B3", "offset"), ("offset=1e2", "offset")],
)
async def test_query_values_must_be_written_as_declared(api: AsyncTestClient, query: str, field: str) -> None:
    _refused(await api.get(f"/api/v1/customers?{query}"), field)


async def test_query_booleans_and_numbers_written_as_declared_still_work(api: AsyncTestClient) -> None:
    await make_customer(api, "Globex")
    await make_customer(api, "Initech", active=False)
    response = await api.get("/api/v1/customers?active=false&limit=5&offset=0")
    assert response.status_code == 200, response.text
    assert [c["name"] for c in response.json()["items"]] == ["Initech"]
    assert (await api.get("/api/v1/issues?resolved=true")).status_code == 200


async def test_a_query_date_time_is_iso_8601(app: Litestar, tenant: Tenant) -> None:
    from ledgerbridge.identity.api_keys import create_api_key
    from ledgerbridge.identity.permissions import Scope

    key = await create_api_key(tenant.workspace_id, "auditor", tenant.owner_id, scopes=[Scope.audit_read.value])
    async with AsyncTestClient(app=app) as client:
        client.headers["X-API-Key"] = key.key
        _refused(await client.get("/api/v1/audit?until=0.5"), "until")
        _refused(await client.get("/api/v1/audit?since=1733390000"), "since")
        response = await client.get("/api/v1/audit?since=2026-01-01T00:00:00Z&until=2030-01-01T00:00:00%2B01:00")
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("amount", [" 12.50", "12.50 ", "1,000", "12.5.0", "NaN"])
async def test_money_strings_follow_the_documented_pattern(api: AsyncTestClient, amount: str) -> None:
    body = {"name": "Consulting", "unit_price": amount}
    _refused(await api.post("/api/v1/items", json=body), "unit_price")


async def test_money_as_a_json_number_is_documented_and_accepted(app: Litestar, api: AsyncTestClient) -> None:
    from ledgerbridge.api.schemas import MONEY_PATTERN

    rate = app.openapi_schema.to_schema()["components"]["schemas"]["TaxRateIn"]["properties"]["rate"]
    assert rate["type"] == ["string", "number"] and rate["pattern"] == MONEY_PATTERN, rate
    response = await api.post("/api/v1/tax-rates", json={"name": "VAT", "rate": 20})
    assert response.status_code == 201, response.text
    assert response.json()["rate"] == "20.0000"
