"""Cancelling a sync run from Sync history: confirmed first, then the run shows as cancelled and never runs."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from ledgerbridge import jobs
from ledgerbridge.tables import RunKind, RunState, SyncRun

from tests.conftest import Tenant, make_connection
from tests.web.conftest import UI


async def _state(run_id: int) -> str:
    return (await SyncRun.select(SyncRun.state).where(SyncRun.id == run_id).first())["state"]


async def test_a_queued_run_is_cancelled_from_the_list_after_confirming(ui: UI, tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    run = await jobs.enqueue(RunKind.import_customers, workspace_id=tenant.workspace_id,
                             connection_id=connection.id, trigger=f"user:{tenant.owner_id}")
    page = await ui.get("/sync-history")
    link = f"/sync-history/{run.id}/cancel?next={quote('/sync-history', safe='/')}"
    assert f'href="{link}"' in page
    confirm = await ui.get(link)
    assert f'action="/sync-history/{run.id}/cancel"' in confirm and "has not started yet" in confirm
    assert 'name="next" value="/sync-history"' in confirm and 'name="_csrf_token"' in confirm
    assert await _state(run.id) == RunState.queued  # the confirmation alone changes nothing

    response = await ui.post(f"/sync-history/{run.id}/cancel", {"next": "/sync-history"})
    page = await ui.follow(response)
    assert response.headers["location"] == "/sync-history" and "cancelled before it started" in page
    assert await _state(run.id) == RunState.cancelled
    assert "run-cancelled" in page and f"/sync-history/{run.id}/cancel" not in page
    assert await jobs.execute(run.id) is None  # the worker finds nothing to do
    run_page = await ui.get(f"/sync-history/{run.id}")
    assert "Cancel this run" not in run_page and f'action="/sync-history/{run.id}/retry"' in run_page


async def test_a_running_run_is_cancelled_from_its_page_and_stops_at_its_checkpoint(ui: UI, tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    run = await jobs.enqueue(RunKind.import_customers, workspace_id=tenant.workspace_id,
                             connection_id=connection.id, trigger=f"user:{tenant.owner_id}")
    claimed = await jobs.claim(run.id)
    assert claimed is not None
    page = await ui.get(f"/sync-history/{run.id}")
    assert f'href="/sync-history/{run.id}/cancel"' in page and "Cancel this run" in page
    assert "stops at its next checkpoint" in await ui.get(f"/sync-history/{run.id}/cancel")
    response = await ui.post(f"/sync-history/{run.id}/cancel")
    assert response.headers["location"] == f"/sync-history/{run.id}"
    assert "next checkpoint" in await ui.follow(response)
    assert await _state(run.id) == RunState.cancelled
    with pytest.raises(jobs.LeaseLost):
        await jobs.RunContext(run=claimed).save(progress_done=1)
    assert "Cancelled after it had started" in await ui.get(f"/sync-history/{run.id}")


async def test_a_finished_run_cannot_be_cancelled(ui: UI, tenant: Tenant) -> None:
    connection = await make_connection(tenant.workspace_id)
    run = await jobs.enqueue(RunKind.import_customers, workspace_id=tenant.workspace_id,
                             connection_id=connection.id, trigger=f"user:{tenant.owner_id}")
    await SyncRun.update({SyncRun.state: RunState.done}).where(SyncRun.id == run.id)
    assert "Cancel" not in await ui.get(f"/sync-history/{run.id}")
    response = await ui.client.get(f"/sync-history/{run.id}/cancel", follow_redirects=False)
    assert "already done" in await ui.follow(response)
    response = await ui.post(f"/sync-history/{run.id}/cancel", {"next": "https://evil.example/"})
    assert response.headers["location"] == f"/sync-history/{run.id}"
    assert "only queued or running" in await ui.follow(response)
    assert await _state(run.id) == RunState.done
    await ui.get("/sync-history/999999/cancel", status=404)
