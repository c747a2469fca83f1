"""The admin page: add an endpoint (secret shown once), send a test event, read the delivery log,
resend, rotate, delete after confirming; notices on the dashboard, with email choices per person."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ledgerbridge import jobs
from ledgerbridge.events import records
from ledgerbridge.tables import NotificationOptOut, WebhookEndpoint

from tests.conftest import OWNER_PASSWORD, Tenant, make_connection
from tests.events.conftest import run_queued
from tests.events.receiver import Receiver
from tests.web.conftest import UI, submit_login


@pytest.fixture
async def ui(client: Any, tenant: Tenant, acme: Any) -> AsyncIterator[UI]:
    response = await submit_login(client, tenant.owner_email, OWNER_PASSWORD)
    assert response.status_code == 303
    yield UI(client)


async def test_an_owner_manages_an_endpoint_from_the_page(ui: UI, tenant: Tenant, receiver: Receiver,
                                                          jobs_run_in_the_test) -> None:
    page = await ui.get("/webhooks")
    assert "No endpoints yet" in page and 'href="/webhooks"' in page
    created = await ui.post("/webhooks", {"url": receiver.url, "description": "host app",
                                          "event_types": ["connection.needs_reconnect"]})
    endpoint = await WebhookEndpoint.objects().first()
    detail_path = f"/webhooks/{endpoint.id}"
    assert created.headers["location"] == detail_path  # post/redirect/get
    shown = await ui.follow(created)
    secret = re.search(r'id="new-secret">([^<]+)<', shown).group(1)  # type: ignore[union-attr]
    assert secret.startswith("whsec_") and "shown only once" in shown
    assert secret not in await ui.get(detail_path)  # never shown again, and the reload created nothing
    assert await WebhookEndpoint.count() == 1
    receiver.secrets = [secret]

    tested = await ui.follow(await ui.post(f"{detail_path}/test"))
    assert 'id="test-result"' in tested and "accepted (204)" in tested

    connection = await make_connection(tenant.workspace_id)
    async with jobs.transaction() as tx:
        await tx.emit(records.connection_changed(connection, "connected", "needs_reconnect", "refused"))
    await run_queued()
    log = await ui.get(detail_path)
    assert "connection.needs_reconnect" in log and "delivered" in log and "204" in log
    delivery_id = re.search(r'id="delivery-(\d+)"', log).group(1)  # type: ignore[union-attr]
    resent = await ui.post(f"{detail_path}/deliveries/{delivery_id}/resend")
    assert resent.status_code == 303
    await run_queued()
    assert len(receiver.received) == 3 and len(receiver.unique()) == 2  # the test event, the event twice

    rotated = await ui.follow(await ui.post(f"{detail_path}/rotate"))
    new_secret = re.search(r'id="new-secret">([^<]+)<', rotated).group(1)  # type: ignore[union-attr]
    assert new_secret != secret and "previous secret" in rotated

    confirm = await ui.get(f"{detail_path}/delete")
    assert "Delete this endpoint?" in confirm and receiver.url in confirm
    assert await WebhookEndpoint.count() == 1  # asking is not deleting
    await ui.post(f"{detail_path}/delete")
    assert await WebhookEndpoint.count() == 0


async def test_notices_show_on_the_dashboard_and_email_choices_are_saved(ui: UI, tenant: Tenant, acme) -> None:
    connection = await make_connection(tenant.workspace_id)
    async with jobs.transaction() as tx:
        await tx.emit(records.connection_changed(connection, "connected", "needs_reconnect", "refused"))
    dashboard = await ui.get("/")
    assert 'id="notices"' in dashboard and "Reconnect acme" in dashboard
    assert f"/integrations/{connection.id}" in dashboard
    notice_id = re.search(r'id="notice-(\d+)"', dashboard).group(1)  # type: ignore[union-attr]
    await ui.post(f"/notices/{notice_id}/dismiss")
    assert 'id="notices"' not in await ui.get("/")

    page = await ui.get("/webhooks")
    assert "dashboard only" in page  # no SMTP in this test
    await ui.post("/notifications", {"email": ["endpoint_disabled"]})
    rows = await NotificationOptOut.select(NotificationOptOut.kind).where(NotificationOptOut.user == tenant.owner_id)
    assert sorted(row["kind"] for row in rows) == ["connection_needs_reconnect", "exports_failing"]
