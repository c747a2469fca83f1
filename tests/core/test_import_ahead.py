"""An import reads ahead: while a page is applied (its write transaction open, SQLite's write lock
held), the provider is already answering the pages after it; a provider whose pages are numbered is
asked for the page after next before the next one is answered; and an import killed mid-read
resumes at its checkpoint with every customer once. On SQLite and PostgreSQL, against Acme's sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from datetime import timedelta

import pytest
from ledgerbridge import jobs
from ledgerbridge.connections import ReadSession, limiter, limiter_key
from ledgerbridge.db import write_transaction
from ledgerbridge.sync.paging import IN_FLIGHT, read_pages
from ledgerbridge.tables import (
    Connection,
    ConnectionStatus,
    Customer,
    ExternalLink,
    RecordType,
    RunKind,
    RunRecord,
    RunState,
    SyncRun,
    Workspace,
    utcnow,
)

from tests.conftest import make_connection

CUSTOMERS = 350  # four pages of Acme's 100
GATHERED = 3500  # an import applies Acme's pages of 100 a thousand records at a time: four transactions
CUSTOMERS_PATH = "/api/v1/companies/acme-1/customers"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)


@pytest.fixture
async def workspace(any_database) -> Workspace:
    ws = Workspace(name="Client Co", slug="client-co")
    await ws.save()
    return ws


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for `condition`; a bound only so that a broken read fails instead of hanging."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def asked(acme) -> int:
    return acme.CALLS.count("import_customers")


async def test_the_next_pages_are_asked_for_while_a_page_is_applied(acme, workspace):
    connection = await make_connection(workspace.id)
    for n in range(CUSTOMERS):
        acme.seed("customer", {"name": f"Ahead {n:03d}", "email": f"ahead{n}@example.com"})

    names: list[list[str]] = []
    async with aclosing(read_pages(connection.id, "import_customers", ahead=True)) as pages:
        async for page in pages:
            names.append([record.name for record in page.records])
            if len(names) == 1:
                async with write_transaction():  # as the page's apply does; on SQLite, the write lock
                    now = utcnow()
                    await Customer(workspace=workspace.id, name="Written meanwhile", created_at=now,
                                   updated_at=now).save()
                    # The second page is in and the third asked for before this page commits.
                    await until(lambda: asked(acme) >= 3, "the third page asked for while the first is applied")
    assert [name for page in names for name in page] == [f"Ahead {n:03d}" for n in range(CUSTOMERS)]
    assert asked(acme) == len(names) == 4  # nothing asked twice, nothing past the last page

    async with aclosing(read_pages(connection.id, "import_customers", ahead=True, gather=150)) as pages:
        gathered = [[record.name for record in page.records] async for page in pages]
    assert [len(page) for page in gathered] == [200, 150]  # whole pages, at least 150 records each but the last
    assert gathered[0] + gathered[1] == [name for page in names for name in page]


async def test_the_page_after_next_is_asked_for_before_the_next_page_is_answered(acme, workspace):
    """Acme numbers its pages (`Page.after_next`): once the first page is in, the second and third are
    asked for together, so the provider answers the third while the plugin still maps the second.
    The sandbox holds the second page's answer until the third page's request has arrived: a reader
    that asks for a page only once the one before it is mapped never sends it. Nothing is asked
    twice or past the last page, the pages come in order, and the read keeps within the slots it
    needs (two requests and the one taken ahead)."""
    connection = await make_connection(workspace.id)
    for n in range(CUSTOMERS):
        acme.seed("customer", {"name": f"After next {n:03d}", "email": f"after{n}@example.com"})
    faults = acme.sandbox.faults
    # Consumed in order by the requests as they arrive: the first page passes, the next one to come
    # is held, and the one after it is only marked.
    acme.sandbox.add_fault("slow", path_prefix=CUSTOMERS_PATH)
    held = acme.sandbox.add_fault("hold", path_prefix=CUSTOMERS_PATH)
    then = acme.sandbox.add_fault("slow", path_prefix=CUSTOMERS_PATH)

    names: list[str] = []
    try:
        async with aclosing(read_pages(connection.id, "import_customers", ahead=True)) as pages:
            async for page in pages:
                if not names:
                    await until(lambda: held.triggered == 1 and then.triggered == 1,
                                "the third page asked for while the second page's answer is held")
                    assert (await limiter().usage(limiter_key(connection))).in_flight <= IN_FLIGHT + 1
                    faults.release(held.id)
                names.extend(record.name for record in page.records)
    finally:
        faults.clear()
    assert names == [f"After next {n:03d}" for n in range(CUSTOMERS)]
    assert asked(acme) == 4  # nothing asked twice, nothing past the last page


async def test_two_pages_in_flight_when_the_token_expires_both_come_through(acme, workspace):
    """Both calls of a read that asks for two pages at once meet a 401: each is retried once through
    a session with a fresh token (one call opens it, the other uses it, and neither closes a session
    the other is using), the connection stays connected and both pages come whole."""
    connection = await make_connection(workspace.id)
    for n in range(CUSTOMERS):
        acme.seed("customer", {"name": f"Refreshed {n:03d}", "email": f"refreshed{n}@example.com"})
    async with ReadSession(connection.id, grant_ahead=True) as read:
        first = await read.call("import_customers", cursor=None)
        acme.sandbox.expire_access_tokens()
        second, third = await asyncio.gather(read.call("import_customers", cursor=first.next_cursor),
                                             read.call("import_customers", cursor=first.after_next))
    assert [r.name for r in second.records + third.records] == [f"Refreshed {n:03d}" for n in range(100, 300)]
    assert third.next_cursor == second.after_next
    row = await Connection.objects().where(Connection.id == connection.id).first()
    assert row.status == ConnectionStatus.connected


async def test_an_import_killed_mid_read_resumes_at_its_checkpoint_and_duplicates_nothing(acme, workspace):
    connection = await make_connection(workspace.id)
    for n in range(GATHERED):
        acme.seed("customer", {"name": f"Resumed {n:04d}", "email": f"resumed{n}@example.com"})
    queued = await jobs.enqueue(RunKind.import_customers, workspace_id=workspace.id, connection_id=connection.id)

    async def committed() -> bool:
        run = await SyncRun.objects().where(SyncRun.id == queued.id).first()
        return bool(jobs.loads(run.checkpoint).get("cursor"))

    worker = asyncio.create_task(jobs.execute(queued.id, owner="killed-worker"))
    for _ in range(3000):
        if await committed():
            break
        await asyncio.sleep(0.01)
    acme.sandbox.add_fault("hold", path_prefix=CUSTOMERS_PATH)  # a later page's answer never comes
    worker.cancel()  # the worker dies mid-read: a page being applied is rolled back, nothing else runs
    with pytest.raises(asyncio.CancelledError):
        await worker
    before = await Customer.count().where(Customer.workspace == workspace.id)
    assert 0 < before < GATHERED

    acme.sandbox.faults.clear()
    await SyncRun.update({SyncRun.lease_expires_at: utcnow() - timedelta(seconds=1)}).where(SyncRun.id == queued.id)
    assert await jobs.execute(queued.id, owner="next-worker") == RunState.done

    names = [row["name"] for row in await Customer.select(Customer.name).where(Customer.workspace == workspace.id)]
    assert sorted(names) == [f"Resumed {n:04d}" for n in range(GATHERED)]
    links = await ExternalLink.select(ExternalLink.remote_id).where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.customer))
    assert len(links) == len({link["remote_id"] for link in links}) == GATHERED
    created = await RunRecord.count().where((RunRecord.run == queued.id) & (RunRecord.outcome == "created"))
    assert created == GATHERED  # the pages committed before the kill were not applied again
