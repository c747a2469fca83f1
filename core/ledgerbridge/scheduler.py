"""Periodic work, scheduled by APScheduler: the sweeper, status polling, re-reading what the books
hold (customers, items, accounts, tax rates) and token keep-alive.

Run exactly one scheduler per deployment (`ledgerbridge scheduler`, or inside `ledgerbridge serve`
in the embedded default). Even two would do no harm: every job it creates carries a dedupe key,
and the sweeper only re-sends ids, whose claims are atomic.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ledgerbridge import audit, db, jobs, schema
from ledgerbridge.events import outbox
from ledgerbridge.health import SCHEDULER_BEACON_SECONDS, touch_scheduler_beacon
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection, ConnectionStatus, RunKind, utcnow

log = logging.getLogger(__name__)
KEEP_ALIVE_WITHIN = timedelta(days=14)


async def schedule_polls() -> list[int]:
    """One status poll per connected connection, unless one is already queued or running."""
    return await _one_per_connection(RunKind.poll_status, "poll")


async def schedule_reference_reads() -> list[int]:
    """Re-read customers, items, income accounts and tax rates from every connected connection.

    Each run continues from the connection's change cursors, so it costs what the provider's cheapest
    change feed costs (QuickBooks CDC, Xero If-Modified-Since, FreshBooks updated_since); webhooks
    still bring changes sooner where the provider sends them.
    """
    return await _one_per_connection(RunKind.import_all, "reread")


async def _one_per_connection(kind: RunKind, dedupe: str) -> list[int]:
    """A run of `kind` for every connected connection; the dedupe key keeps one pending per connection."""
    rows = await Connection.select(Connection.id, Connection.workspace).where(
        Connection.status == ConnectionStatus.connected
    )
    runs = []
    for row in rows:
        run = await jobs.enqueue(kind, workspace_id=row["workspace"], connection_id=row["id"],
                                 trigger="schedule", dedupe_key=f"{dedupe}:{row['id']}")
        runs.append(run.id)
    return runs


async def keep_tokens_alive() -> list[int]:
    """Refresh tokens that would otherwise expire unused (Xero's lapse after 60 idle days)."""
    soon = utcnow() + KEEP_ALIVE_WITHIN
    rows = await Connection.select(Connection.id, Connection.workspace).where(
        (Connection.status == ConnectionStatus.connected) & (Connection.refresh_expires_at < soon)
    )
    runs = []
    for row in rows:
        run = await jobs.enqueue(RunKind.refresh_tokens, workspace_id=row["workspace"], connection_id=row["id"],
                                 trigger="schedule", dedupe_key=f"tokens:{row['id']}")
        runs.append(run.id)
    return runs


def make_scheduler() -> AsyncIOScheduler:
    settings = get_settings()
    scheduler = AsyncIOScheduler(timezone=UTC)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    scheduler.add_job(jobs.sweep, "interval", seconds=settings.sweep_interval_seconds, id="sweep", **common)
    scheduler.add_job(schedule_polls, "interval", seconds=settings.poll_interval_seconds, id="poll", **common)
    scheduler.add_job(schedule_reference_reads, "interval", minutes=settings.reference_sync_minutes, id="reread",
                      **common)
    scheduler.add_job(keep_tokens_alive, "interval", hours=6, id="tokens", next_run_time=utcnow(), **common)
    scheduler.add_job(outbox.prune, "interval", hours=1, id="event_retention", **common)
    scheduler.add_job(audit.prune, "interval", hours=6, id="audit_retention", **common)
    return scheduler


def run_forever() -> None:
    """The `ledgerbridge scheduler` process: waits for the schema, runs until SIGINT or SIGTERM."""
    # Lazy: importing the worker builds the broker (from the settings) that jobs are sent to.
    from ledgerbridge import worker  # noqa: F401

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await db.ensure_pool()
        await schema.wait_for_migrations()
        scheduler = make_scheduler()
        scheduler.add_job(touch_scheduler_beacon, "interval", seconds=SCHEDULER_BEACON_SECONDS, id="beacon",
                          next_run_time=utcnow(), max_instances=1, coalesce=True)
        scheduler.start()
        await jobs.sweep()
        log.info("scheduler running")
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            await db.close_pool()
        log.info("scheduler stopped")

    asyncio.run(main())
