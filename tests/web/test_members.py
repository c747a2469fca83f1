"""Members on the settings page: owners invite, re-role and remove people; members only look; one owner stays."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ledgerbridge.api.errors import Conflict
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.tables import Membership, Role
from ledgerbridge_web.common import failed
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant, make_tenant
from tests.web.conftest import HTML, UI, hidden_token, submit_login


async def _role_of(tenant: Tenant, email: str) -> str | None:
    row = await Membership.select(Membership.role).where(
        (Membership.workspace == tenant.workspace_id) & (Membership.user.email == email)
    ).first()
    return row["role"] if row else None


async def _user_id(email: str) -> int:
    row = await Membership.select(Membership.user.id.as_alias("user_id")).where(Membership.user.email == email).first()
    return row["user_id"]


async def _invitation_link(ui: UI, role: str = "member", note: str = "") -> str:
    await ui.get("/workspace/settings")
    response = await ui.post("/workspace/invitations", {"role": role, "note": note})
    shown = await ui.follow(response)  # post/redirect/get: the link is shown once, on the page it lands on
    assert 'id="new-invitation"' in shown
    link = re.search(r'id="invitation-link">([^<]+)<', shown).group(1)  # type: ignore[union-attr]
    return "/" + link.split("/", 3)[3]  # the path and query, on this test server


async def _join(app: Any, link: str, email: str, password: str = "their own password") -> AsyncTestClient:
    """Someone new opens the link in their own browser and creates their account with it."""
    browser = AsyncTestClient(app=app)
    await browser.__aenter__()
    offer = (await browser.get(link, headers=HTML)).text
    assert 'action="/invitations/join"' in offer
    token = re.search(r'name="token" value="([^"]+)"', offer).group(1)  # type: ignore[union-attr]
    joined = await browser.post("/invitations/join", data={
        "token": token, "email": email, "name": "Ada", "password": password, "_csrf_token": hidden_token(offer),
    }, headers=HTML, follow_redirects=False)
    assert joined.status_code == 303, joined.text[:2000]
    assert "Welcome to" in (await browser.get(joined.headers["location"], headers=HTML)).text
    return browser


async def test_an_owner_invites_someone_new_who_joins_with_the_link_shown_once(
    ui: UI, tenant: Tenant, app: Any
) -> None:
    page = await ui.get("/workspace/settings")
    assert 'action="/workspace/invitations"' in page and "Invite someone" in page and "shown to you once" in page
    assert 'action="/workspace/members"' not in page  # nobody is added by typing an email
    link = await _invitation_link(ui, note="Ada from accounts")
    settings = await ui.get("/workspace/settings")
    assert link.split("token=")[1] not in settings  # never shown again
    assert "Ada from accounts" in settings and "Withdraw" in settings

    browser = await _join(app, link, "Ada@Example.com")
    try:
        assert await _role_of(tenant, "ada@example.com") == "member"
        page = (await browser.get("/workspace/settings", headers=HTML)).text
        assert tenant.owner_email in page and "Only owners can invite members" in page
        assert 'action="/workspace/invitations"' not in page and "/remove" not in page and "Change role" not in page
        token = hidden_token(page)
        refused = await browser.post("/workspace/invitations", data={"role": "owner", "_csrf_token": token},
                                     headers=HTML)
        assert refused.status_code == 403 and "Only owners" in refused.text
        refused = await browser.post(f"/workspace/members/{tenant.owner_id}/role",
                                     data={"role": "member", "_csrf_token": token}, headers=HTML)
        assert refused.status_code == 403
        refused = await browser.get(f"/workspace/members/{tenant.owner_id}/remove", headers=HTML)
        assert refused.status_code == 403
    finally:
        await browser.__aexit__(None, None, None)
    assert await _role_of(tenant, tenant.owner_email) == "owner"
    # The link worked once.
    async with AsyncTestClient(app=app) as late:
        used = await late.get(link, headers=HTML)
        assert used.status_code == 410 and "already been used" in used.text


async def test_someone_with_an_account_signs_in_and_accepts_keeping_their_password(
    ui: UI, tenant: Tenant, app: Any
) -> None:
    await make_tenant("grace@example.com", "Grace's own")
    link = await _invitation_link(ui, role="owner")
    assert await _role_of(tenant, "grace@example.com") is None  # nothing happens until she accepts
    async with AsyncTestClient(app=app) as browser:
        assert (await submit_login(browser, "grace@example.com", OWNER_PASSWORD, next_path=link)).status_code == 303
        offer = (await browser.get(link, headers=HTML)).text
        assert "Join Acme Studio" in offer and 'action="/invitations/accept"' in offer
        token = re.search(r'name="token" value="([^"]+)"', offer).group(1)  # type: ignore[union-attr]
        accepted = await browser.post("/invitations/accept", data={"token": token, "_csrf_token": hidden_token(offer)},
                                      headers=HTML, follow_redirects=False)
        assert accepted.status_code == 303
        joined = (await browser.get(accepted.headers["location"], headers=HTML)).text  # the flash, shown once
        assert "You joined Acme Studio as owner" in joined
    assert await _role_of(tenant, "grace@example.com") == "owner"
    # Creating an account with a link cannot take over an existing one.
    second = await _invitation_link(ui)
    async with AsyncTestClient(app=app) as browser:
        offer = (await browser.get(second, headers=HTML)).text
        token = re.search(r'name="token" value="([^"]+)"', offer).group(1)  # type: ignore[union-attr]
        taken = await browser.post("/invitations/join", data={
            "token": token, "email": "grace@example.com", "password": "not hers at all",
            "_csrf_token": hidden_token(offer)}, headers=HTML)
        assert taken.status_code == 400 and "already has a LedgerBridge account" in taken.text


async def test_the_last_owner_can_be_neither_demoted_nor_removed(ui: UI, tenant: Tenant) -> None:
    page = await ui.get("/workspace/settings")
    assert "The only owner" in page
    response = await ui.post(f"/workspace/members/{tenant.owner_id}/role", {"role": "member"})
    page = await ui.get(response.headers["location"])
    assert "This is the workspace&#39;s last owner." in page and "Make another member an owner first." in page
    response = await ui.post(f"/workspace/members/{tenant.owner_id}/remove")
    page = await ui.get(response.headers["location"])
    assert "last owner" in page
    assert await _role_of(tenant, tenant.owner_email) == "owner"


async def test_an_owner_changes_a_role_and_removes_a_member_after_confirming(
    ui: UI, tenant: Tenant, app: Any
) -> None:
    link = await _invitation_link(ui)
    await (await _join(app, link, "bob@example.com")).__aexit__(None, None, None)
    bob = await _user_id("bob@example.com")
    response = await ui.post(f"/workspace/members/{bob}/role", {"role": "owner"})
    assert "is now an owner" in await ui.follow(response)
    assert await _role_of(tenant, "bob@example.com") == Role.owner
    refused = await ui.post(f"/workspace/members/{bob}/role", {"role": "admin"})
    assert "Choose a role" in await ui.follow(refused)
    assert await _role_of(tenant, "bob@example.com") == Role.owner

    page = await ui.get("/workspace/settings")
    assert f'href="/workspace/members/{bob}/remove"' in page
    confirm = await ui.get(f"/workspace/members/{bob}/remove")
    assert "Remove bob@example.com from" in confirm and f'action="/workspace/members/{bob}/remove"' in confirm
    assert 'name="_csrf_token"' in confirm
    assert await _role_of(tenant, "bob@example.com") == Role.owner  # looking at the confirmation changes nothing
    response = await ui.post(f"/workspace/members/{bob}/remove")
    assert "removed from this workspace" in await ui.follow(response)
    assert await _role_of(tenant, "bob@example.com") is None
    assert "bob@example.com" not in await ui.get("/workspace/settings")
    await ui.get(f"/workspace/members/{bob}/remove", status=404)


def test_failed_sends_a_refusal_back_to_the_page_but_lets_a_refused_role_through() -> None:
    """The fold behind every page action's single `except LedgerBridgeError` clause: a conflict goes back
    to the page with its message and fix; `Forbidden` is raised again, for the core to answer 403."""
    refused = Forbidden("Only owners of this workspace can do this.", fix="Ask an owner.")
    with pytest.raises(Forbidden) as raised:
        failed("/workspace/settings", refused)
    assert raised.value is refused
    back = failed("/workspace/settings", Conflict("This is the workspace's last owner.", fix="Make another one."))
    assert back.status_code == 303 and back.url == "/workspace/settings"
