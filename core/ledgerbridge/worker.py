"""The Dramatiq side of jobs: the broker, the one actor, and the worker's heartbeat.

`LEDGERBRIDGE_BROKER_URL=redis://...` selects Redis: run workers with `ledgerbridge worker` (or
`dramatiq ledgerbridge.worker`) and add workers to scale. Without it, the broker is Dramatiq's
in-memory `StubBroker` and the server runs a Dramatiq worker in its own process; durability then
comes from the `sync_run` rows, which are the source of truth in both modes (see `jobs`).

The actor carries only a run id. Dramatiq's own retries are off: a run that must be retried is
re-queued by `jobs.execute` with its back-off recorded on the row, where the UI can show it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware

from ledgerbridge import db, jobs, logs, metrics
from ledgerbridge.plugins import get_registry
from ledgerbridge.settings import get_settings
from ledgerbridge.sync import run_handlers
from ledgerbridge.tables import WorkerHeartbeat, utcnow

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10.0
QUEUE = "ledgerbridge"
# Set by `ledgerbridge worker` for the processes Dramatiq forks: they set up their own logging here.
WORKER_PROCESS_ENV = "LEDGERBRIDGE_WORKER_PROCESS"


async def beat(mode: str) -> None:
    """Say this worker is alive; /healthz reports workers seen recently."""
    await db.ensure_pool()  # before any query on this loop, so no transaction straddles the pool's birth
    async with db.write_transaction():
        updated = await WorkerHeartbeat.update({WorkerHeartbeat.seen_at: utcnow()}).where(
            WorkerHeartbeat.worker_id == jobs.WORKER_ID
        ).returning(WorkerHeartbeat.id)
        if not updated:
            await WorkerHeartbeat(
                worker_id=jobs.WORKER_ID, mode=mode, hostname=socket.gethostname(), pid=os.getpid(), seen_at=utcnow()
            ).save()


async def forget_self() -> None:
    async with db.write_transaction():
        await WorkerHeartbeat.delete().where(WorkerHeartbeat.worker_id == jobs.WORKER_ID)


class Heartbeat(Middleware):
    """Runs `beat` on the worker's event loop every few seconds while the worker is up."""

    def __init__(self, mode: str):
        self.mode = mode
        self._stop = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.clear()
        threading.Thread(target=self._loop, name="ledgerbridge-heartbeat", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            try:
                loop_thread.run_coroutine(forget_self())
            except Exception:
                log.exception("could not remove this worker's heartbeat")

    def _loop(self) -> None:
        while not self._stop.is_set():
            loop_thread = get_event_loop_thread()
            if loop_thread is not None:
                try:
                    loop_thread.run_coroutine(beat(self.mode))
                except Exception:
                    log.exception("worker heartbeat failed")
            self._stop.wait(HEARTBEAT_SECONDS)


def make_broker(broker_url: str) -> dramatiq.Broker:
    if broker_url:
        broker: dramatiq.Broker = RedisBroker(url=broker_url)
        mode = "redis"
    else:
        broker = StubBroker()
        mode = "embedded"
    broker.add_middleware(AsyncIO())
    broker.add_middleware(Heartbeat(mode))
    if broker_url and os.environ.get(metrics.MULTIPROCESS_ENV):
        # Lazy: the module reads its port and directory from the environment when imported, and makes
        # that directory; only `ledgerbridge worker` sets them, so only its processes import it.
        from dramatiq.middleware.prometheus import Prometheus

        broker.add_middleware(Prometheus())
    return broker


if os.environ.get(WORKER_PROCESS_ENV):
    logs.configure(get_settings())  # stderr is Dramatiq's pipe to the main process by now


broker = make_broker(get_settings().broker_url)
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=6 * 60 * 60 * 1000)
async def run_job(run_id: int) -> None:
    """Claim and execute one sync run; a run someone else holds or finished is a no-op."""
    await db.ensure_pool()
    await jobs.execute(run_id)


def _send(run_id: int, delay: float) -> None:
    run_job.send_with_options(args=(run_id,), delay=int(delay * 1000) if delay > 0 else None)


jobs.set_dispatcher(_send)
# The Dramatiq CLI starts a worker process by importing this module: it is this process's start-up.
jobs.install_handlers(run_handlers())
get_registry()  # load and check the plugins now: a misdeclared one stops the worker here, not mid-run


def start_embedded_worker(threads: int) -> dramatiq.Worker:
    """The in-process worker of the embedded default; the caller stops it on shutdown."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=250)
    worker.start()
    return worker


def worker_argv(processes: int, threads: int, extra: list[str] | None = None) -> list[str]:
    """Arguments for Dramatiq's own CLI, which forks, supervises and restarts worker processes."""
    return [
        "dramatiq",
        "ledgerbridge.worker",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--queues",
        QUEUE,
        "--skip-logging",
        *(extra or []),
    ]
