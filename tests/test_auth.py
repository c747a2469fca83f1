"""Sign-in, sessions, throttling, API keys, CSRF and workspace switching (`ledgerbridge.identity`)."""

# The app/client/tenant fixtures are imported from tests/api/conftest.py, so test parameters "redefine"
# them; they move to tests/conftest.py when it takes them over.
# ruff: noqa: F811

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta

import pytest
from ledgerbridge.identity import api_keys, errors, memberships, middleware, passwords, sessions
from ledgerbridge.identity import clock as identity_clock
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import (  # noqa: F401  (fixtures)
    OWNER_PASSWORD,
    Tenant,
    api,
    app,
    client,
    csrf_token,
    make_customer,
    make_tenant,
    other_tenant,
    sign_in,
    tenant,
)


def set_cookie_headers(response) -> list[str]:
    return response.headers.get_list("set-cookie")


def session_cookie_header(response) -> str:
    [header] = [h for h in set_cookie_headers(response) if h.startswith(f"{sessions.SESSION_COOKIE}=")]
    return header


# --------------------------------------------------------------------------- sessions


async def test_sign_in_and_out(client: AsyncTestClient, tenant: Tenant) -> None:
    from ledgerbridge.tables import UserSession

    response = await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["via"], me["email"], me["workspace_id"], me["role"]) == (
        "session",
        tenant.owner_email,
        tenant.workspace_id,
        "owner",
    )
    cookie = session_cookie_header(response)
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes
    token = client.cookies.get(sessions.SESSION_COOKIE)
    [stored] = await UserSession.select(UserSession.session_id)
    assert stored["session_id"] == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept

    assert (await client.get("/auth/me")).json()["user_id"] == tenant.owner_id
    logout = await client.post("/auth/logout", headers={"x-csrftoken": await csrf_token(client)})
    assert logout.status_code == 204
    assert await UserSession.count() == 0
    client.cookies.set(sessions.SESSION_COOKIE, token)  # replaying the old cookie does not help
    replay = await client.get("/auth/me")
    assert replay.status_code == 401
    assert replay.json()["code"] == "not_signed_in"


async def test_session_cookie_is_secure_when_configured(database: str, tenant: Tenant) -> None:
    from ledgerbridge.app import create_app
    from ledgerbridge.settings import get_settings

    secure_app = create_app(dataclasses.replace(get_settings(), session_cookie_secure=True), background=False)
    async with AsyncTestClient(app=secure_app, base_url="https://testserver.local") as browser:
        response = await sign_in(browser, tenant.owner_email, OWNER_PASSWORD)
        assert response.status_code == 200, response.text
        attributes = {part.strip().lower() for part in session_cookie_header(response).split(";")[1:]}
        assert {"secure", "httponly", "samesite=lax"} <= attributes


async def test_a_new_session_at_each_sign_in(client: AsyncTestClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    first = client.cookies.get(sessions.SESSION_COOKIE)
    await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    second = client.cookies.get(sessions.SESSION_COOKIE)
    assert first != second
    client.cookies.set(sessions.SESSION_COOKIE, first)
    assert (await client.get("/auth/me")).status_code == 401


async def test_expired_sessions_are_refused(
    client: AsyncTestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    later = identity_clock.now() + sessions.SESSION_LIFETIME + timedelta(seconds=1)
    monkeypatch.setattr(identity_clock, "now", lambda: later)
    assert (await client.get("/auth/me")).status_code == 401


async def test_wrong_password(client: AsyncTestClient, tenant: Tenant) -> None:
    response = await sign_in(client, tenant.owner_email, "not the password")
    assert response.status_code == 401
    assert response.json()["code"] == "bad_credentials"
    assert sessions.SESSION_COOKIE not in client.cookies
    unknown = await sign_in(client, "nobody@example.com", "whatever")
    assert unknown.status_code == 401
    assert unknown.json()["message"] == response.json()["message"]  # no hint that the account exists


async def test_unauthenticated_api_calls_are_401(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/customers")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "not_signed_in"
    assert "API key" in body["fix"]
    post = await client.post("/api/v1/customers", json={"name": "x"})
    assert post.status_code == 401


# --------------------------------------------------------------------------- throttling


async def test_five_bad_passwords_pause_sign_in(
    client: AsyncTestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = identity_clock.now()
    clock = {"now": start}
    monkeypatch.setattr(identity_clock, "now", lambda: clock["now"])
    for attempt in range(5):
        clock["now"] = start + timedelta(seconds=attempt)
        assert (await sign_in(client, tenant.owner_email, "guess")).status_code == 401

    clock["now"] = start + timedelta(minutes=1)
    refused = await sign_in(client, tenant.owner_email, OWNER_PASSWORD)  # even the right password
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "login_throttled"
    assert "Too many failed sign-in attempts" in body["message"]
    assert "14 minutes" in body["message"]
    assert int(refused.headers["retry-after"]) == 14 * 60
    # The pause is per email: another account signs in normally.
    other = await make_tenant("second@example.com", "Second Co")
    assert (await sign_in(client, other.owner_email, OWNER_PASSWORD)).status_code == 200

    clock["now"] = start + timedelta(minutes=15, seconds=1)  # the first failure has left the window
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200


async def test_failures_outside_the_window_do_not_count(
    client: AsyncTestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = identity_clock.now()
    clock = {"now": start}
    monkeypatch.setattr(identity_clock, "now", lambda: clock["now"])
    for minute in (0, 4, 8, 12, 16):  # five failures, never five within 15 minutes
        clock["now"] = start + timedelta(minutes=minute)
        assert (await sign_in(client, tenant.owner_email, "guess")).status_code == 401
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200


async def test_a_success_clears_the_failures(
    client: AsyncTestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(4):
        await sign_in(client, tenant.owner_email, "guess")
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await sign_in(client, tenant.owner_email, "guess")).status_code == 401
    assert (await sign_in(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 200


# --------------------------------------------------------------------------- API keys


async def test_an_api_call_is_answered_while_another_writer_holds_sqlites_lock(
    app: Litestar, tenant: Tenant, database: str
) -> None:
    """A key's first call in a minute records when it was used; that write waits for SQLite's one
    write lock (a burst of sign-ins holds it for seconds), and the answer must not wait with it."""
    import asyncio
    import sqlite3

    from ledgerbridge.tables import ApiKey

    writer = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # someone else writing: the lock is theirs until they commit
    try:
        async with AsyncTestClient(app=app) as script:
            call = asyncio.ensure_future(script.get("/api/v1/customers", headers=tenant.headers))
            # Only a bound for the failure, not a measurement: waiting for the lock would take SQLite's
            # busy timeout (30 s), and the answer comes back while the lock is still held.
            done, _ = await asyncio.wait({call}, timeout=10)
            assert call in done, "the API call waited for the write lock"
            assert call.result().status_code == 200
            assert (await ApiKey.select(ApiKey.last_used_at).where(ApiKey.prefix == tenant.api_key_prefix)
                    .first())["last_used_at"] is None  # the touch is still waiting for the lock
            writer.execute("COMMIT")
            await api_keys.settle_touches()
    finally:
        writer.close()
    row = await ApiKey.select(ApiKey.last_used_at).where(ApiKey.prefix == tenant.api_key_prefix).first()
    assert row["last_used_at"] is not None


async def test_no_password_is_hashed_on_the_event_loop_not_even_the_first_unknown_emails(
    database: str, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown email is checked against a dummy hash, made once: on the event loop that one argon2
    hash stalled every request in flight at a burst's first unknown email."""
    import threading

    from argon2 import PasswordHasher, profiles

    hashed_on: list[int] = []

    class Recording(PasswordHasher):  # argon2's own hasher, noting which thread each hash runs on
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            hashed_on.append(threading.get_ident())
            return super().hash(password, salt=salt)

    monkeypatch.setitem(passwords._HASHERS, "fast", Recording.from_parameters(profiles.CHEAPEST))
    passwords._dummy_hash.cache_clear()
    try:
        with pytest.raises(errors.BadCredentials):
            await passwords.authenticate("nobody@example.com", "a guess", client="203.0.113.9")
    finally:
        passwords._dummy_hash.cache_clear()
    assert hashed_on and threading.get_ident() not in hashed_on


async def test_api_key_in_either_header(app: Litestar, tenant: Tenant) -> None:
    from ledgerbridge.tables import ApiKey

    async with AsyncTestClient(app=app) as script:
        script.headers["Authorization"] = f"Bearer {tenant.api_key}"
        me = (await script.get("/auth/me")).json()
        assert (me["via"], me["workspace_id"], me["api_key_prefix"]) == (
            "api_key",
            tenant.workspace_id,
            tenant.api_key_prefix,
        )
    async with AsyncTestClient(app=app) as script:
        script.headers["X-API-Key"] = tenant.api_key
        assert (await script.get("/api/v1/customers")).status_code == 200
    await api_keys.settle_touches()  # the last-used time is written after the answer
    row = await ApiKey.objects().where(ApiKey.prefix == tenant.api_key_prefix).first()
    assert row.last_used_at is not None
    assert row.key_hash == hashlib.sha256(tenant.api_key.encode()).hexdigest()
    assert tenant.api_key.split("_", 2)[2] not in (row.prefix + row.key_hash)


async def test_unknown_and_malformed_keys_are_refused(app: Litestar, tenant: Tenant) -> None:
    async with AsyncTestClient(app=app) as script:
        for header in (f"Bearer {tenant.api_key}x", "Bearer not-a-key", f"Bearer {tenant.api_key_prefix}_guess"):
            script.headers["Authorization"] = header
            response = await script.get("/api/v1/customers")
            assert response.status_code == 401, header
            assert response.json()["code"] == "not_signed_in"


async def test_revoked_key_is_refused(app: Litestar, tenant: Tenant) -> None:
    from ledgerbridge.tables import ApiKey

    row = await ApiKey.objects().where(ApiKey.prefix == tenant.api_key_prefix).first()
    await api_keys.revoke_api_key(tenant.workspace_id, row.id)
    async with AsyncTestClient(app=app) as script:
        script.headers["X-API-Key"] = tenant.api_key
        response = await script.get("/api/v1/customers")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


async def test_a_key_only_reaches_its_own_workspace(api: AsyncTestClient, app: Litestar, other_tenant: Tenant) -> None:
    ours = await make_customer(api, "Ours")
    async with AsyncTestClient(app=app) as theirs:
        theirs.headers["X-API-Key"] = other_tenant.api_key
        assert (await theirs.get(f"/api/v1/customers/{ours['id']}")).status_code == 404
        assert (await theirs.get("/api/v1/customers")).json()["total"] == 0


async def test_a_bad_key_never_falls_back_to_the_session(client: AsyncTestClient, tenant: Tenant) -> None:
    await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    assert (await client.get("/api/v1/customers")).status_code == 200
    response = await client.get("/api/v1/customers", headers={"X-API-Key": "lb_deadbeef_nope"})
    assert response.status_code == 401


async def test_key_generation_format() -> None:
    prefix_part = "lb_"
    assert api_keys.API_KEY_START == prefix_part
    assert api_keys.api_key_from_headers({"authorization": "Bearer lb_x_y"}) == "lb_x_y"
    assert api_keys.api_key_from_headers({"x-api-key": " lb_x_y "}) == "lb_x_y"
    assert api_keys.api_key_from_headers({"authorization": "Basic abc"}) is None


# --------------------------------------------------------------------------- CSRF


async def test_cookie_post_without_csrf_token_is_refused(client: AsyncTestClient, tenant: Tenant) -> None:
    from ledgerbridge.tables import Customer

    await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    refused = await client.post("/api/v1/customers", json={"name": "Forged"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    wrong = await client.post("/api/v1/customers", json={"name": "Forged"}, headers={"x-csrftoken": "0" * 128})
    assert wrong.status_code == 403
    assert await Customer.count() == 0
    allowed = await client.post(
        "/api/v1/customers", json={"name": "Real"}, headers={"x-csrftoken": await csrf_token(client)}
    )
    assert allowed.status_code == 201


async def test_sign_in_itself_needs_a_csrf_token(client: AsyncTestClient, tenant: Tenant) -> None:
    response = await client.post("/auth/login", json={"email": tenant.owner_email, "password": OWNER_PASSWORD})
    assert response.status_code == 403
    assert sessions.SESSION_COOKIE not in client.cookies


async def test_an_api_key_request_needs_no_token_even_beside_a_session_cookie(
    client: AsyncTestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    """A cross-site page cannot add an API key header, so the key, not the cookie, is what counts."""
    await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    response = await client.post(
        "/api/v1/customers", json={"name": "Scripted"}, headers={"X-API-Key": other_tenant.api_key}
    )
    assert response.status_code == 201, response.text
    assert (await client.get("/api/v1/customers")).json()["total"] == 0  # it went to the key's workspace


async def test_api_key_requests_need_no_csrf_token(api: AsyncTestClient) -> None:
    response = await api.post("/api/v1/customers", json={"name": "Scripted"})
    assert response.status_code == 201
    assert not any(h.startswith(f"{middleware.CSRF_COOKIE}=") for h in set_cookie_headers(response))


# --------------------------------------------------------------------------- workspaces


async def test_switching_workspaces(client: AsyncTestClient, tenant: Tenant) -> None:
    _, second = await memberships.create_admin(tenant.owner_email, "ignored", "Second Client")
    outsider = await make_tenant("outsider@example.com", "Not Yours")
    await sign_in(client, tenant.owner_email, OWNER_PASSWORD)
    csrf = {"x-csrftoken": await csrf_token(client)}
    me = (await client.get("/auth/me")).json()
    assert sorted(w["name"] for w in me["workspaces"]) == ["Acme Studio", "Second Client"]

    created = await client.post("/api/v1/customers", json={"name": "In first"}, headers=csrf)
    assert created.status_code == 201
    switched = await client.post("/auth/workspace", json={"workspace_id": second.id}, headers=csrf)
    assert switched.status_code == 200 and switched.json()["workspace_id"] == second.id
    assert (await client.get("/api/v1/customers")).json()["total"] == 0
    assert (await client.get(f"/api/v1/customers/{created.json()['id']}")).status_code == 404

    refused = await client.post("/auth/workspace", json={"workspace_id": outsider.workspace_id}, headers=csrf)
    assert refused.status_code == 403
    assert (await client.get("/auth/me")).json()["workspace_id"] == second.id


async def test_api_keys_cannot_switch_workspaces(api: AsyncTestClient, other_tenant: Tenant) -> None:
    response = await api.post("/auth/workspace", json={"workspace_id": other_tenant.workspace_id})
    assert response.status_code == 403


# --------------------------------------------------------------------------- createadmin


async def test_create_admin_is_idempotent(database: str) -> None:
    from ledgerbridge.tables import Membership, User, Workspace

    user, workspace = await memberships.create_admin("Boss@Example.com", "first password", "Boss Co")
    assert user.email == "boss@example.com"
    assert user.password_hash.startswith("$argon2")
    again_user, again_workspace = await memberships.create_admin("boss@example.com", "other password", "Boss Co")
    assert (again_user.id, again_workspace.id) == (user.id, workspace.id)
    assert await User.count() == 1 and await Workspace.count() == 1 and await Membership.count() == 1
    kept = await passwords.authenticate("boss@example.com", "first password", client="127.0.0.1")
    assert kept.id == user.id  # password kept

    await memberships.create_admin("boss@example.com", "reset password", "Boss Co", reset_password=True)
    assert (await passwords.authenticate("boss@example.com", "reset password", client="127.0.0.1")).id == user.id
    with pytest.raises(errors.BadCredentials):
        await passwords.authenticate("boss@example.com", "first password", client="127.0.0.1")


async def test_create_admin_checks_its_input(database: str) -> None:
    from ledgerbridge.api.errors import Invalid

    with pytest.raises(Invalid) as short:
        await memberships.create_admin("a@example.com", "short", "Co")
    assert short.value.field == "password"
    with pytest.raises(Invalid) as email:
        await memberships.create_admin("not-an-email", "long enough password", "Co")
    assert email.value.field == "email"


async def test_create_admin_makes_an_existing_member_owner(database: str) -> None:
    from ledgerbridge.tables import Membership, Role

    user, _ = await memberships.create_admin("x@example.com", "long enough password", "Co")
    await Membership.update({Membership.role: Role.member}).where(Membership.user == user.id)
    await memberships.create_admin("x@example.com", "", "Co")
    assert (await Membership.objects().first()).role == Role.owner
