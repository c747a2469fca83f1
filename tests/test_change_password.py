"""People change their own password: proof of the current one, the length rule, other sessions end."""

# ruff: noqa: F811

from __future__ import annotations

from litestar import Litestar
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

NEW = "a much better passphrase"


async def test_change_own_password_ends_other_sessions(app: Litestar, client: AsyncTestClient, tenant: Tenant) -> None:
    async with AsyncTestClient(app=app) as elsewhere:
        assert (await sign_in(elsewhere, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
        assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
        token = await csrf_token(client)
        answer = await client.post(
            "/auth/password",
            json={"current_password": OWNER_PASSWORD, "new_password": NEW},
            headers={"x-csrftoken": token},
        )
        assert answer.status_code == 204, answer.text
        assert (await client.get("/auth/me")).status_code == 200  # still signed in here
        assert (await elsewhere.get("/auth/me")).status_code == 401  # signed out everywhere else
    assert (await sign_in(client, tenant.owner_email, NEW)).status_code == 200


async def test_the_current_password_must_be_right_and_the_new_one_long(client: AsyncTestClient, tenant: Tenant) -> None:
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
    token = await csrf_token(client)
    wrong = await client.post(
        "/auth/password", json={"current_password": "nope", "new_password": NEW}, headers={"x-csrftoken": token}
    )
    assert wrong.status_code == 400 and wrong.json()["fields"][0]["field"] == "current_password"
    short = await client.post(
        "/auth/password",
        json={"current_password": OWNER_PASSWORD, "new_password": "short"},
        headers={"x-csrftoken": token},
    )
    assert short.status_code == 400 and short.json()["fields"][0]["field"] == "new_password"


async def test_an_api_key_cannot_change_a_password(client: AsyncTestClient, tenant: Tenant) -> None:
    answer = await client.post(
        "/auth/password", json={"current_password": OWNER_PASSWORD, "new_password": NEW}, headers=tenant.headers
    )
    assert answer.status_code == 403
