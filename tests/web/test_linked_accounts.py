"""Ways to sign in (`/account/sign-in`, `ledgerbridge.identity.linked_accounts`): a person sees the accounts
elsewhere that sign them in, unlinks one after a confirm page but never their last way in, and someone who
joined through Intuit (no password) sets a first one without a current password, once.

People sign in with Intuit for real: over HTTP to the QuickBooks sandbox's OpenID provider, as in
`tests/test_oidc_signin.py`."""

# ruff: noqa: F811

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from ledgerbridge.api.errors import Conflict
from ledgerbridge.domain.invitations import services as invitations
from ledgerbridge.domain.invitations.schemas import InvitationIn
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity import linked_accounts
from ledgerbridge.identity.callers import Caller, session_caller
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.identity.passwords import NO_PASSWORD
from ledgerbridge.identity.sessions import open_session
from ledgerbridge.tables import AuditEntry, OidcIdentity, Role, User, UserSession
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant
from tests.test_oidc_signin import Intuit, intuit, sign_in  # noqa: F401  (fixture)
from tests.web.conftest import HTML, UI, submit_login

NEW_PASSWORD = "ada's first own password"


async def _joined_with_intuit(app: Any, tenant: Tenant) -> tuple[AsyncTestClient[Any], UI]:
    """Ada joins through an invitation link with "Join with Intuit": an account without a password."""
    owner = await session_caller(await open_session(tenant.owner_id))
    assert owner is not None
    made = await invitations.create_invitation(owner, data=InvitationIn(role=Role.member, note="Ada"))
    browser: AsyncTestClient[Any] = AsyncTestClient(app=app)
    await browser.__aenter__()
    answer = await sign_in(browser, email="ada@example.com", invitation=made.token)
    assert answer.status_code == 303, answer.text[:3000]
    return browser, UI(browser)


async def _entries(action: str) -> list[dict[str, Any]]:
    return await AuditEntry.select().where(AuditEntry.action == action)


async def test_someone_who_joined_with_intuit_sets_a_first_password_and_only_then_may_unlink(
    app: Any, tenant: Tenant, intuit: Intuit
) -> None:
    browser, ui = await _joined_with_intuit(app, tenant)
    try:
        ada = await User.objects().where(User.email == "ada@example.com").first()
        assert ada is not None and ada.password_hash == NO_PASSWORD
        [link] = await OidcIdentity.objects().where(OidcIdentity.user == ada.id)
        assert link.issuer_name == "Intuit"

        page = await ui.get("/account/sign-in")
        assert 'id="no-password"' in page and 'action="/account/sign-in/password"' in page
        assert f'id="linked-{link.id}"' in page and "<td>Intuit</td>" in page and "ada@example.com" in page
        assert f"/account/sign-in/{link.id}/unlink" not in page  # nothing offered that would be refused
        assert 'id="last-way"' in page and "set a password first" in page
        # The password page has nothing to prove a current password with: it points here.
        assert 'href="/account/sign-in"' in await ui.get("/account/password")

        # Unlinking the only way in is refused, at the confirm step and at the action, with the fix.
        async def refused_with_the_fix(response: Any) -> None:
            assert response.status_code == 303 and response.headers["location"] == "/account/sign-in"
            shown = await ui.follow(response)
            assert "your only way to sign in" in shown and "Set a password on this page first" in shown

        await refused_with_the_fix(await browser.get(f"/account/sign-in/{link.id}/unlink", headers=HTML,
                                                     follow_redirects=False))
        await refused_with_the_fix(await ui.post(f"/account/sign-in/{link.id}/unlink"))
        assert await OidcIdentity.exists().where(OidcIdentity.id == link.id)
        assert await _entries("account.sign_in_unlinked") == []

        # A first password: no current one asked, the two must match, the length rule holds.
        differ = await ui.follow(await ui.post("/account/sign-in/password", {
            "new_password": NEW_PASSWORD, "confirm_password": "something else"}))
        assert "The two passwords differ" in differ
        short = await ui.follow(await ui.post("/account/sign-in/password", {
            "new_password": "short", "confirm_password": "short"}))
        assert "at least 8 characters" in short
        done = await ui.follow(await ui.post("/account/sign-in/password", {
            "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}))
        assert "Your password is set" in done and 'id="no-password"' not in done
        [entry] = await _entries("account.password_set")
        assert entry["actor"] == "ada@example.com" and entry["target_id"] == str(ada.id)
        assert NEW_PASSWORD not in json.dumps([entry["before"], entry["after"]])
        # Only while there is none: a second "first" password is refused and changes nothing.
        again = await ui.follow(await ui.post("/account/sign-in/password", {
            "new_password": "someone else's choice", "confirm_password": "someone else's choice"}))
        assert "You already have a password" in again and "typing your current password" in again
        assert len(await _entries("account.password_set")) == 1

        # The password signs in now, and Intuit may be unlinked after the confirm page.
        assert (await submit_login(AsyncTestClient(app=app), "ada@example.com", NEW_PASSWORD)).status_code == 303
        confirm = await ui.get(f"/account/sign-in/{link.id}/unlink")
        assert "Unlink your Intuit account?" in confirm and f'action="/account/sign-in/{link.id}/unlink"' in confirm
        gone = await ui.follow(await ui.post(f"/account/sign-in/{link.id}/unlink"))
        assert "Your Intuit account is unlinked" in gone and f'id="linked-{link.id}"' not in gone
        assert not await OidcIdentity.exists().where(OidcIdentity.id == link.id)
        [unlinked] = await _entries("account.sign_in_unlinked")
        assert unlinked["actor"] == "ada@example.com" and "Intuit" in str(unlinked["before"])
    finally:
        await browser.__aexit__(None, None, None)


async def test_a_person_with_a_password_unlinks_and_nobody_reaches_another_persons_link(
    app: Any, tenant: Tenant, intuit: Intuit
) -> None:
    async with AsyncTestClient(app=app) as browser:  # the owner links Intuit by signing in with it
        assert (await sign_in(browser, email=tenant.owner_email)).status_code == 303
    [owners] = await OidcIdentity.objects().where(OidcIdentity.user == tenant.owner_id)
    ada_browser, ada = await _joined_with_intuit(app, tenant)
    try:
        # Ada sees only her own link; the owner's is not found to her, on the confirm page and the action.
        assert f'id="linked-{owners.id}"' not in await ada.get("/account/sign-in")
        assert (await ada_browser.get(f"/account/sign-in/{owners.id}/unlink", headers=HTML)).status_code == 404
        refused = await ada_browser.post(f"/account/sign-in/{owners.id}/unlink", data={"_csrf_token": ada.token},
                                         headers=HTML, follow_redirects=False)
        assert refused.status_code == 404
        assert await OidcIdentity.exists().where(OidcIdentity.id == owners.id)
    finally:
        await ada_browser.__aexit__(None, None, None)

    async with AsyncTestClient(app=app) as client:
        assert (await submit_login(client, tenant.owner_email, OWNER_PASSWORD)).status_code == 303
        owner = UI(client)
        page = await owner.get("/account/sign-in")
        assert f'href="/account/sign-in/{owners.id}/unlink"' in page and 'id="no-password"' not in page
        assert 'action="/account/sign-in/password"' not in page  # they have a password: changed elsewhere
        gone = await owner.follow(await owner.post(f"/account/sign-in/{owners.id}/unlink"))
        assert "Your Intuit account is unlinked" in gone
    assert not await OidcIdentity.exists().where(OidcIdentity.id == owners.id)


async def test_the_rules_hold_in_the_service_for_api_keys_and_a_second_tab(
    app: Any, tenant: Tenant, intuit: Intuit
) -> None:
    browser, _ = await _joined_with_intuit(app, tenant)
    await browser.__aexit__(None, None, None)
    ada = await User.objects().where(User.email == "ada@example.com").first()
    assert ada is not None
    [link] = await OidcIdentity.objects().where(OidcIdentity.user == ada.id)
    key = Caller(via="api_key", workspace_id=tenant.workspace_id, workspace_name="", role=None, api_key_id=1,
                 api_key_prefix=tenant.api_key_prefix, scopes=frozenset({"read", "records:write"}))
    for action in (linked_accounts.sign_in_methods(key), linked_accounts.unlink(key, link.id),
                   linked_accounts.set_first_password(key, NEW_PASSWORD)):
        with pytest.raises(Forbidden, match="not an API key"):
            await action
    me = await session_caller(await open_session(ada.id))
    assert me is not None
    with pytest.raises(Conflict, match="only way to sign in"):
        await linked_accounts.unlink(me, link.id)
    await linked_accounts.set_first_password(me, NEW_PASSWORD)
    with pytest.raises(Conflict, match="already have a password"):
        await linked_accounts.set_first_password(me, "a second tab's choice")
    methods = await linked_accounts.sign_in_methods(me)
    assert methods.has_password and methods.ways == 2 and methods.can_unlink
    await linked_accounts.unlink(me, link.id)
    assert (await linked_accounts.sign_in_methods(me)).accounts == ()


async def test_the_json_routes_call_the_same_rules(app: Any, tenant: Tenant, intuit: Intuit) -> None:
    browser, _ = await _joined_with_intuit(app, tenant)
    try:
        token = (await browser.get("/auth/csrf")).json()
        csrf = {token["header"]: token["csrf_token"]}
        methods = (await browser.get("/auth/sign-in-methods")).json()
        assert (methods["has_password"], methods["can_unlink"]) == (False, False)
        [link] = methods["linked_accounts"]
        assert (link["issuer_name"], link["email"]) == ("Intuit", "ada@example.com") and link["last_used_at"]

        refused = await browser.delete(f"/auth/linked-accounts/{link['id']}", headers=csrf)
        assert refused.status_code == 409 and "Set a password" in refused.json()["fix"]
        assert (await browser.post("/auth/password/first", json={"new_password": NEW_PASSWORD},
                                   headers=csrf)).status_code == 204
        again = await browser.post("/auth/password/first", json={"new_password": "another choice"}, headers=csrf)
        assert again.status_code == 409
        unlinked = await browser.delete(f"/auth/linked-accounts/{link['id']}", headers=csrf)
        assert unlinked.status_code == 200 and unlinked.json()["id"] == link["id"]
        assert (await browser.get("/auth/sign-in-methods")).json() == {
            "has_password": True, "can_unlink": False, "linked_accounts": []}
        assert (await browser.delete(f"/auth/linked-accounts/{link['id']}", headers=csrf)).status_code == 404
    finally:
        await browser.__aexit__(None, None, None)
    async with AsyncTestClient(app=app) as script:  # an API key is refused every one of them
        script.headers.update(tenant.headers)
        assert (await script.get("/auth/sign-in-methods")).status_code == 403
        assert (await script.post("/auth/password/first", json={"new_password": NEW_PASSWORD})).status_code == 403


async def test_the_last_way_in_holds_on_both_databases(any_database: str) -> None:
    """Linked by a real first sign-in (`account_for`), on SQLite and PostgreSQL: two links, no password;
    the first unlinks, the last does not until a password is set. Links made before names were kept
    show the issuer's host."""
    from ledgerbridge.identity.memberships import create_admin
    from ledgerbridge.identity.oidc_accounts import IssuerAccount, account_for
    from ledgerbridge.settings import SignInIssuer

    user, _ = await create_admin("kim@example.com", "correct horse battery", "Kim's")
    await User.update({User.password_hash: NO_PASSWORD}).where(User.id == user.id)
    for key, name, url in (("custom", "Northwind SSO", "https://sso.example"), ("intuit", "Intuit", "https://i.example")):
        issuer = SignInIssuer(key=key, name=name, discovery_url="", client_id="lb", client_secret="", issuer=url,
                              scopes=("openid",))
        await account_for(issuer, IssuerAccount(url, "s-1", "kim@example.com", True))
    await OidcIdentity.update({OidcIdentity.issuer_name: ""}).where(OidcIdentity.issuer == "https://sso.example")
    me = await session_caller(await open_session(user.id))
    assert me is not None
    methods = await linked_accounts.sign_in_methods(me)
    assert [a.issuer_name for a in methods.accounts] == ["sso.example", "Intuit"] and methods.can_unlink
    first, last = methods.accounts
    await linked_accounts.unlink(me, first.id)
    with pytest.raises(Conflict, match="Your Intuit account is your only way to sign in"):
        await linked_accounts.unlink(me, last.id)
    await linked_accounts.set_first_password(me, NEW_PASSWORD)
    await linked_accounts.unlink(me, last.id)
    assert await OidcIdentity.count().where(OidcIdentity.user == user.id) == 0
    assert await AuditEntry.count().where(AuditEntry.action == "account.sign_in_unlinked") == 2


async def test_a_first_password_needs_a_sign_in_of_the_last_ten_minutes(app: Any, tenant: Tenant,
                                                                      intuit: Intuit) -> None:
    """With no current password to prove, a session left open (or stolen) must not give its account
    a password: setting the first one needs a fresh sign-in, on the page and in the service."""
    browser, ui = await _joined_with_intuit(app, tenant)
    try:
        ada = await User.objects().where(User.email == "ada@example.com").first()
        assert ada is not None
        # Eleven minutes pass: a session's lifetime is fixed when it opens, so it opened that long ago.
        await UserSession.update({UserSession.expires_at: UserSession.expires_at - timedelta(minutes=11)}).where(
            UserSession.data.like(f'{{"user_id": {ada.id},%'))
        page = await ui.get("/account/sign-in")
        assert 'id="sign-in-again"' in page and 'action="/account/sign-in/password"' not in page
        refused = await ui.follow(await ui.post("/account/sign-in/password", {
            "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}))
        assert "needs a recent sign-in" in refused and "sign in again" in refused
        assert (await User.objects().where(User.id == ada.id).first()).password_hash == NO_PASSWORD
        assert await _entries("account.password_set") == []
    finally:
        await browser.__aexit__(None, None, None)
    stale = await session_caller(await open_session(ada.id))
    assert stale is not None
    with pytest.raises(LedgerBridgeError) as caught:
        assert stale.signed_in_at is not None
        earlier = replace(stale, signed_in_at=stale.signed_in_at - timedelta(minutes=11))
        await linked_accounts.set_first_password(earlier, NEW_PASSWORD)
    assert caught.value.code == "recent_sign_in_required"
    await linked_accounts.set_first_password(stale, NEW_PASSWORD)  # a sign-in just now may
    assert len(await _entries("account.password_set")) == 1
