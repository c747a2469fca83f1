"""Inputs the attack run answered with 500 are refused with 400 naming the field (issue 14, finding 5).

Each case is the request the generated run or a hand probe sent; none may end as a server error.
"""

# ruff: noqa: F811

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.api.conftest import Tenant, api, app, make_customer, tenant  # noqa: F401  (fixtures)

BIG = 2**63


def _field_error(response, field: str) -> None:
    assert response.status_code == 400, (response.status_code, response.text)
    body = response.json()
    assert body["code"] == "validation_failed", body
    assert field in body["message"] or any(field in f["field"] for f in body.get("fields") or []), body


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/api/v1/customers/{BIG}", "customer_id"),
        (f"/api/v1/invoices/{BIG}", "invoice_id"),
        (f"/api/v1/sync-runs/{BIG}", "run_id"),
        (f"/api/v1/customers?offset={BIG}", "offset"),
        (f"/api/v1/invoices?offset={BIG * 4}", "offset"),
    ],
)
async def test_huge_integers_in_paths_and_queries(api: AsyncTestClient, path: str, field: str) -> None:
    _field_error(await api.get(path), field)


async def test_huge_integers_in_bodies(api: AsyncTestClient) -> None:
    _field_error(await api.post("/api/v1/invoices", json={"customer_id": BIG}), "customer_id")
    customer = await make_customer(api)
    line = {"item_id": BIG, "unit_price": "1"}
    _field_error(await api.post("/api/v1/invoices", json={"customer_id": customer["id"], "lines": [line]}), "item_id")


async def test_enormous_exponents_in_money(api: AsyncTestClient) -> None:
    customer = await make_customer(api)
    for amount in ("1e1000000", "1E+999999999"):
        body = {"customer_id": customer["id"], "lines": [{"description": "x", "unit_price": amount}]}
        _field_error(await api.post("/api/v1/invoices", json=body), "unit_price")
    raw = b'{"customer_id": %d, "lines": [{"description": "x", "unit_price": 1e1000000}]}' % customer["id"]
    _field_error(await api.post("/api/v1/invoices", content=raw, headers={"content-type": "application/json"}),
                 "unit_price")


async def test_deeply_nested_json(api: AsyncTestClient) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    response = await api.post("/api/v1/customers", content=raw, headers={"content-type": "application/json"})
    _field_error(response, "body")


async def test_bodies_that_are_not_utf8(api: AsyncTestClient) -> None:
    response = await api.post("/api/v1/customers", content=b'{"name": "\xff\xfe"}',
                              headers={"content-type": "application/json"})
    _field_error(response, "body")


async def test_negative_quantities_and_prices_underscores_and_nul(api: AsyncTestClient) -> None:
    customer = await make_customer(api)

    async def line(**values: object):
        body = {"customer_id": customer["id"], "lines": [{"description": "x", "unit_price": "1", **values}]}
        return await api.post("/api/v1/invoices", json=body)

    _field_error(await line(quantity="-1"), "quantity")
    _field_error(await line(unit_price="-5"), "unit_price")
    _field_error(await line(unit_price="1_000"), "unit_price")
    _field_error(await line(description="bad\x00text"), "description")
    _field_error(await api.post("/api/v1/customers", json={"name": "Nul\x00Co"}), "name")


async def test_nul_in_a_query_parameter_name(api: AsyncTestClient) -> None:
    """The contract run sent `?%00D...=1` to GET /api/v1/accounts and got a 500."""
    _field_error(await api.get("/api/v1/accounts?%00name=1"), "query")
    _field_error(await api.get("/api/v1/customers?q=a&%00=1"), "query")
