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


def test_the_sqlite_file_is_owner_only(tmp_path) -> None:
    from ledgerbridge.db import make_engine

    make_engine(f"sqlite:///{tmp_path / 'books.sqlite3'}")
    assert (tmp_path / "books.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_generated_key_is_not_beside_the_database(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerbridge.settings import encryption_key_file

    monkeypatch.delenv("LEDGERBRIDGE_KEY_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert encryption_key_file(tmp_path / "data") == tmp_path / "config" / "ledgerbridge" / "encryption_key"
    monkeypatch.setenv("LEDGERBRIDGE_KEY_DIR", str(tmp_path / "keys"))
    assert encryption_key_file(tmp_path / "data") == tmp_path / "keys" / "encryption_key"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "encryption_key").write_text("an earlier version's key")
    assert encryption_key_file(tmp_path / "data") == tmp_path / "data" / "encryption_key"  # kept, not lost


def test_logs_never_keep_oauth_codes_or_password_hashes() -> None:
    from ledgerbridge import logs
    from ledgerbridge.identity.passwords import hash_password

    digest = hash_password("a password")
    text = logs.redact(f"GET /oauth/callback?code=AB12-secret&state=signed.state&realmId=9 row ('{digest}', 1)")
    assert "AB12-secret" not in text and "signed.state" not in text and digest not in text
    assert "realmId=9" in text and "[redacted hash]" in text
