"""Issue 14's lower findings: reset ends sessions, CSRF exclusions are exact, `next=` stays on the site."""

# ruff: noqa: F811

from __future__ import annotations

import pytest
from ledgerbridge.connect import local_path
from ledgerbridge.identity import memberships
from litestar.testing import AsyncTestClient

from tests.api.conftest import OWNER_PASSWORD, Tenant, app, client, sign_in, tenant  # noqa: F401  (fixtures)


async def test_a_password_reset_ends_every_session(client: AsyncTestClient, tenant: Tenant) -> None:
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
    assert (await client.get("/auth/me")).status_code == 200
    await memberships.create_admin(tenant.owner_email, "a brand new password", "Whatever", reset_password=True)
    assert (await client.get("/auth/me")).status_code == 401


async def test_csrf_exclusions_match_whole_paths_only(client: AsyncTestClient, tenant: Tenant) -> None:
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
    response = await client.put("/api/v1/customers/by-ref/%2Fschema", json={"name": "Sneaky"})
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/\\/evil.example",
     "https://evil.example", "/\x00/evil.example", " //evil.example", "/%09/evil.example".replace("%09", "\t")],
)
def test_next_never_leaves_the_site(target: str) -> None:
    assert local_path(target, "/home") == "/home"


def test_next_keeps_local_paths() -> None:
    assert local_path("/invoices?status=draft", "/home") == "/invoices?status=draft"


async def test_serve_prints_only_a_password_it_generated(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerbridge import cli

    monkeypatch.setenv("LEDGERBRIDGE_ADMIN_PASSWORD", "set by the operator")
    assert await cli._first_admin() == ("admin@example.com", "")


async def test_serve_prints_a_generated_password(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerbridge import cli

    monkeypatch.delenv("LEDGERBRIDGE_ADMIN_PASSWORD", raising=False)
    email, password = await cli._first_admin()  # type: ignore[misc]
    assert email == "admin@example.com" and len(password) >= 12


def test_demo_mode_keeps_a_configured_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerbridge.demo import serve_sandbox

    monkeypatch.setenv("LEDGERBRIDGE_QUICKBOOKS_WEBHOOK_SECRET", "the operator's own secret")
    running = serve_sandbox("quickbooks", bind_host="127.0.0.1", public_host="127.0.0.1", port=0,
                            base_url="http://127.0.0.1:1")
    try:
        assert "LEDGERBRIDGE_QUICKBOOKS_WEBHOOK_SECRET" not in running.env
    finally:
        running.server.stop()
