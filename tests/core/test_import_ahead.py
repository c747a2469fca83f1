"""An import reads ahead: while a page is applied (its write transaction open, SQLite's write lock
held), the provider is already answering the pages after it; and an import killed mid-read resumes
at its checkpoint with every customer once. On SQLite and PostgreSQL, against Acme's sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from datetime import timedelta

import pytest
from ledgerbridge import jobs
from ledgerbridge.db import write_transaction
from ledgerbridge.sync.paging import read_pages
from ledgerbridge.tables import (
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


async def test_an_import_killed_mid_read_resumes_at_its_checkpoint_and_duplicates_nothing(acme, workspace):
    connection = await make_connection(workspace.id)
    for n in range(CUSTOMERS):
        acme.seed("customer", {"name": f"Resumed {n:03d}", "email": f"resumed{n}@example.com"})
    queued = await jobs.enqueue(RunKind.import_customers, workspace_id=workspace.id, connection_id=connection.id)

    worker = asyncio.create_task(jobs.execute(queued.id, owner="killed-worker"))
    await until(lambda: asked(acme) >= 2, "the second page asked for")
    acme.sandbox.add_fault("hold", path_prefix=CUSTOMERS_PATH)  # a later page's answer never comes
    committed: list[str] = []

    async def checkpointed() -> bool:
        run = await SyncRun.objects().where(SyncRun.id == queued.id).first()
        committed[:] = [str(jobs.loads(run.checkpoint).get("cursor") or "")]
        return bool(committed[0])

    for _ in range(2000):
        if await checkpointed():
            break
        await asyncio.sleep(0.01)
    assert committed[0], "no page was committed"
    worker.cancel()  # the worker dies mid-read: a page being applied is rolled back, nothing else runs
    with pytest.raises(asyncio.CancelledError):
        await worker
    before = await Customer.count().where(Customer.workspace == workspace.id)
    assert 0 < before < CUSTOMERS

    acme.sandbox.faults.clear()
    await SyncRun.update({SyncRun.lease_expires_at: utcnow() - timedelta(seconds=1)}).where(SyncRun.id == queued.id)
    assert await jobs.execute(queued.id, owner="next-worker") == RunState.done

    names = [row["name"] for row in await Customer.select(Customer.name).where(Customer.workspace == workspace.id)]
    assert sorted(names) == [f"Resumed {n:03d}" for n in range(CUSTOMERS)]
    links = await ExternalLink.select(ExternalLink.remote_id).where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.customer))
    assert len(links) == len({link["remote_id"] for link in links}) == CUSTOMERS
    created = await RunRecord.count().where((RunRecord.run == queued.id) & (RunRecord.outcome == "created"))
    assert created == CUSTOMERS  # the pages committed before the kill were not applied again
