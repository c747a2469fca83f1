"""People are told: a refused refresh sends `connection.needs_reconnect` and an email (to a real SMTP
server) with the reconnect link; a person can opt out; without SMTP the notice is still kept for
the dashboard."""

from __future__ import annotations

import httpx
import pytest
from ledgerbridge import oauth
from ledgerbridge.errors import AuthorizationError
from ledgerbridge.notifications.preferences import set_opt_outs
from ledgerbridge.tables import Notice, OutboxEvent, RunKind, SyncRun

from tests.conftest import make_connection, make_tenant
from tests.events.conftest import run_queued


async def _refuse_refresh(acme, workspace_id: int) -> int:
    connection = await make_connection(workspace_id)
    async with httpx.AsyncClient() as http:  # the books refuse every token from now on
        (await http.post(f"{acme.url}/_sandbox/tokens/revoke-all")).raise_for_status()
    with pytest.raises(AuthorizationError):
        await oauth.access_token(connection.id, force_refresh=True)
    return connection.id


async def test_a_refused_refresh_tells_the_host_and_emails_the_owner(
        tenant, acme, mailbox, jobs_run_in_the_test):
    connection_id = await _refuse_refresh(acme, tenant.workspace_id)

    [event] = await OutboxEvent.objects().where(OutboxEvent.type == "connection.needs_reconnect")
    assert event.workspace == tenant.workspace_id
    assert await SyncRun.count().where(SyncRun.kind == RunKind.send_notices) == 1
    await run_queued(until=lambda: _emailed(1, mailbox))
    [message] = mailbox.messages
    assert message.rcpt_tos == [tenant.owner_email]
    text = message.content.decode()
    assert "Subject: Reconnect acme" in text
    assert f"/integrations/{connection_id}" in text
    notice = await Notice.objects().where(Notice.kind == "connection_needs_reconnect").first()
    assert notice.emailed_at is not None and notice.email_error == ""


async def _emailed(count: int, mailbox) -> bool:
    return len(mailbox.messages) >= count


async def test_a_person_who_opted_out_is_not_emailed_but_still_sees_the_notice(
        tenant, acme, mailbox, jobs_run_in_the_test):
    await set_opt_outs(tenant.owner_id, {"connection_needs_reconnect"})
    await _refuse_refresh(acme, tenant.workspace_id)
    await run_queued()
    assert mailbox.messages == []
    notice = await Notice.objects().where(Notice.kind == "connection_needs_reconnect").first()
    assert notice is not None and not notice.email_due and notice.user == tenant.owner_id


async def test_without_smtp_the_notice_waits_on_the_dashboard(tenant, acme, jobs_run_in_the_test):
    other = await make_tenant("second@example.test", "Second Co")
    await _refuse_refresh(acme, other.workspace_id)
    assert await SyncRun.count().where(SyncRun.kind == RunKind.send_notices) == 0
    notice = await Notice.objects().where(Notice.workspace == other.workspace_id).first()
    assert notice is not None and not notice.email_due and "Reconnect" in notice.subject
