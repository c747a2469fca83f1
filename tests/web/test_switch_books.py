"""Integrations asks the owner to switch the books to a second connection, or to cancel it."""

from __future__ import annotations

from ledgerbridge.tables import Connection, ConnectionStatus

from tests.conftest import Tenant, make_connection
from tests.web.conftest import UI


async def test_a_second_connection_is_read_only_until_the_owner_switches(ui: UI, tenant: Tenant) -> None:
    first = await make_connection(tenant.workspace_id)
    second = await make_connection(tenant.workspace_id, tenant="acme-2", tenant_name="Acme Test Co 2")
    page = await ui.get("/integrations")
    assert "Keeps the books" in page
    assert f'href="/integrations/{second.id}/books"' in page and "Read-only" in page

    confirm = await ui.get(f"/integrations/{second.id}/books")
    assert "Keep the books in Acme Books?" in confirm
    assert "Links are kept and shown" in confirm or "links are kept" in confirm.lower()
    assert "Nothing already exported is sent again unless you export it." in confirm
    assert f'action="/integrations/{second.id}/books/cancel"' in confirm

    switched = await ui.post(f"/integrations/{second.id}/books")
    assert "Acme Test Co 2" in await ui.follow(switched)  # the message, shown once on the page it lands on
    rows = {row.id: row for row in await Connection.objects()}
    assert rows[second.id].is_books and not rows[first.id].is_books


async def test_cancel_disconnects_the_new_connection(ui: UI, tenant: Tenant) -> None:
    first = await make_connection(tenant.workspace_id)
    second = await make_connection(tenant.workspace_id, tenant="acme-2")
    cancelled = await ui.post(f"/integrations/{second.id}/books/cancel")
    assert cancelled.status_code == 303
    rows = {row.id: row for row in await Connection.objects()}
    assert rows[first.id].is_books and rows[second.id].status == ConnectionStatus.disconnected
