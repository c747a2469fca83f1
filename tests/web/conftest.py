"""Fixtures for the admin UI's handler tests: a browser-like client signed in as the tenant's owner."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant

HTML = {"accept": "text/html,application/xhtml+xml"}


def hidden_token(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def submit_login(client: AsyncTestClient[Any], email: str, password: str, next_path: str = "/") -> Any:
    page = await client.get("/login", headers=HTML)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "next": next_path, "_csrf_token": hidden_token(page.text)},
        headers=HTML,
        follow_redirects=False,
    )


class UI:
    """A signed-in person's browser without JavaScript: pages, and forms posted with their token."""

    def __init__(self, client: AsyncTestClient[Any]):
        self.client = client
        self.token = ""

    async def get(self, path: str, status: int = 200) -> str:
        response = await self.client.get(path, headers=HTML)
        assert response.status_code == status, (path, response.status_code, response.text[:2000])
        if 'name="_csrf_token"' in response.text:
            self.token = hidden_token(response.text)
        return response.text

    async def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        if not self.token:
            await self.get("/")
        response = await self.client.post(
            path, data={**(data or {}), "_csrf_token": self.token}, headers=HTML, follow_redirects=False
        )
        assert response.status_code in (200, 303), (path, response.status_code, response.text[:2000])
        return response


@pytest.fixture
async def ui(client: AsyncTestClient[Any], tenant: Tenant, acme: Any) -> AsyncIterator[UI]:
    response = await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    assert response.status_code == 303
    yield UI(client)
