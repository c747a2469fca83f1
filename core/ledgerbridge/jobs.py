"""Durable jobs: the `SyncRun` row is the job, the broker only carries its id.

The life of a run:

1. `jobs.transaction()` records the run in the same database transaction as the change that
   caused it (an invoice marked sent, a connection made) and hands it to the broker only after
   that transaction commits. A crash in between leaves a queued row, which the sweeper re-queues.
2. A worker *claims* the run with a lease. Only one worker can hold it; a duplicate message, or a
   second worker, finds nothing to claim and moves on. The holder renews the lease while it works.
3. A worker that dies stops renewing; once the lease lapses the sweeper re-queues the run and the
   next worker resumes from the run's checkpoint. Writes to providers were recorded with their
   idempotency keys before they were sent, so the resumed run repeats none of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ledgerbridge import logs, metrics
from ledgerbridge.db import write_transaction
from ledgerbridge.errors import LedgerBridgeError, ProviderError, RateLimited
from ledgerbridge.events.catalogue import Event, EventType, SyncRunFinished
from ledgerbridge.events.outbox import collect_runs, collecting, record_event, stop_collecting
from ledgerbridge.issues import record_run_failure
from ledgerbridge.plugins import get_registry
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import RunKind, RunState, SyncRun, utcnow

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

Dispatcher = Callable[[int, float], None]  # (run id, delay in seconds)
_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatch: Dispatcher | None) -> None:
    """Install how run ids reach workers (the Dramatiq actor's `send`); set by `ledgerbridge.worker`."""
    global _dispatcher
    _dispatcher = dispatch


def dispatch(run_id: int, delay: float = 0.0) -> None:
    if _dispatcher is None:
        # No broker in this process (e.g. a CLI command): the sweeper will queue the run.
        log.info("no broker configured here; run %s waits for the sweeper", run_id)
        return
    _dispatcher(run_id, delay)


def loads(value: Any) -> dict[str, Any]:
    """Piccolo returns JSON columns as text; runs and connections store small objects in them."""
    if isinstance(value, dict):
        return value
    return json.loads(value or "{}")


@dataclass
class JobTransaction:
    """A write transaction that also records runs, and queues them once it has committed."""

    _runs: list[SyncRun] = field(default_factory=list)
    _transaction: Any = None
    _collecting: Any = None
    _nested: bool = False

    async def __aenter__(self) -> JobTransaction:
        self._transaction = write_transaction()
        await self._transaction.__aenter__()
        outer = collecting()
        if outer is not None:  # inside another JobTransaction: its commit is the one that counts
            self._nested, self._runs = True, outer
        self._collecting = collect_runs(self._runs)  # events emitted inside queue their runs here
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        stop_collecting(self._collecting)
        await self._transaction.__aexit__(exc_type, exc, tb)
        if exc_type is None and not self._nested:
            for run in self._runs:
                dispatch(run.id)

    async def record(
        self,
        kind: RunKind,
        *,
        workspace_id: int,
        connection_id: int | None = None,
        params: dict[str, Any] | None = None,
        trigger: str = "",
        dedupe_key: str | None = None,
        progress_total: int = 0,
    ) -> SyncRun:
        """Record a queued run. With `dedupe_key`, an active run with the same key is reused."""
        if dedupe_key is not None:
            existing = await SyncRun.objects().where(SyncRun.dedupe_key == dedupe_key).first()
            if existing is not None:
                return existing
        now = utcnow()
        run = SyncRun(
            workspace=workspace_id,
            connection=connection_id,
            kind=kind,
            trigger=trigger,
            params=json.dumps(params or {}),
            dedupe_key=dedupe_key,
            state=RunState.queued,
            progress_total=progress_total,
            created_at=now,
            queued_at=now,
        )
        await run.save()
        self._runs.append(run)
        return run

    async def emit(self, event: Event) -> None:
        """Record `event` with this transaction's change; its deliveries and emails are queued
        after commit, and nothing of it remains if the transaction rolls back."""
        recorded = await record_event(event)
        self.dispatch_after_commit(*recorded.runs)

    def dispatch_after_commit(self, *runs: SyncRun) -> None:
        """Hand these runs (recorded in this transaction, or waiting already) to the broker on commit."""
        self._runs.extend(run for run in runs if run not in self._runs)


def transaction() -> JobTransaction:
    return JobTransaction()


async def enqueue(kind: RunKind, **kwargs: Any) -> SyncRun:
    """Record and queue a run that no other change has to commit with."""
    async with transaction() as tx:
        return await tx.record(kind, **kwargs)


# --------------------------------------------------------------------------- claiming


def _lease() -> timedelta:
    return timedelta(seconds=get_settings().job_lease_seconds)


async def claim(run_id: int, owner: str = WORKER_ID) -> SyncRun | None:
    """Take the run if it is queued and due, or running under a lapsed lease; else None."""
    now = utcnow()
    async with write_transaction():
        claimable = (SyncRun.id == run_id) & (
            (
                (SyncRun.state == RunState.queued)
                & (SyncRun.not_before.is_null() | (SyncRun.not_before <= now))
            )
            | ((SyncRun.state == RunState.running) & (SyncRun.lease_expires_at < now))
        )
        taken = await SyncRun.update(
            {
                SyncRun.state: RunState.running,
                SyncRun.lease_owner: owner,
                SyncRun.lease_expires_at: now + _lease(),
                SyncRun.attempts: SyncRun.attempts + 1,
                SyncRun.claims: SyncRun.claims + 1,
                SyncRun.not_before: None,
            }
        ).where(claimable).returning(SyncRun.id)
        if not taken:
            return None
        await SyncRun.update({SyncRun.started_at: now}).where(
            (SyncRun.id == run_id) & SyncRun.started_at.is_null()
        )
    return await SyncRun.objects().where(SyncRun.id == run_id).first()


async def renew(run_id: int, owner: str = WORKER_ID) -> bool:
    """Extend the lease; False means another worker has taken the run over."""
    async with write_transaction():
        kept = await SyncRun.update({SyncRun.lease_expires_at: utcnow() + _lease()}).where(
            (SyncRun.id == run_id) & (SyncRun.lease_owner == owner) & (SyncRun.state == RunState.running)
        ).returning(SyncRun.id)
    return bool(kept)


async def finish(run_id: int, state: RunState, error: str = "", owner: str = WORKER_ID) -> bool:
    async with write_transaction():
        done = await SyncRun.update(
            {
                SyncRun.state: state,
                SyncRun.error: error,
                SyncRun.finished_at: utcnow(),
                SyncRun.lease_owner: "",
                SyncRun.lease_expires_at: None,
                SyncRun.dedupe_key: None,
            }
        ).where((SyncRun.id == run_id) & (SyncRun.lease_owner == owner)).returning(SyncRun.id)
    return bool(done)


async def requeue(run_id: int, *, delay: float, error: str = "", owner: str = WORKER_ID,
                  waiting: bool = False) -> None:
    """Give the run back to the queue, due after `delay` seconds (rate limits, back-off).

    `waiting`: the run stops only because the provider is not answering for now; it gives its
    attempt back, since attempts count crashes and lost leases, not a provider's bad minutes.
    """
    now = utcnow()
    values: dict[Any, Any] = {
        SyncRun.state: RunState.queued,
        SyncRun.lease_owner: "",
        SyncRun.lease_expires_at: None,
        SyncRun.not_before: now + timedelta(seconds=delay),
        SyncRun.queued_at: now,
        SyncRun.error: error,
    }
    if waiting:
        values[SyncRun.attempts] = SyncRun.attempts - 1
    async with write_transaction():
        await SyncRun.update(values).where((SyncRun.id == run_id) & (SyncRun.lease_owner == owner))
    dispatch(run_id, delay)


async def cancel(run_id: int) -> bool:
    """Cancel a queued run now, or a running one at its next checkpoint."""
    async with write_transaction():
        changed = await SyncRun.update(
            {SyncRun.state: RunState.cancelled, SyncRun.finished_at: utcnow(), SyncRun.dedupe_key: None}
        ).where((SyncRun.id == run_id) & SyncRun.state.is_in([RunState.queued, RunState.running])).returning(
            SyncRun.id
        )
    return bool(changed)


async def sweep() -> list[int]:
    """Re-queue runs nobody is working on: lapsed leases, and queued runs whose message was lost.

    Safe to run anywhere and as often as wanted: a duplicate message is a claim that fails.
    """
    now = utcnow()
    stale_queue = now - _lease()
    async with write_transaction():
        lapsed = await SyncRun.update(
            {SyncRun.state: RunState.queued, SyncRun.lease_owner: "", SyncRun.queued_at: now}
        ).where((SyncRun.state == RunState.running) & (SyncRun.lease_expires_at < now)).returning(SyncRun.id)
        waiting = await SyncRun.update({SyncRun.queued_at: now}).where(
            (SyncRun.state == RunState.queued)
            & (SyncRun.queued_at < stale_queue)
            & (SyncRun.not_before.is_null() | (SyncRun.not_before <= now))
        ).returning(SyncRun.id)
    ids = sorted({row["id"] for row in [*lapsed, *waiting]})
    for run_id in ids:
        dispatch(run_id)
    if lapsed:
        log.warning("re-queued runs whose worker stopped: %s", [row["id"] for row in lapsed])
    return ids


async def requeue_all_queued() -> list[int]:
    """At embedded start-up: the in-memory queue is empty, so every queued run is re-sent."""
    rows = await SyncRun.select(SyncRun.id, SyncRun.not_before).where(SyncRun.state == RunState.queued)
    now = utcnow()
    for row in rows:
        delay = max(0.0, (row["not_before"] - now).total_seconds()) if row["not_before"] else 0.0
        dispatch(row["id"], delay)
    return [row["id"] for row in rows]


# --------------------------------------------------------------------------- running


class LeaseLost(Exception):
    """Another worker took this run over; stop before writing anything more."""


@dataclass
class RunContext:
    """What a job handler gets: its run, and the bookkeeping every handler needs."""

    run: SyncRun
    owner: str = WORKER_ID
    counts: dict[str, int] = field(default_factory=dict)
    lease_lost: bool = False

    @property
    def params(self) -> dict[str, Any]:
        return loads(self.run.params)

    @property
    def checkpoint(self) -> dict[str, Any]:
        return loads(self.run.checkpoint)

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    async def save(self, *, checkpoint: dict[str, Any] | None = None, progress_done: int | None = None,
                   progress_total: int | None = None) -> None:
        """Persist counts, progress and the resume point; also the moment to notice cancellation."""
        values: dict[Any, Any] = {}
        for name in ("seen", "created", "updated", "linked", "skipped", "failed"):
            if name in self.counts:
                values[getattr(SyncRun, name)] = getattr(SyncRun, name) + self.counts[name]
        self.counts.clear()
        if checkpoint is not None:
            values[SyncRun.checkpoint] = self.run.checkpoint = json.dumps(checkpoint)
        if progress_done is not None:
            values[SyncRun.progress_done] = progress_done
        if progress_total is not None:
            values[SyncRun.progress_total] = progress_total
        if values:
            async with write_transaction():
                await SyncRun.update(values).where(SyncRun.id == self.run.id)
        await self.ensure_lease()

    async def ensure_lease(self) -> None:
        """Raise `LeaseLost` if the run was taken over or cancelled; call before each outbound write."""
        row = await SyncRun.select(SyncRun.state, SyncRun.lease_owner).where(SyncRun.id == self.run.id).first()
        if row is None or row["state"] != RunState.running or row["lease_owner"] != self.owner:
            self.lease_lost = True
            raise LeaseLost(f"run {self.run.id} is no longer ours")


Handler = Callable[[RunContext], Awaitable[None]]


class UnknownRunKind(LedgerBridgeError):
    """A run whose kind no installed handler takes: the worker was started without the engine's
    handlers, or runs an older version than the process that queued the run."""

    code = "internal_error"


class RunHandlers(dict[str, Handler]):
    """Which coroutine runs each kind of run.

    The queue knows runs, not what they do: the sync engine builds one of these
    (`ledgerbridge.sync.run_handlers()`) and whoever starts a worker hands it to the queue with
    `install_handlers`, so this module never imports the engine that imports it.
    """

    def handles(self, *kinds: RunKind) -> Callable[[Handler], Handler]:
        """Register a coroutine as the handler for run kinds."""

        def register(handler: Handler) -> Handler:
            for kind in kinds:
                self[kind] = handler
            return handler

        return register

    def handler_for(self, kind: str) -> Handler:
        try:
            return self[kind]
        except KeyError:
            raise UnknownRunKind(
                f"No handler for runs of kind {kind!r} in this worker.",
                fix="Start workers with `ledgerbridge worker` (or `serve`), which install the sync engine's "
                "handlers, and run the same LedgerBridge version everywhere.",
            ) from None


# What this process's workers run: filled by `install_handlers` at start-up.
HANDLERS = RunHandlers()


def install_handlers(handlers: Mapping[str, Handler]) -> None:
    """Hand the queue the handlers its workers run; called by whoever starts a worker."""
    HANDLERS.clear()
    HANDLERS.update(handlers)


def installed_handlers() -> RunHandlers:
    """The handlers installed at start-up. Nothing installed means every run fails with
    `UnknownRunKind`, which names the fix: a process must be started as a worker to run jobs."""
    return HANDLERS


async def _keep_lease(run_id: int, owner: str, every: float, lost: asyncio.Event) -> None:
    while True:
        await asyncio.sleep(every)
        if not await renew(run_id, owner):
            lost.set()
            return


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended, before anything about it is written: `record_outcome` writes it."""

    state: RunState
    error: str = ""
    retry_in: float | None = None  # seconds; set when the run goes back to the queue
    failure: LedgerBridgeError | None = None  # becomes an issue on the connection
    waiting: bool = False  # queued again for a provider's transient trouble: the attempt is given back


async def execute(run_id: int, owner: str = WORKER_ID,
                  handlers: Mapping[str, Handler] | None = None) -> RunState | None:
    """Claim and run one job to its end; what the broker's actor calls. None: nothing to do.

    `handlers` defaults to those installed in this process (`install_handlers`).
    """
    logs.RUN_ID.set(run_id)  # every line this task writes from here on carries the run's id
    run = await claim(run_id, owner)
    if run is None:
        return None
    known = RunHandlers(handlers) if handlers is not None else installed_handlers()
    context = RunContext(run=run, owner=owner)
    lost = asyncio.Event()
    keeper = asyncio.create_task(_keep_lease(run.id, owner, get_settings().job_lease_seconds / 3, lost))
    try:
        outcome = await _attempt(known, context)
    except LeaseLost:
        log.warning("run %s was taken over by another worker; stopping", run.id)
        metrics.job_finished(run.kind, "taken_over", run.started_at)
        return None
    finally:
        keeper.cancel()
    return await record_outcome(context, outcome)


async def _attempt(handlers: RunHandlers, context: RunContext) -> Outcome:
    """Run the handler and say how it ended; `LeaseLost` escapes (the run is not ours to record)."""
    run = context.run
    try:
        await handlers.handler_for(run.kind)(context)
        return Outcome(RunState.done)
    except LeaseLost:
        raise
    except RateLimited as exc:
        return _waiting(exc, exc.retry_after)
    except ProviderError as exc:
        if exc.retryable:  # the provider's trouble, not a person's: wait and resume, never fail for it
            return _waiting(exc, min(backoff(max(run.claims - run.attempts + 1, 1)), LONGEST_WAIT))
        return Outcome(RunState.failed, exc.message, failure=exc)
    except LedgerBridgeError as exc:
        log.warning("run %s failed: %s (%s)", run.id, exc.message, exc.code)
        return Outcome(RunState.failed, exc.message, failure=exc)
    except Exception as exc:
        log.exception("run %s failed", run.id)
        unexpected = LedgerBridgeError(f"Unexpected error: {exc.__class__.__name__}: {exc}")
        return Outcome(RunState.failed, str(exc), failure=unexpected)


#: A waiting run tries again at least this often, however long its provider's trouble lasts.
LONGEST_WAIT = 300.0


def _waiting(exc: ProviderError, delay: float) -> Outcome:
    """A run that met more transient trouble than it retries in place: queued again, with its
    state and next try in its message."""
    next_try = (utcnow() + timedelta(seconds=delay)).strftime("%H:%M:%S UTC")
    return Outcome(RunState.queued, f"Waiting: {exc.message} Next try at {next_try}.", retry_in=delay,
                   waiting=True)


async def record_outcome(context: RunContext, outcome: Outcome) -> RunState | None:
    """The one place a run's end is written: its counts, its state and finish time, the issue a
    failure raises, and the `sync_run_finished` notification. None: the run was cancelled or
    taken over meanwhile, and is left as it is."""
    run = context.run
    metrics.job_finished(run.kind, outcome.state, run.started_at)
    log.info("run %s (%s) ended: %s", run.id, run.kind, outcome.state, extra={"kind": str(run.kind),
             "state": str(outcome.state), "counts": dict(context.counts)})
    counted = isinstance(outcome.failure, ProviderError) or outcome.failure is None
    if counted and not await _save_counts(context):
        return None
    if outcome.retry_in is not None:
        await requeue(run.id, delay=outcome.retry_in, error=outcome.error, owner=context.owner,
                      waiting=outcome.waiting)
        return RunState.queued
    if outcome.failure is not None:
        await record_run_failure(run, outcome.failure)
    async with transaction() as tx:
        if await finish(run.id, outcome.state, error=outcome.error, owner=context.owner):
            await _emit_finished(tx, run.id)
    await notify_finished(run.id)
    return outcome.state


# Runs that carry events and emails themselves: announcing them would announce forever.
QUIET_KINDS = (RunKind.deliver_webhooks, RunKind.send_notices)
COUNTS = ("seen", "created", "updated", "linked", "skipped", "failed")


async def _emit_finished(tx: JobTransaction, run_id: int) -> None:
    run = await SyncRun.objects().where(SyncRun.id == run_id).first()
    if run is None or run.kind in QUIET_KINDS:
        return
    await tx.emit(Event(EventType.sync_run_finished, run.workspace, SyncRunFinished(
        run_id=run.id, kind=run.kind, state=run.state, connection_id=run.connection,  # type: ignore[arg-type]
        counts={name: getattr(run, name) for name in COUNTS}, error=run.error,
    )))


async def _save_counts(context: RunContext) -> bool:
    """Keep what the attempt counted; False when the run was cancelled or taken over meanwhile."""
    try:
        await context.save()
    except LeaseLost:
        log.warning("run %s was cancelled or taken over while ending; leaving it as it is", context.run.id)
        return False
    return True


def backoff(attempts: int) -> float:
    """Seconds before retry `attempts`: 5 s doubling to at most 30 minutes."""
    return float(min(5 * 2 ** max(attempts - 1, 0), 1800))


async def notify_finished(run_id: int) -> None:
    """Tell plugins a run ended, with its counts as stored."""
    run = await SyncRun.objects().where(SyncRun.id == run_id).first()
    if run is None:
        return
    counts = {name: getattr(run, name) for name in ("seen", "created", "updated", "linked", "skipped", "failed")}
    await get_registry().notify(
        "sync_run_finished", workspace_id=run.workspace, run_id=run.id, kind=run.kind, state=run.state, counts=counts
    )
