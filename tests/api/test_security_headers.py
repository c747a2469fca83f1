"""Security headers on every kind of answer: pages, API answers, refusals, errors, static files."""

# ruff: noqa: F811

from __future__ import annotations

import dataclasses

from ledgerbridge.security_headers import CONTENT_SECURITY_POLICY
from litestar.testing import AsyncTestClient

from tests.api.conftest import app, client  # noqa: F401  (fixtures)


async def test_every_answer_carries_the_headers(client: AsyncTestClient) -> None:
    for path, status in (("/login", 200), ("/api/v1/customers", 401), ("/nowhere", 404), ("/schema", 200),
                         ("/schema/openapi.json", 200), ("/auth/csrf", 200)):
        response = await client.get(path, headers={"accept": "text/html"})
        assert response.status_code == status, path
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "'unsafe-inline'" not in (
            CONTENT_SECURITY_POLICY.split("script-src")[1].split(";")[0]
        )
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["cache-control"] == "no-store", path
        assert "strict-transport-security" not in headers, path  # plain http: HSTS would be ignored anyway
    asset = await client.get("/static/app.css")
    assert asset.headers["x-content-type-options"] == "nosniff" and "no-store" not in asset.headers.get(
        "cache-control", ""
    )


async def test_hsts_behind_https(database: str) -> None:
    from ledgerbridge.app import create_app
    from ledgerbridge.settings import get_settings

    secure = create_app(dataclasses.replace(get_settings(), session_cookie_secure=True), background=False)
    async with AsyncTestClient(app=secure, base_url="https://ledger.example") as browser:
        response = await browser.get("/login")
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_the_api_reference_loads_no_script_from_elsewhere(client: AsyncTestClient) -> None:
    page = (await client.get("/schema")).text
    assert "http://" not in page and "https://" not in page and "<script>" not in page
    assert (await client.get("/schema/assets/swagger-ui-bundle.js")).status_code == 200
    assert (await client.get("/schema/assets/ledgerbridge-docs.js")).status_code == 200
