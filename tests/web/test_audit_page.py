"""The Audit page: owners and accountants read the trail and filter it; members are refused."""

from __future__ import annotations

from typing import Any

from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.tables import Membership, Role
from litestar.testing import AsyncTestClient

from tests.conftest import OWNER_PASSWORD, Tenant
from tests.web.conftest import HTML, UI, submit_login


async def test_owners_read_and_filter_the_trail_and_members_are_refused(ui: UI, tenant: Tenant, app: Any) -> None:
    async with AsyncTestClient(app=app) as api:
        api.headers.update(tenant.headers)
        customer = (await api.post("/api/v1/customers", json={"name": "Soylent"})).json()
        assert (await api.delete(f"/api/v1/customers/{customer['id']}")).status_code == 204
    await ui.get("/workspace/settings")
    await ui.post("/workspace/invitations", {"role": "viewer", "note": "auditor"})

    page = await ui.get("/audit")
    assert "customer.delete" in page and f"API key {tenant.api_key_prefix}" in page and "Soylent" in page
    assert "invitation.create" in page and tenant.owner_email in page
    only = await ui.get("/audit?action=customer.")
    assert "customer.delete" in only and "invitation.create" not in only
    nobody = await ui.get("/audit?actor=nobody-at-all")
    assert "matches these filters" in nobody

    user, _ = await create_admin("member@example.com", OWNER_PASSWORD, "Acme Studio")
    await Membership.update({Membership.role: Role.member}).where(
        (Membership.user == user.id) & (Membership.workspace == tenant.workspace_id)
    )
    async with AsyncTestClient(app=app) as browser:
        assert (await submit_login(browser, "member@example.com", OWNER_PASSWORD)).status_code == 303
        refused = await browser.get("/audit", headers=HTML)
        assert refused.status_code == 403 and "audit:read" in refused.text
