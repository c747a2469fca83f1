"""Durable jobs on both engines: recorded with their cause, claimed once, swept when abandoned."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

import pytest
from ledgerbridge import jobs
from ledgerbridge.sync import run_handlers
from ledgerbridge.tables import RunKind, RunState, SyncIssue, SyncRun, Workspace, utcnow


@pytest.fixture
async def ws(any_database):
    workspace = Workspace(name="W", slug="w")
    await workspace.save()
    return workspace


@pytest.fixture
def sent(monkeypatch):
    """What reached the broker (run id, delay)."""
    messages: list[tuple[int, float]] = []
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: messages.append((run_id, delay)))
    return messages


async def test_run_is_queued_only_after_its_transaction_commits(ws, sent):
    with pytest.raises(RuntimeError):
        async with jobs.transaction() as tx:
            await tx.record(RunKind.poll_status, workspace_id=ws.id)
            raise RuntimeError("the change that caused it failed")
    assert await SyncRun.count() == 0 and sent == []
    async with jobs.transaction() as tx:
        run = await tx.record(RunKind.poll_status, workspace_id=ws.id)
        assert sent == []  # not before commit
    assert sent == [(run.id, 0.0)]


async def test_dedupe_key_reuses_the_active_run(ws, sent):
    first = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id, dedupe_key="poll:1")
    second = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id, dedupe_key="poll:1")
    assert first.id == second.id
    claimed = await jobs.claim(first.id, "w1")
    await jobs.finish(claimed.id, RunState.done, owner="w1")
    third = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id, dedupe_key="poll:1")
    assert third.id != first.id


async def test_only_one_worker_claims_a_run(ws, sent):
    run = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id)
    results = await asyncio.gather(*(jobs.claim(run.id, f"worker-{i}") for i in range(8)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].state == RunState.running and winners[0].attempts == 1


async def test_a_lapsed_lease_is_swept_and_resumed_by_another_worker(ws, sent):
    run = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id)
    assert await jobs.claim(run.id, "dead-worker")
    assert await jobs.claim(run.id, "other") is None  # lease still valid
    await SyncRun.update({SyncRun.lease_expires_at: utcnow() - timedelta(seconds=1)}).where(SyncRun.id == run.id)
    sent.clear()
    assert run.id in await jobs.sweep()
    assert sent == [(run.id, 0.0)]
    resumed = await jobs.claim(run.id, "other")
    assert resumed.attempts == 2 and resumed.lease_owner == "other"
    assert not await jobs.renew(run.id, "dead-worker")  # the old owner can no longer extend it
    assert not await jobs.finish(run.id, RunState.done, owner="dead-worker")


async def test_requeue_waits_until_not_before(ws, sent):
    run = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id)
    await jobs.claim(run.id, "w")
    await jobs.requeue(run.id, delay=30, error="rate limited", owner="w")
    assert sent[-1] == (run.id, 30)
    assert await jobs.claim(run.id, "w2") is None  # not due yet
    await SyncRun.update({SyncRun.not_before: utcnow() - timedelta(seconds=1)}).where(SyncRun.id == run.id)
    assert await jobs.claim(run.id, "w2") is not None


async def test_cancel_stops_a_running_job_at_its_next_checkpoint(ws, sent):
    run = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id)
    claimed = await jobs.claim(run.id, "w")
    context = jobs.RunContext(run=claimed, owner="w")
    assert await jobs.cancel(run.id)
    with pytest.raises(jobs.LeaseLost):
        await context.save(progress_done=1)


async def test_restart_resends_every_queued_run(ws, sent):
    runs = [await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id) for _ in range(3)]
    sent.clear()
    assert sorted(await jobs.requeue_all_queued()) == sorted(r.id for r in runs)
    assert sorted(run_id for run_id, _ in sent) == sorted(r.id for r in runs)


async def test_a_run_cancelled_while_its_provider_throttles_stays_cancelled(ws, monkeypatch):
    from ledgerbridge.errors import RateLimited

    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)

    async def throttled_after_cancel(ctx: jobs.RunContext) -> None:
        await jobs.cancel(ctx.run.id)  # a person pressed Cancel while the call was out
        raise RateLimited("slow down", retry_after=30)

    handlers = jobs.RunHandlers({RunKind.refresh_tokens: throttled_after_cancel})
    run = await jobs.enqueue(RunKind.refresh_tokens, workspace_id=ws.id)
    assert await jobs.execute(run.id, owner="w", handlers=handlers) is None  # no exception escapes to the broker
    assert (await SyncRun.objects().where(SyncRun.id == run.id).first()).state == RunState.cancelled


# --------------------------------------------------------------------------- the handlers handed to the queue


@pytest.fixture
def fresh_queue(monkeypatch):
    """An empty handler table, as in a process nothing has started yet; restored afterwards."""
    monkeypatch.setattr(jobs, "HANDLERS", jobs.RunHandlers())
    monkeypatch.setattr(jobs, "_dispatcher", lambda run_id, delay: None)


async def test_a_run_of_a_kind_no_handler_takes_fails_clearly(ws, fresh_queue):
    run = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id)
    assert await jobs.execute(run.id, owner="w", handlers=jobs.RunHandlers()) == RunState.failed
    row = await SyncRun.objects().where(SyncRun.id == run.id).first()
    assert row.state == RunState.failed and "poll_status" in row.error and row.finished_at is not None
    issue = await SyncIssue.objects().where(SyncIssue.run == run.id).first()
    assert "poll_status" in issue.message and "ledgerbridge worker" in issue.fix


def test_handler_for_an_unknown_kind_raises_a_typed_error():
    with pytest.raises(jobs.UnknownRunKind) as raised:
        jobs.RunHandlers().handler_for("teleport")
    assert "'teleport'" in raised.value.message and raised.value.fix


async def test_the_queue_runs_the_handlers_installed_at_start_up(ws, fresh_queue):
    seen: list[int] = []

    async def refresh(ctx: jobs.RunContext) -> None:
        seen.append(ctx.run.id)
        ctx.count("updated")

    installed = jobs.RunHandlers()
    installed.handles(RunKind.refresh_tokens)(refresh)
    jobs.install_handlers(installed)
    run = await jobs.enqueue(RunKind.refresh_tokens, workspace_id=ws.id)
    assert await jobs.execute(run.id, owner="w") == RunState.done
    assert seen == [run.id]
    assert (await SyncRun.objects().where(SyncRun.id == run.id).first()).updated == 1
    # Installed means exactly these: the engine's other handlers are not slipped in beside them.
    other = await jobs.enqueue(RunKind.poll_status, workspace_id=ws.id)
    assert await jobs.execute(other.id, owner="w") == RunState.failed


def test_the_engine_hands_a_handler_for_every_run_kind(fresh_queue):
    assert set(run_handlers()) == set(RunKind)
    assert jobs.HANDLERS == {}  # building them installs nothing
    assert jobs.installed_handlers() == {}  # a process nothing started runs nothing, and says so


def test_the_job_queue_does_not_import_the_sync_engine():
    code = "import sys, ledgerbridge.jobs; print('ledgerbridge.sync' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
