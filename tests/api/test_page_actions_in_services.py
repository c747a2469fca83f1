"""Actions that the admin UI used to perform in its handlers now live in the services, where
`require` decides for people and API keys alike and books-related changes reach the audit trail:
customer resync, the customer review's import, the item-mapping bulk assign, email choices and
dismissing a notice. Each is called here as the pages call it, with callers of every kind."""

from __future__ import annotations

from typing import Any

import pytest
from ledgerbridge.domain.customers import services as customers
from ledgerbridge.domain.items import services as items
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.errors import Forbidden
from ledgerbridge.identity.memberships import create_admin
from ledgerbridge.notifications import inbox, preferences
from ledgerbridge.tables import AuditEntry, Item, Membership, Notice, NotificationOptOut, Role, RunKind, SyncRun, utcnow

from tests.conftest import OWNER_PASSWORD, Tenant, make_connection, make_tenant
from tests.web import seeding


async def person(tenant: Tenant, role: Role) -> Caller:
    user, _ = await create_admin(f"{role.value}@example.com", OWNER_PASSWORD, "Acme Studio")
    await Membership.update({Membership.role: role}).where(
        (Membership.user == user.id) & (Membership.workspace == tenant.workspace_id)
    )
    return Caller(via="session", workspace_id=tenant.workspace_id, workspace_name="Acme Studio", role=role,
                  user_id=user.id, email=user.email)


def key(tenant: Tenant, *scopes: str) -> Caller:
    return Caller(via="api_key", workspace_id=tenant.workspace_id, workspace_name="Acme Studio", role=None,
                  api_key_id=1, api_key_prefix="lb_probe", scopes=frozenset(scopes))


async def audited(action: str) -> list[AuditEntry]:
    return list(await AuditEntry.objects().where(AuditEntry.action == action))


async def test_customer_resync_needs_the_export_permission_and_is_audited(tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    customer = await seeding.customer(tenant.workspace_id)
    for caller in (await person(tenant, Role.viewer), await person(tenant, Role.member),
                   key(tenant, "read", "records:write")):
        with pytest.raises(Forbidden):
            await customers.resync_customer(caller, customer_id=customer.id)
    assert await SyncRun.count() == 0 and await audited("customer.resync") == []

    run = await customers.resync_customer(await person(tenant, Role.accountant), customer_id=customer.id)
    assert run.kind == RunKind.export_customer and run.connection == connection.id
    [entry] = await audited("customer.resync")
    assert entry.actor == "accountant@example.com" and entry.target_id == str(customer.id)
    again = await customers.resync_customer(key(tenant, "exports:write"), customer_id=customer.id)
    assert again.id == run.id  # the waiting resync is reused, not queued twice


async def test_the_review_import_needs_the_export_permission_and_is_audited(tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    with pytest.raises(Forbidden):
        await customers.import_chosen_customers(await person(tenant, Role.member), connection_id=connection.id,
                                                remote_ids=["1"], kinds={})
    run = await customers.import_chosen_customers(
        Caller(via="session", workspace_id=tenant.workspace_id, workspace_name="", role=Role.owner,
               user_id=tenant.owner_id, email=tenant.owner_email),
        connection_id=connection.id, remote_ids=["1", "1", "2"], kinds={"2": "individual", "9": "business"},
    )
    assert run.kind == RunKind.import_customers
    [entry] = await audited("connection.import_customers")
    assert '"customers": 2' in entry.after


async def test_the_item_mapping_bulk_assign_is_one_checked_audited_change(tenant: Tenant) -> None:
    ws = tenant.workspace_id
    connection = await make_connection(ws)
    sales = await seeding.account(ws, connection.id)
    design, hosting = await seeding.item(ws, "Design"), await seeding.item(ws, "Hosting")
    with pytest.raises(Forbidden):
        await items.assign_income_accounts(await person(tenant, Role.viewer),
                                           assignments={design.id: sales.id})
    other = await make_tenant("other@example.com", "Other Co")
    stranger = await seeding.item(other.workspace_id, "Theirs")
    member = await person(tenant, Role.member)
    with pytest.raises(Exception) as refused:
        await items.assign_income_accounts(member, assignments={design.id: sales.id, stranger.id: sales.id})
    assert getattr(refused.value, "code", "") == "not_found"
    assert await Item.count().where(Item.income_account.is_not_null()) == 0  # nothing half-done

    assert await items.assign_income_accounts(member, assignments={design.id: sales.id, hosting.id: sales.id}) == 2
    assert await items.assign_income_accounts(member, assignments={design.id: sales.id}) == 0  # nothing changed
    [entry] = await audited("item.income_accounts")
    assert entry.actor == "member@example.com" and str(sales.id) in entry.after


async def test_email_choices_and_notice_dismissal_are_a_persons_own(tenant: Tenant) -> None:
    ws = tenant.workspace_id
    viewer = await person(tenant, Role.viewer)
    with pytest.raises(Forbidden):
        await preferences.choose_emails(key(tenant, "read", "records:write", "exports:write"), set())
    out = await preferences.choose_emails(viewer, {"connection_needs_reconnect"})
    assert "connection_needs_reconnect" not in out and await NotificationOptOut.count() == len(out)

    theirs = Notice(workspace=ws, user=tenant.owner_id, kind="k", subject="For the owner", created_at=utcnow())
    everyone = Notice(workspace=ws, user=None, kind="k", subject="For all", created_at=utcnow())
    await theirs.save()
    await everyone.save()
    with pytest.raises(Forbidden):
        await inbox.dismiss_notice(key(tenant, "read"), notice_id=everyone.id)
    assert await inbox.dismiss_notice(viewer, notice_id=theirs.id) is False  # another person's
    assert await inbox.dismiss_notice(viewer, notice_id=everyone.id) is True
    rows: dict[int, Any] = {row["id"]: row["dismissed_at"] for row in await Notice.select(Notice.id,
                                                                                          Notice.dismissed_at)}
    assert rows[theirs.id] is None and rows[everyone.id] is not None
