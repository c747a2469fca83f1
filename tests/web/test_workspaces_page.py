"""The Workspaces page: list, switch, and create one (owners)."""

from __future__ import annotations

from ledgerbridge.tables import Membership, Workspace

from tests.conftest import Tenant
from tests.web.conftest import UI


async def test_an_owner_creates_a_workspace_from_the_page(ui: UI, tenant: Tenant) -> None:
    page = await ui.get("/workspaces")
    assert "Acme Studio" in page and "Current" in page and 'action="/workspaces"' in page
    created = await ui.post("/workspaces", {"name": "Initech"})
    assert created.status_code == 303 and created.headers["location"].startswith("/integrations")
    workspace = await Workspace.objects().where(Workspace.name == "Initech").first()
    assert workspace is not None
    membership = await Membership.objects().where(Membership.workspace == workspace.id).first()
    assert membership.user == tenant.owner_id and membership.role == "owner"
    page = await ui.get("/workspaces")
    assert "Switch to Acme Studio" in page  # Initech is current now
