"""A page of customers is applied in bulk with the single-record rules, on SQLite and PostgreSQL:
linked by email (any case) or name, never duplicated, ambiguity raised as an issue, re-reads
skipped, deletions archived; every change announced and listed on the run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import (
    Account,
    Customer,
    ExternalLink,
    Item,
    OutboxEvent,
    RunKind,
    RunRecord,
    RunState,
    SyncIssue,
    SyncRun,
    TaxRate,
    Workspace,
    utcnow,
)

from tests.conftest import make_connection


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)


async def run(kind, connection, **params) -> SyncRun:
    queued = await jobs.enqueue(kind, workspace_id=connection.workspace, connection_id=connection.id, params=params)
    await jobs.execute(queued.id, owner="test-worker")
    return await SyncRun.objects().where(SyncRun.id == queued.id).first()


async def local(workspace_id: int, name: str, email: str = "") -> Customer:
    customer = Customer(workspace=workspace_id, name=name, email=email, created_at=utcnow(), updated_at=utcnow())
    await customer.save()
    return customer


async def test_a_page_of_customers_follows_the_import_rules(any_database, acme):
    workspace = Workspace(name="Client Co", slug="client-co")
    await workspace.save()
    connection = await make_connection(workspace.id)
    by_email = await local(workspace.id, "Ada Lovelace", "ada_l@example.com")
    by_name = await local(workspace.id, "Grace Hopper")
    await local(workspace.id, "Twin Co")
    await local(workspace.id, "Twin Co")
    await local(workspace.id, "Edsger Dijkstra", "edsger@example.com")
    ada = acme.seed("customer", {"name": "Ada L.", "email": "ADA_L@example.com"})  # the underscore is no wildcard
    grace = acme.seed("customer", {"name": "grace hopper"})
    acme.seed("customer", {"name": "Twin Co"})
    acme.seed("customer", {"name": "Edsger Dijkstra", "email": "other@example.com"})  # another person: created
    acme.seed("customer", {"name": "Adaxl", "email": "adaxl@example.com"})  # what `ada_l` as a pattern would match
    fresh = [acme.seed("customer", {"name": f"New {n:03d}", "email": f"new{n}@example.com"}) for n in range(120)]

    first = await run(RunKind.import_customers, connection)
    assert first.state == RunState.done, first.error
    assert (first.linked, first.created, first.failed) == (2, 122, 1)
    assert (await ExternalLink.objects().where(ExternalLink.remote_id == ada).first()).record_id == by_email.id
    assert (await ExternalLink.objects().where(ExternalLink.remote_id == grace).first()).record_id == by_name.id
    assert await Customer.count().where(Customer.workspace == workspace.id) == 5 + 122
    issue = await SyncIssue.objects().where(SyncIssue.code == "ambiguous_match").first()
    assert issue is not None and "Twin Co" in issue.message
    assert await OutboxEvent.count().where(OutboxEvent.type == "customer.created") == 122
    assert await RunRecord.count().where(RunRecord.run == first.id) == 125
    created = await Customer.objects().where(Customer.name == "New 007").first()
    assert created.email == "new7@example.com" and created.source == "acme" and created.currency

    acme.delete_record("customer", fresh[0])
    again = await run(RunKind.import_customers, connection, full=True)
    assert again.state == RunState.done, again.error
    assert (again.created, again.updated, again.skipped, again.failed) == (0, 1, 123, 1)  # Twin Co: still ambiguous
    gone = await Customer.objects().where(Customer.name == "New 000").first()
    assert gone.active is False and gone.archived_at is not None
    assert await OutboxEvent.count().where(OutboxEvent.type == "customer.archived") == 1
    assert await ExternalLink.count().where(ExternalLink.connection == connection.id) == 124


async def local_item(workspace_id: int, name: str) -> Item:
    item = Item(workspace=workspace_id, name=name, created_at=utcnow(), updated_at=utcnow())
    await item.save()
    return item


async def test_pages_of_items_accounts_and_tax_rates_follow_the_import_rules(any_database, acme):
    workspace = Workspace(name="Client Co", slug="client-co")
    await workspace.save()
    connection = await make_connection(workspace.id)
    design = await local_item(workspace.id, "design work")
    pattern = await local_item(workspace.id, "PlanXA")
    sales = acme.seed("account", {"name": "Sales", "code": "4000"})
    acme.seed("account", {"name": "Rent paid", "type": "expense"})  # not income: not imported
    standard = acme.seed("tax_rate", {"name": "Standard", "code": "STD", "rate": "8.25"})
    consulting = acme.seed("item", {"name": "Consulting", "price": "60.00", "account": sales, "tax_rate_id": standard})
    design_there = acme.seed("item", {"name": "Design Work", "price": "85.00"})  # any case: linked
    acme.seed("item", {"name": "Plan_A", "price": "1.00"})  # the underscore is no wildcard: created
    acme.seed("item", {"name": "Old thing", "price": "1.00", "active": False})  # never linked: skipped
    many = [acme.seed("item", {"name": f"Product {n:03d}", "price": "2.50"}) for n in range(120)]

    first = await run(RunKind.import_all, connection)
    assert first.state == RunState.done, first.error
    account = await Account.objects().where(Account.connection == connection.id).first()
    assert await Account.count().where(Account.connection == connection.id) == 1 and account.name == "Sales"
    rate = await TaxRate.objects().where(TaxRate.connection == connection.id).first()
    assert rate.rate == Decimal("8.25") and rate.code == "STD"
    item = await Item.objects().where(Item.name == "Consulting").first()
    assert (item.unit_price, item.income_account, item.tax_rate, item.source) == (Decimal("60.00"), account.id,
                                                                                 rate.id, "acme")
    link = await ExternalLink.objects().where(ExternalLink.remote_id == design_there).first()
    assert link.record_type == "item" and link.record_id == design.id and link.fingerprint
    assert await Item.count().where(Item.workspace == workspace.id) == 2 + 1 + 1 + 120  # linked ones not copied
    assert (await Item.objects().where(Item.id == pattern.id).first()).name == "PlanXA"
    assert await OutboxEvent.count().where(OutboxEvent.type == "item.created") == 122
    assert await RunRecord.count().where((RunRecord.run == first.id) & (RunRecord.record_type == "item")) == 123
    assert await RunRecord.count().where((RunRecord.run == first.id) & (RunRecord.outcome == "linked")) == 1

    acme.delete_record("item", consulting)
    acme.delete_record("item", many[0])
    again = await run(RunKind.import_items, connection, full=True)
    assert again.state == RunState.done, again.error
    assert (again.created, again.updated, again.linked) == (0, 2, 0)
    gone = await Item.objects().where(Item.id == item.id).first()
    assert gone.active is False and gone.archived_at is not None
    assert (await ExternalLink.objects().where(ExternalLink.remote_id == consulting).first()).state == "archived"
    assert await OutboxEvent.count().where(OutboxEvent.type == "item.archived") == 2
    third = await run(RunKind.import_items, connection, full=True)
    assert third.state == RunState.done and third.created == 0
    assert await OutboxEvent.count().where(OutboxEvent.type == "item.archived") == 2  # announced once
    assert await Item.count().where(Item.workspace == workspace.id) == 124  # nothing duplicated


async def test_reading_ahead_gives_the_same_pages_and_stops_cleanly(any_database, acme):
    from contextlib import aclosing

    from ledgerbridge import provider_waits
    from ledgerbridge.sync.paging import read_pages

    workspace = Workspace(name="Client Co", slug="client-co")
    await workspace.save()
    connection = await make_connection(workspace.id)
    for n in range(250):
        acme.seed("customer", {"name": f"Paged {n:03d}", "email": f"paged{n}@example.com"})

    async def names(ahead: bool, stop_after: int | None = None) -> list[list[str]]:
        pages: list[list[str]] = []
        async with aclosing(read_pages(connection.id, "import_customers", ahead=ahead)) as read:
            async for page in read:
                pages.append([record.name for record in page.records])
                if stop_after is not None and len(pages) == stop_after:
                    break
        return pages

    before = provider_waits.totals()
    plain, ahead = await names(False), await names(True)
    assert len(plain) >= 3 and ahead == plain
    assert provider_waits.totals().minus(before).blocked_seconds > 0
    assert await names(True, stop_after=1) == plain[:1]  # the page asked for ahead is let go
    assert await names(False) == plain
