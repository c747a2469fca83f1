"""Customers and items in step with the books, against every provider's sandbox over real HTTP.

New and changed customers and items are pushed automatically when the connection says so (the
push is recorded with the change); what the bookkeeper changes is re-read on the scheduler's
cadence; a customer that disappears there while it owes money here is kept, with an issue.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ledgerbridge import jobs, scheduler
from ledgerbridge.domain.customers import services as customer_services
from ledgerbridge.domain.customers.schemas import CustomerIn, CustomerPatch
from ledgerbridge.domain.items import services as item_services
from ledgerbridge.domain.items.schemas import ItemIn
from ledgerbridge.plugins import get_registry
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import (
    Account,
    Connection,
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    RunKind,
    RunRecord,
    RunState,
    SyncIssue,
    SyncRun,
    utcnow,
)
from ledgerbridge_testing.conformance.steps import finish, host_app, imported, map_everything
from ledgerbridge_testing.world import ProviderWorld

pytestmark = pytest.mark.asyncio




async def pushes() -> list[SyncRun]:
    return list(await SyncRun.objects().where(SyncRun.kind == RunKind.push_records).order_by(SyncRun.id))


async def link_of(record_type: str, record_id: int) -> ExternalLink | None:
    return await ExternalLink.objects().where((ExternalLink.record_type == record_type)
                                              & (ExternalLink.record_id == record_id)).first()


@pytest.mark.conformance("export")
async def test_new_and_changed_customers_and_items_are_pushed_automatically(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    caller = host_app(connection)
    created = await customer_services.create_customer(
        caller, data=CustomerIn(name="Pushed Automatically Ltd", email="ap@pushed.example"))
    [push] = await pushes()  # recorded with the customer, before any worker ran
    assert push.connection == connection.id and push.state == RunState.queued
    done = await finish(push.id)
    assert done.state == RunState.done and done.failed == 0, done.error
    link = await link_of("customer", created.id)
    assert link is not None and link.remote_id and link.state == "synced"
    assert "Pushed Automatically Ltd" in str(world.table(connection.tenant_id, "Customers"))

    await customer_services.update_customer(caller, customer_id=created.id,
                                            data=CustomerPatch(name="Pushed And Renamed Ltd"))
    second = (await pushes())[-1]
    assert second.id != push.id
    assert (await finish(second.id)).failed == 0
    names = str(world.table(connection.tenant_id, "Customers"))
    assert "Pushed And Renamed Ltd" in names and "Pushed Automatically Ltd" not in names
    assert (await link_of("customer", created.id)).remote_id == link.remote_id  # updated in place

    account = await Account.objects().where(Account.connection == connection.id).first()
    item = await item_services.create_item(caller, data=ItemIn(
        name="Pushed service", unit_price=Decimal("45"), income_account_id=account.id if account else None))
    item_push = (await pushes())[-1]
    assert (await finish(item_push.id)).failed == 0
    item_link = await link_of("item", item.id)
    assert item_link is not None and item_link.remote_id

    # With the setting off, changes stay here.
    await Connection.update({Connection.auto_sync_customers: False}).where(Connection.id == connection.id)
    before = len(await pushes())
    await customer_services.create_customer(caller, data=CustomerIn(name="Kept Here Only"))
    assert len(await pushes()) == before
    assert "Kept Here Only" not in str(world.table(connection.tenant_id, "Customers"))


@pytest.mark.conformance("readback")
async def test_the_scheduler_rereads_what_the_bookkeeper_changed(world: ProviderWorld, database):
    connection = await imported(world)
    assert get_settings().reference_sync_minutes == 15  # the documented default
    link = await ExternalLink.objects().where((ExternalLink.connection == connection.id)
                                              & (ExternalLink.record_type == "customer")).first()
    world.accountant(connection.tenant_id, "rename_customer", customer_id=link.remote_id,
                     display_name="Renamed Between Reads")
    first = await scheduler.schedule_reference_reads()
    assert await scheduler.schedule_reference_reads() == first  # one pending re-read per connection
    [run_id] = first
    run = await SyncRun.objects().where(SyncRun.id == run_id).first()
    assert (run.kind, run.trigger, run.connection) == (RunKind.import_all, "schedule", connection.id)
    done = await finish(run_id)
    assert done.state == RunState.done, done.error
    customer = await Customer.objects().where(Customer.id == link.record_id).first()
    assert customer.name == "Renamed Between Reads"
    if get_registry().provider(world.key).capabilities.incremental_import:
        # The read continued from the change cursor: it did not re-read every customer.
        read = await RunRecord.count().where((RunRecord.run == run_id) & (RunRecord.record_type == "customer"))
        assert 1 <= read < await Customer.count().where(Customer.workspace == connection.workspace)


@pytest.mark.conformance("readback")
async def test_a_customer_gone_from_the_books_with_open_invoices_here_is_an_issue_not_archived(
        world: ProviderWorld, database):
    connection = await imported(world)
    links = await ExternalLink.objects().where((ExternalLink.connection == connection.id)
                                               & (ExternalLink.record_type == "customer")).order_by(ExternalLink.id)
    owing, settled = links[0], links[1]
    now = utcnow()
    invoice = Invoice(workspace=connection.workspace, number="LB-OPEN-1", customer=owing.record_id,
                      issue_date=date(2026, 11, 2), status="sent", subtotal=Decimal("90"), total=Decimal("90"),
                      created_at=now, updated_at=now)
    await invoice.save()
    await InvoiceLine(invoice=invoice.id, description="Work", quantity=Decimal("1"), unit_price=Decimal("90"),
                      line_total=Decimal("90")).save()
    for link in (owing, settled):
        world.accountant(connection.tenant_id, "deactivate_customer", customer_id=link.remote_id)
    result = await finish((await jobs.enqueue(RunKind.import_customers, workspace_id=connection.workspace,
                                              connection_id=connection.id)).id)
    assert result.state == RunState.done, result.error
    kept = await Customer.objects().where(Customer.id == owing.record_id).first()
    assert kept.active and kept.archived_at is None
    issue = await SyncIssue.objects().where((SyncIssue.record_type == "customer")
                                            & (SyncIssue.record_id == owing.record_id)).first()
    assert issue is not None and issue.code == "customer_gone_with_open_invoices"
    assert "LB-OPEN-1" in issue.message and issue.fix and issue.resolved_at is None
    archived = await Customer.objects().where(Customer.id == settled.record_id).first()
    assert not archived.active or archived.archived_at is not None  # nothing owed: archived as before
