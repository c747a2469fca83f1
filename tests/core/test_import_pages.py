"""A page of customers is applied in bulk with the single-record rules, on SQLite and PostgreSQL:
linked by email (any case) or name, never duplicated, ambiguity raised as an issue, re-reads
skipped, deletions archived; every change announced and listed on the run."""

from __future__ import annotations

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import (
    Customer,
    ExternalLink,
    OutboxEvent,
    RunKind,
    RunRecord,
    RunState,
    SyncIssue,
    SyncRun,
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
