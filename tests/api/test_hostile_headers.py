"""Non-ASCII text in headers and query values, and signed webhooks of the wrong shape, are 400s, not 500s.

Two of these need no sign-in (the webhook signature header, the CSRF header), so an anonymous
caller could otherwise fill the error log at will.
"""

# ruff: noqa: F811

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ledgerbridge.webhook_signatures import HmacSignature
from litestar.testing import AsyncTestClient

from tests.api.conftest import (  # noqa: F401  (fixtures)
    OWNER_PASSWORD,
    Tenant,
    app,
    client,
    csrf_token,
    sign_in,
    tenant,
)

SECRET = "verifier-token-for-tests"
QUICKBOOKS = HmacSignature("intuit-signature", digest="sha256", encoding="base64")


@pytest.fixture
def quickbooks_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LEDGERBRIDGE_QUICKBOOKS_WEBHOOK_SECRET", SECRET)
    from ledgerbridge.settings import get_settings

    get_settings.cache_clear()
    yield SECRET
    get_settings.cache_clear()


async def test_non_ascii_webhook_signature(client: AsyncTestClient, quickbooks_secret: str) -> None:
    response = await client.post("/webhooks/quickbooks", content=b"{}",
                                 headers={"intuit-signature": "sïgnätüre".encode()})
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("body", [b"[1, 2]", b'{"eventNotifications": 5}', b'{"eventNotifications": [{"x": 1}]}',
                                  b"not json", b"\xff\xfe"])
async def test_a_signed_webhook_of_the_wrong_shape(
    client: AsyncTestClient, quickbooks_secret: str, body: bytes
) -> None:
    response = await client.post("/webhooks/quickbooks", content=body,
                                 headers={"intuit-signature": QUICKBOOKS.sign(quickbooks_secret, body)})
    assert response.status_code == 400, response.text
    assert "body" in response.json()["message"]


async def test_non_ascii_csrf_header(client: AsyncTestClient, tenant: Tenant) -> None:
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
    await csrf_token(client)
    response = await client.post("/auth/logout", headers={"x-csrftoken": "tökén".encode()})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "csrf_failed"


async def test_non_ascii_oauth_state(client: AsyncTestClient, tenant: Tenant) -> None:
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
    response = await client.get("/oauth/callback", params={"state": "ßtäte", "code": "x"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert "connect_error" in response.headers["location"]
