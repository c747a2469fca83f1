"""Passwords set by someone else: an owner's reset on the members page, the CLI's reset and `serve`'s
generated first owner. Each must be changed at first sign-in; until then the person's session reaches
nothing but the password change, while API keys work as before."""

from __future__ import annotations

import re
from typing import Any

from ledgerbridge import cli
from ledgerbridge.identity.memberships import COMMAND_LINE_RESET, create_admin
from ledgerbridge.tables import AuditEntry, Membership, Role, User
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant, make_tenant
from tests.web.conftest import HTML, UI, hidden_token, submit_login


async def _member(tenant: Tenant, email: str = "ada@example.com", role: Role = Role.member) -> int:
    user, _ = await create_admin(email, OWNER_PASSWORD, "Acme Studio")
    await Membership.update({Membership.role: role}).where(
        (Membership.user == user.id) & (Membership.workspace == tenant.workspace_id)
    )
    return user.id


async def _browser(app: Any, email: str, password: str) -> AsyncTestClient[Any]:
    browser: AsyncTestClient[Any] = AsyncTestClient(app=app)
    await browser.__aenter__()
    response = await submit_login(browser, email, password)
    assert response.status_code == 303, response.text[:2000]
    return browser


def _shown_password(page: str) -> str:
    match = re.search(r'id="secret-value" type="text" readonly value="([^"]+)"', page)
    assert match, "the one-time password is shown on the page the reset lands on"
    return match.group(1)


async def test_an_owner_resets_a_member_who_must_choose_their_own_at_sign_in(
    ui: UI, tenant: Tenant, app: Any
) -> None:
    member_id = await _member(tenant)
    old_browser = await _browser(app, "ada@example.com", OWNER_PASSWORD)
    try:
        settings = await ui.get("/workspace/settings")
        assert f'href="/workspace/members/{member_id}/password"' in settings
        assert f'href="/workspace/members/{tenant.owner_id}/password"' not in settings  # not their own
        confirm = await ui.get(f"/workspace/members/{member_id}/password")
        assert "signed out everywhere" in confirm and f'action="/workspace/members/{member_id}/password"' in confirm
        response = await ui.post(f"/workspace/members/{member_id}/password")
        assert "password" not in response.headers["location"]  # nothing secret rides in the URL
        shown = await ui.follow(response)
        password = _shown_password(shown)
        assert len(password) >= 12 and "sessions ended" in shown
        again = await ui.get(response.headers["location"])  # a reload shows nothing and makes nothing
        assert password not in again and 'id="secret-value"' not in again
        assert (await User.select(User.must_change_password).where(User.id == member_id).first())[
            "must_change_password"
        ] is True
        entry = await AuditEntry.objects().where(AuditEntry.action == "member.password_reset").first()
        assert entry is not None and entry.target_id == str(member_id) and password not in entry.after

        # Their session ended: the old browser is sent to sign in.
        ended = await old_browser.get("/", headers=HTML, follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    finally:
        await old_browser.__aexit__(None, None, None)

    # The old password no longer works; the new one signs in, and every page leads to the change form.
    refused = await submit_login(AsyncTestClient(app=app), "ada@example.com", OWNER_PASSWORD)
    assert refused.status_code == 401
    browser = await _browser(app, "ada@example.com", password)
    try:
        for path in ("/", "/invoices", "/workspace/settings"):
            sent = await browser.get(path, headers=HTML, follow_redirects=False)
            assert sent.status_code == 303 and sent.headers["location"] == "/account/password", path
        form = (await browser.get("/account/password", headers=HTML)).text
        assert 'id="must-change"' in form and 'class="mainnav"' not in form
        token = hidden_token(form)
        # A form post elsewhere is refused too, and so is the API with this session.
        posted = await browser.post("/customers/new", data={"name": "X", "_csrf_token": token}, headers=HTML,
                                    follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"] == "/account/password"
        api = await browser.get("/api/v1/customers")
        assert api.status_code == 403 and api.json()["code"] == "password_change_required"
        me = await browser.get("/auth/me")
        assert me.status_code == 200 and me.json()["must_change_password"] is True
        # The tenant's API key is not affected.
        assert (await browser.get("/api/v1/customers", headers=tenant.headers)).status_code == 200

        changed = await browser.post("/account/password", data={
            "current_password": password, "new_password": "ada's very own", "confirm_password": "ada's very own",
            "_csrf_token": token,
        }, headers=HTML, follow_redirects=False)
        assert changed.status_code == 303 and changed.headers["location"] == "/"
        home = await browser.get("/", headers=HTML)
        assert home.status_code == 200 and "Your password is changed" in home.text
        assert (await browser.get("/api/v1/customers")).status_code == 200
    finally:
        await browser.__aexit__(None, None, None)
    assert (await User.select(User.must_change_password).where(User.id == member_id).first())[
        "must_change_password"
    ] is False


async def test_only_owners_reset_and_never_someone_who_belongs_to_a_workspace_they_do_not_own(
    ui: UI, tenant: Tenant, app: Any
) -> None:
    other = await make_tenant("elsewhere@example.com", "Another Co")
    # The other workspace's owner also joined ours as a member: resetting them would open Another Co.
    await Membership(user=other.owner_id, workspace=tenant.workspace_id, role=Role.member).save()
    response = await ui.client.get(f"/workspace/members/{other.owner_id}/password", headers=HTML,
                                   follow_redirects=False)
    assert response.status_code == 403 and "workspace you do not own" in response.text
    await ui.get("/workspace/settings")
    refused = await ui.client.post(f"/workspace/members/{other.owner_id}/password",
                                   data={"_csrf_token": ui.token}, headers=HTML, follow_redirects=False)
    assert refused.status_code == 403
    assert (await User.select(User.must_change_password).where(User.id == other.owner_id).first())[
        "must_change_password"
    ] is False

    accountant_id = await _member(tenant, "acc@example.com", Role.accountant)
    member_id = await _member(tenant, "mo@example.com")
    browser = await _browser(app, "acc@example.com", OWNER_PASSWORD)
    try:
        page = (await browser.get("/workspace/settings", headers=HTML)).text
        assert "/password\"" not in page.replace('href="/account/password"', "")
        token = hidden_token(page)
        refused = await browser.post(f"/workspace/members/{member_id}/password", data={"_csrf_token": token},
                                     headers=HTML)
        assert refused.status_code == 403
    finally:
        await browser.__aexit__(None, None, None)
    assert accountant_id


async def test_the_cli_reset_and_a_generated_first_owner_must_change_but_a_configured_one_need_not(
    database: str, monkeypatch: Any
) -> None:
    monkeypatch.delenv("LEDGERBRIDGE_ADMIN_PASSWORD", raising=False)
    email, password = await cli._first_admin()  # type: ignore[misc]
    assert password
    assert (await User.select(User.must_change_password).where(User.email == email).first())[
        "must_change_password"
    ] is True

    user, _ = await create_admin("boss@example.com", "typed by the boss", "Boss Co")
    assert user.must_change_password is False  # a new owner made with the CLI typed their own
    other = await make_tenant("other@example.com", "Other Co")
    await Membership(user=user.id, workspace=other.workspace_id, role=Role.member).save()
    await create_admin("boss@example.com", "typed by someone", "Boss Co", reset_password=True,
                       must_change_password=True)  # what `createadmin --reset-password` does
    assert (await User.select(User.must_change_password).where(User.id == user.id).first())[
        "must_change_password"
    ] is True
    # One entry in each workspace of theirs, so every owner of theirs sees it; none names a password.
    entries = await AuditEntry.select().where(AuditEntry.action == "member.password_reset").order_by(
        AuditEntry.workspace)
    boss_co = (await Membership.select(Membership.workspace).where(
        (Membership.user == user.id) & (Membership.workspace != other.workspace_id)).first())["workspace"]
    assert sorted(entry["workspace"] for entry in entries) == sorted([boss_co, other.workspace_id])
    assert {(entry["actor"], entry["actor_user"], entry["target_id"]) for entry in entries} == {
        (COMMAND_LINE_RESET, None, str(user.id))}
    assert all("typed by someone" not in str(entry["after"]) for entry in entries)


def test_the_cli_reset_marks_the_password_to_change(tmp_path: Any) -> None:
    """`ledgerbridge createadmin --reset-password`, the real command: a new owner typed their own
    password, a reset is someone else's choice and must be changed at the next sign-in."""
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    database = tmp_path / "cli.sqlite3"
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path), "LEDGERBRIDGE_DATA_DIR": str(tmp_path),
           "LEDGERBRIDGE_KEY_DIR": str(tmp_path / "keys"), "LEDGERBRIDGE_DATABASE_URL": f"sqlite:///{database}"}
    command = [str(Path(sys.executable).parent / "ledgerbridge"), "createadmin", "--email", "boss@example.com",
               "--workspace", "Boss Co"]

    def flag() -> int:
        with sqlite3.connect(database) as connection:
            return connection.execute(
                "SELECT must_change_password FROM lb_user WHERE email = 'boss@example.com'").fetchone()[0]

    def entries() -> list[tuple[str, int | None, str, str]]:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT actor, actor_user, target_type, after || before FROM audit_entry "
                                      "WHERE action = 'member.password_reset'").fetchall()

    made = subprocess.run([*command, "--password", "typed by the boss"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stderr[-2000:]
    assert flag() == 0
    assert entries() == []  # making an owner is not a reset
    reset = subprocess.run([*command, "--password", "read out on the phone", "--reset-password"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert reset.returncode == 0, reset.stderr[-2000:]
    assert flag() == 1
    # Audited by the command line, in the person's workspace; the password is in no entry and no output.
    [(actor, actor_user, target_type, after)] = entries()
    assert actor == "command line (ledgerbridge createadmin --reset-password)" and actor_user is None
    assert target_type == "user" and '"must_change_at_sign_in": true' in after
    assert "read out on the phone" not in after + reset.stdout + reset.stderr
