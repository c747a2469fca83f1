"""The sync engine end to end, against each provider's sandbox over real HTTP.

Each test is what a user does or meets: connect, import, export, a bookkeeper's edit in the
provider, a lost response, a rate limit. Assertions look at both sides: our database and the
provider's books as its accountant view shows them.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from decimal import Decimal

import pytest
from ledgerbridge import connections, jobs, oauth
from ledgerbridge.identity import memberships
from ledgerbridge.plugins import get_registry
from ledgerbridge.tables import (
    Account,
    Connection,
    ConnectionStatus,
    Customer,
    ExternalLink,
    Invoice,
    InvoiceLine,
    Item,
    RunKind,
    RunState,
    SyncIssue,
    WithdrawnCopy,
    utcnow,
)

from ledgerbridge_testing.conformance.steps import connect, imported, local_invoice, map_everything, remote_of, run
from ledgerbridge_testing.world import ProviderWorld

pytestmark = pytest.mark.asyncio

BULK = int(os.environ.get("LB_E2E_BULK", "150"))


# --------------------------------------------------------------------------- connect and import


@pytest.mark.conformance("import")
async def test_connect_imports_everything_and_links_what_already_exists(world: ProviderWorld, database):
    user, workspace = await memberships.create_admin("owner@example.com", "correct horse battery", "Client Co")
    url = await oauth.begin_connect(world.key, workspace_id=workspace.id, user_id=user.id, environment="production")
    params = world.consent(url)
    outcome = await oauth.complete_connect(params, user_id=user.id)
    if len(outcome.tenants) > 1:
        await oauth.choose_tenant(outcome.connection.id, outcome.tenants[0].id, user_id=user.id)
    connection = await Connection.objects().where(Connection.id == outcome.connection.id).first()
    assert connection.status == ConnectionStatus.connected and connection.tenant_id
    # A customer the host app already has, under the same email as one in the provider.
    remote_customers = world.table(connection.tenant_id, "Customers")
    assert remote_customers, "the sandbox seeds customers"
    result = await run(RunKind.import_all, connection)
    assert result.state == RunState.done, result.error
    customers = await Customer.count().where(Customer.workspace == workspace.id)
    assert customers >= len([c for c in remote_customers if c.get("Active", "true").lower() != "false"])
    assert await Item.count().where(Item.workspace == workspace.id) > 0
    if get_registry().provider(world.key).capabilities.income_accounts:
        assert await Account.count().where(Account.connection == connection.id) > 0
    # Importing again links, never duplicates.
    again = await run(RunKind.import_all, connection)
    assert again.state == RunState.done, again.error
    assert await Customer.count().where(Customer.workspace == workspace.id) == customers


@pytest.mark.conformance("import")
async def test_a_local_customer_is_linked_not_duplicated(world: ProviderWorld, database):
    connection = await connect(world)
    remote = world.table(connection.tenant_id, "Customers")[0]
    remote_name = next(v for k, v in remote.items() if k.lower() in ("name", "display name", "displayname",
                                                                     "customer", "organization"))
    now = utcnow()
    mine = Customer(workspace=connection.workspace, name=remote_name, created_at=now, updated_at=now)
    await mine.save()
    await run(RunKind.import_customers, connection)
    same = await Customer.objects().where((Customer.workspace == connection.workspace)
                                          & (Customer.name == remote_name))
    assert [c.id for c in same] == [mine.id]
    link = await ExternalLink.objects().where((ExternalLink.record_type == "customer")
                                              & (ExternalLink.record_id == mine.id)).first()
    assert link is not None and link.remote_id


@pytest.mark.conformance("readback")
async def test_changes_in_the_provider_reach_us_and_deactivated_means_archived(world: ProviderWorld, database):
    connection = await imported(world)
    links = await ExternalLink.objects().where((ExternalLink.connection == connection.id)
                                               & (ExternalLink.record_type == "customer")).order_by(ExternalLink.id)
    renamed, gone = links[0], links[1]
    world.accountant(connection.tenant_id, "rename_customer", customer_id=renamed.remote_id,
                     display_name="Renamed By Bookkeeper")
    world.accountant(connection.tenant_id, "deactivate_customer", customer_id=gone.remote_id)
    result = await run(RunKind.import_customers, connection)
    assert result.state == RunState.done, result.error
    assert (await Customer.objects().where(Customer.id == renamed.record_id).first()).name == "Renamed By Bookkeeper"
    archived = await Customer.objects().where(Customer.id == gone.record_id).first()
    assert archived is not None and (not archived.active or archived.archived_at is not None)


# --------------------------------------------------------------------------- export


@pytest.mark.conformance("export")
async def test_export_creates_missing_customer_and_item_and_reexport_updates_the_same_invoice(
        world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    invoice = await local_invoice(connection, "LB-1001")
    first = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert first.state == RunState.done and first.failed == 0, first.error
    link = await remote_of(connection, invoice)
    assert link.remote_id and link.state == "synced"
    assert world.invoice_numbers(connection.tenant_id).count("LB-1001") == 1
    names = str(world.table(connection.tenant_id, "Customers"))
    assert "New Client LB-1001" in names
    # Edit here (revert, change, send again) and re-export: the same provider invoice changes.
    await Invoice.update({Invoice.total: Decimal("150.00"), Invoice.subtotal: Decimal("150.00")}).where(
        Invoice.id == invoice.id)
    await InvoiceLine.update({InvoiceLine.line_total: Decimal("150.00"), InvoiceLine.unit_price: Decimal("75.00")}
                             ).where(InvoiceLine.invoice == invoice.id)
    second = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert second.state == RunState.done and second.failed == 0, second.error
    after = await remote_of(connection, invoice)
    assert after.remote_id == link.remote_id
    assert world.invoice_numbers(connection.tenant_id).count("LB-1001") == 1
    row = next(r for r in world.table(connection.tenant_id, "Invoices") if link.remote_id in r.values())
    assert any(Decimal(v) == Decimal("150.00") for v in row.values() if _is_number(v))


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
    except Exception:
        return False
    return True


@pytest.mark.conformance("export")
async def test_revert_to_draft_takes_back_the_provider_copy(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    invoice = await local_invoice(connection, "LB-2001")
    await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id, action="void")
    assert result.state == RunState.done, result.error
    # The copy is retired: kept as history, and the link is free for a new copy on the next export.
    link = await remote_of(connection, invoice)
    assert link.remote_id is None and link.state == "needs_sync"
    copy = await WithdrawnCopy.objects().where(WithdrawnCopy.record_id == invoice.id).first()
    assert copy is not None and copy.state == "withdrawn" and copy.remote_number == "LB-2001"
    page = await connections.call(connection.id, "poll_invoices", cursor=None, remote_ids=[copy.remote_id])
    there = [r.status for r in page.records if r.remote_id == copy.remote_id]
    assert there in ([], ["void"], ["deleted"]), there  # as the provider says: voided, or deleted (gone)
    assert there != [] or copy.action == "delete"


@pytest.mark.conformance("export")
async def test_unmapped_item_and_taken_number_end_as_issues_with_fixes(world: ProviderWorld, database):
    connection = await imported(world)
    caps = get_registry().provider(world.key).capabilities
    if caps.income_accounts:
        unmapped = await local_invoice(connection, "LB-3001", item_name="Brand new service")
        result = await run(RunKind.export_invoice, connection, invoice_id=unmapped.id)
        assert result.failed == 1
        issue = await SyncIssue.objects().where(SyncIssue.record_id == unmapped.id).first()
        assert issue.code == "item_not_mapped" and "Brand new service" in issue.message
    await map_everything(connection)
    first = await local_invoice(connection, "LB-3002")
    await run(RunKind.export_invoice, connection, invoice_id=first.id)
    # The bookkeeper renumbers it in the provider to the number our next invoice will carry.
    world.accountant(connection.tenant_id, "edit_invoice_number",
                     invoice_id=(await remote_of(connection, first)).remote_id, doc_number="LB-3003")
    twin = await local_invoice(connection, "LB-3003")
    clash = await run(RunKind.export_invoice, connection, invoice_id=twin.id)
    assert clash.failed == 1
    issue = await SyncIssue.objects().where(SyncIssue.record_id == twin.id).first()
    assert issue.code == "duplicate_number" and issue.fix
    assert world.invoice_numbers(connection.tenant_id).count("LB-3003") == 1


# --------------------------------------------------------------------------- reading back


@pytest.mark.conformance("readback")
async def test_what_the_bookkeeper_does_shows_here(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    paid, edited, voided, deleted = [await local_invoice(connection, f"LB-40{n}") for n in range(4)]
    for invoice in (paid, edited, voided):
        exported = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
        assert exported.failed == 0, exported.error
    # Where the provider has drafts, only a draft can be deleted there (Xero voids approved ones):
    # the bookkeeper deletes a copy we sent as a draft.
    if get_registry().provider(world.key).capabilities.draft_export:
        await Connection.update({Connection.export_as_draft: True}).where(Connection.id == connection.id)
    exported = await run(RunKind.export_invoice, connection, invoice_id=deleted.id)
    assert exported.failed == 0, exported.error
    await Connection.update({Connection.export_as_draft: False}).where(Connection.id == connection.id)
    remote = {i.id: (await remote_of(connection, i)).remote_id for i in (paid, edited, voided, deleted)}
    tenant = connection.tenant_id
    world.accountant(tenant, "record_payment", invoice_id=remote[paid.id], amount="50.00")
    first = await run(RunKind.poll_status, connection)
    assert first.state == RunState.done, first.error
    assert _remote_status(await remote_of(connection, paid)) == "partially_paid"
    world.accountant(tenant, "record_payment", invoice_id=remote[paid.id], amount="70.00")
    world.accountant(tenant, "edit_invoice_amount", invoice_id=remote[edited.id], amount="99.00")
    world.accountant(tenant, "void_invoice", invoice_id=remote[voided.id])
    world.accountant(tenant, "delete_invoice", invoice_id=remote[deleted.id])
    second = await run(RunKind.poll_status, connection)
    assert second.state == RunState.done, second.error
    assert _remote_status(await remote_of(connection, paid)) == "paid"
    assert (await Invoice.objects().where(Invoice.id == paid.id).first()).amount_paid == Decimal("120.00")
    warning = await remote_of(connection, edited)
    assert warning.state == "warning" and "99" in warning.message and "120" in warning.message
    assert _remote_status(await remote_of(connection, voided)) == "void"
    assert _remote_status(await remote_of(connection, deleted)) == "deleted"
    # Nothing changed since: a poll is cheap and changes nothing.
    third = await run(RunKind.poll_status, connection)
    assert third.updated == 0


def _remote_status(link: ExternalLink) -> str:
    return jobs.loads(link.remote_data).get("status", "")


# --------------------------------------------------------------------------- exactly once


@pytest.mark.conformance("faults")
async def test_a_timeout_after_the_write_still_gives_one_invoice(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    invoice = await local_invoice(connection, "LB-5001")
    await run(RunKind.export_customer, connection, customer_id=invoice.customer)
    world.fault("timeout_after_apply", path_prefix="/", count=1, method="POST", delay=1)
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.state == RunState.done, result.error
    assert result.attempts == 1, "the lost answer was settled inside the run, not by another attempt"
    assert world.invoice_numbers(connection.tenant_id).count("LB-5001") == 1
    assert (await remote_of(connection, invoice)).state == "synced"


@pytest.mark.conformance("faults")
async def test_a_lost_answer_to_a_customer_create_still_gives_one_customer(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    invoice = await local_invoice(connection, "LB-5101")
    world.fault("timeout_after_apply", path_prefix="/", count=1, method="POST", delay=1)  # the customer create
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.state == RunState.done and result.failed == 0, result.error
    names = [value for row in world.table(connection.tenant_id, "Customers") for value in row.values()]
    assert sum("New Client LB-5101" in str(value) for value in names) == 1
    assert world.invoice_numbers(connection.tenant_id).count("LB-5101") == 1


@pytest.mark.conformance("faults")
async def test_a_bulk_export_through_provider_outages_loses_nothing_and_duplicates_nothing(
        world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    now = utcnow()
    customers = []
    for n in range(10):
        customer = Customer(workspace=connection.workspace, name=f"Bulk Client {n}", email=f"bulk{n}@x.example",
                            created_at=now, updated_at=now)
        await customer.save()
        customers.append(customer)
    invoices = [await local_invoice(connection, f"BULK-{n:04d}", customer=customers[n % 10]) for n in range(BULK)]
    world.fault("error", path_prefix="/", count=2, status=503, method="POST")
    result = await run(RunKind.export_invoices, connection, invoice_ids=[i.id for i in invoices])
    assert result.state == RunState.done, result.error
    assert result.failed == 0
    numbers = [n for n in world.invoice_numbers(connection.tenant_id) if n.startswith("BULK-")]
    assert len(numbers) == BULK and len(set(numbers)) == BULK
    issues = await SyncIssue.count().where(SyncIssue.resolved_at.is_null() & (SyncIssue.code != "rate_limited"))
    assert issues == 0


# --------------------------------------------------------------------------- tokens


@pytest.mark.conformance("tokens")
async def test_twenty_jobs_with_an_expired_token_refresh_it_once(world: ProviderWorld, database):
    connection = await imported(world)
    version = connection.token_version
    world.control("tokens/expire-access")
    await Connection.update({Connection.access_expires_at: utcnow() - timedelta(seconds=1)}).where(
        Connection.id == connection.id)

    async def read() -> object:
        return await connections.call(connection.id, "import_tax_rates", cursor=None)

    pages = await asyncio.gather(*(read() for _ in range(20)))
    assert len(pages) == 20
    after = await Connection.objects().where(Connection.id == connection.id).first()
    assert after.token_version == version + 1, "exactly one refresh was stored"


@pytest.mark.conformance("tokens")
async def test_a_revoked_connection_asks_for_reconnect_and_loses_nothing(world: ProviderWorld, database):
    connection = await imported(world)
    await map_everything(connection)
    invoice = await local_invoice(connection, "LB-6001")
    world.control("tokens/revoke-all")
    await Connection.update({Connection.access_expires_at: utcnow() - timedelta(seconds=1)}).where(
        Connection.id == connection.id)
    result = await run(RunKind.export_invoice, connection, invoice_id=invoice.id)
    assert result.state == RunState.failed or result.failed == 1, "the export did not pretend to succeed"
    after = await Connection.objects().where(Connection.id == connection.id).first()
    assert after.status == ConnectionStatus.needs_reconnect and after.status_reason
    assert world.invoice_numbers(connection.tenant_id).count("LB-6001") == 0
    assert (await Invoice.objects().where(Invoice.id == invoice.id).first()) is not None
