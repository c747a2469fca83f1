"""What runs beside the HTTP server: the database pool, and in the embedded default the
Dramatiq worker and the scheduler, all started and stopped with the app's lifespan."""

from __future__ import annotations

import logging
from typing import Any

from ledgerbridge import db, jobs
from ledgerbridge.scheduler import make_scheduler
from ledgerbridge.settings import get_settings
from ledgerbridge.sync import run_handlers

log = logging.getLogger(__name__)
_running: dict[str, Any] = {}


async def start(app_state: Any = None) -> None:
    settings = get_settings()
    await db.ensure_pool()
    jobs.install_handlers(run_handlers())  # this process runs jobs (embedded) or checks what runs can do
    # Lazy: importing the worker builds the broker from the settings, which are final only now.
    from ledgerbridge import worker

    if settings.embedded_broker:
        _running["worker"] = worker.start_embedded_worker(settings.worker_threads)
        scheduler = make_scheduler()
        scheduler.start()
        _running["scheduler"] = scheduler
        requeued = await jobs.requeue_all_queued()
        if requeued:
            log.info("picked up %d unfinished runs from before the restart", len(requeued))
        await jobs.sweep()


async def stop() -> None:
    scheduler = _running.pop("scheduler", None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    embedded = _running.pop("worker", None)
    if embedded is not None:
        embedded.stop(timeout=10_000)
    await db.close_pool()
