"""Fixtures for the API, auth and admin-UI tests: an app on the test database, signed-in tenants.

Built on the suite's fixtures (tests/conftest.py), which now hold `app`, `client`, `tenant`,
`make_tenant` and `make_connection`; this file adds the API-only ones.
"""

# The shared fixtures are re-exported below, so parameters named after them "redefine" them.
# ruff: noqa: F811

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

# Moved to tests/conftest.py so every test folder shares them; re-exported for the modules that
# still import them from here.
from tests.conftest import OWNER_PASSWORD, Tenant, app, client, make_connection, make_tenant, tenant  # noqa: F401


@pytest.fixture
async def other_tenant(database: str) -> Tenant:
    return await make_tenant("someone@elsewhere.test", "Elsewhere Ltd")


@pytest.fixture
async def api(app: Litestar, tenant: Tenant) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The host app: calls the API with the tenant's API key."""
    async with AsyncTestClient(app=app) as test_client:
        test_client.headers.update(tenant.headers)
        yield test_client


async def csrf_token(client: AsyncTestClient[Any]) -> str:
    response = await client.get("/auth/csrf")
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


async def sign_in(client: AsyncTestClient[Any], email: str, password: str) -> Any:
    """Sign in through the JSON endpoint, as a script or SPA would; returns the response."""
    token = await csrf_token(client)
    return await client.post("/auth/login", json={"email": email, "password": password}, headers={"x-csrftoken": token})


async def make_customer(client: AsyncTestClient[Any], name: str = "Globex", **values: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/customers", json={"name": name, **values})
    assert response.status_code == 201, response.text
    return response.json()


async def make_invoice(
    client: AsyncTestClient[Any], customer_id: int, lines: list[dict[str, Any]] | None = None, **values: Any
) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "lines": lines if lines is not None else [{"description": "Consulting", "quantity": "2", "unit_price": "50"}],
        **values,
    }
    response = await client.post("/api/v1/invoices", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def finalized_invoice(client: AsyncTestClient[Any], customer_id: int, **values: Any) -> dict[str, Any]:
    invoice = await make_invoice(client, customer_id, **values)
    response = await client.post(f"/api/v1/invoices/{invoice['id']}/finalize")
    assert response.status_code == 200, response.text
    return response.json()

