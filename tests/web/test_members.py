"""Members on the settings page: owners add, re-role and remove people; members only look; one owner stays."""

from __future__ import annotations

import re
from typing import Any

from ledgerbridge.tables import Membership, Role
from litestar.testing import AsyncTestClient

from tests.conftest import Tenant, make_tenant
from tests.web.conftest import HTML, UI, submit_login


async def _role_of(tenant: Tenant, email: str) -> str | None:
    row = await Membership.select(Membership.role).where(
        (Membership.workspace == tenant.workspace_id) & (Membership.user.email == email)
    ).first()
    return row["role"] if row else None


async def _user_id(email: str) -> int:
    row = await Membership.select(Membership.user.id.as_alias("user_id")).where(Membership.user.email == email).first()
    return row["user_id"]


async def test_an_owner_adds_a_new_person_who_signs_in_with_the_password_shown_once(
    ui: UI, tenant: Tenant, app: Any
) -> None:
    page = await ui.get("/workspace/settings")
    assert 'action="/workspace/members"' in page and "Add member" in page and "shown to you once" in page
    response = await ui.post("/workspace/members", {"email": "Ada@Example.com", "name": "Ada", "role": "member"})
    shown = await ui.follow(response)
    assert 'id="new-member"' in shown
    password = re.search(r'id="new-password">([^<]+)<', shown).group(1)  # type: ignore[union-attr]
    assert "shown only this once" in shown
    assert await _role_of(tenant, "ada@example.com") == "member"
    assert password not in await ui.get("/workspace/settings")  # never shown again

    async with AsyncTestClient(app=app) as browser:
        assert (await submit_login(browser, "ada@example.com", password)).status_code == 303
        page = (await browser.get("/workspace/settings", headers=HTML)).text
        assert tenant.owner_email in page and "Only owners can add members" in page
        assert 'action="/workspace/members"' not in page and "/remove" not in page and "Change role" not in page
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        refused = await browser.post("/workspace/members", data={"email": "eve@example.com", "role": "owner",
                                                                 "_csrf_token": token}, headers=HTML)
        assert refused.status_code == 403 and "Only owners" in refused.text
        refused = await browser.post(f"/workspace/members/{tenant.owner_id}/role",
                                     data={"role": "member", "_csrf_token": token}, headers=HTML)
        assert refused.status_code == 403
        refused = await browser.get(f"/workspace/members/{tenant.owner_id}/remove", headers=HTML)
        assert refused.status_code == 403
    assert await _role_of(tenant, "eve@example.com") is None
    assert await _role_of(tenant, tenant.owner_email) == "owner"


async def test_adding_someone_with_an_account_keeps_their_password(ui: UI, tenant: Tenant) -> None:
    await make_tenant("grace@example.com", "Grace's own")
    await ui.get("/workspace/settings")
    response = await ui.post("/workspace/members", {"email": "grace@example.com", "role": "owner"})
    assert response.status_code == 303
    assert "their own password" in await ui.follow(response)
    assert await _role_of(tenant, "grace@example.com") == "owner"
    again = await ui.post("/workspace/members", {"email": "grace@example.com", "role": "member"})
    page = await ui.get(again.headers["location"])
    assert "already a member" in page and "Change their role instead." in page


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


async def test_an_owner_changes_a_role_and_removes_a_member_after_confirming(ui: UI, tenant: Tenant) -> None:
    await ui.get("/workspace/settings")
    await ui.post("/workspace/members", {"email": "bob@example.com", "role": "member"})
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
