"""Fixtures for the API, auth and admin-UI tests: an app on the test database, signed-in tenants.

Built on the suite's `database` fixture (tests/conftest.py). `tests/test_auth.py` and the web tests
import these fixtures by name, so they can move into tests/conftest.py unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

OWNER_PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    """A workspace with an owner who can sign in, and an API key for it."""

    workspace_id: int
    owner_id: int
    owner_email: str
    password: str
    api_key: str
    api_key_prefix: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


async def make_tenant(email: str, workspace_name: str) -> Tenant:
    from ledgerbridge.auth import create_admin, create_api_key

    user, workspace = await create_admin(email, OWNER_PASSWORD, workspace_name)
    key = await create_api_key(workspace.id, "host app", user.id)
    return Tenant(
        workspace_id=workspace.id,
        owner_id=user.id,
        owner_email=user.email,
        password=OWNER_PASSWORD,
        api_key=key.key,
        api_key_prefix=key.record.prefix,
    )


@pytest.fixture
async def app(database: str) -> Litestar:
    from ledgerbridge.app import create_app
    from ledgerbridge.settings import get_settings

    return create_app(get_settings(), background=False)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A browser-like client: no credentials until it signs in."""
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def tenant(database: str) -> Tenant:
    return await make_tenant("owner@example.com", "Acme Studio")


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


async def make_connection(workspace_id: int, provider: str = "acme", **values: Any) -> Any:
    """A connected connection row; no tokens, as the API never reads them."""
    from ledgerbridge.tables import Connection, utcnow

    connection = Connection(
        workspace=workspace_id,
        provider=provider,
        tenant_id=f"{provider}-tenant",
        tenant_name=f"{provider.title()} Books",
        status=values.pop("status", "connected"),
        created_at=utcnow(),
        updated_at=utcnow(),
        **values,
    )
    await connection.save()
    return connection


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
