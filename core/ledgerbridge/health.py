"""Health: `/healthz` (can this deployment do its work? database, broker, live workers) and the per-process
checks behind `ledgerbridge healthcheck --role web|worker|scheduler`, which container health checks run.

Workers and the scheduler serve no HTTP, so their checks look for their own signs of life: a worker's
heartbeat row written from this host, the scheduler's beacon file touched by its own timer.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from litestar import get
from litestar.response import Response

from ledgerbridge.settings import Settings, get_settings
from ledgerbridge.tables import RunState, SyncRun, WorkerHeartbeat, utcnow

WORKER_SEEN_WITHIN = timedelta(seconds=45)
SCHEDULER_BEACON_SECONDS = 10.0
SCHEDULER_SEEN_WITHIN = 60.0
ROLES = ("web", "worker", "scheduler")


async def check() -> tuple[bool, dict[str, Any]]:
    settings = get_settings()
    report: dict[str, Any] = {"mode": "embedded" if settings.embedded_broker else "redis"}
    healthy = True
    try:
        report["queued_runs"] = await SyncRun.count().where(SyncRun.state == RunState.queued)
        report["database"] = "ok"
    except Exception as exc:
        report["database"] = f"error: {exc.__class__.__name__}"
        return False, report
    if settings.embedded_broker:
        report["broker"] = "in-process"
    else:
        try:
            client = aioredis.from_url(settings.broker_url)
            await client.ping()
            await client.aclose()
            report["broker"] = "ok"
        except Exception as exc:
            report["broker"] = f"error: {exc.__class__.__name__}"
            healthy = False
    report["workers"] = await WorkerHeartbeat.count().where(WorkerHeartbeat.seen_at > utcnow() - WORKER_SEEN_WITHIN)
    if report["workers"] == 0:
        report["warning"] = "No worker has been seen in the last 45 seconds; queued jobs will wait."
    return healthy, report


@get("/healthz", include_in_schema=True, tags=["health"], exclude_from_auth=True,
     exclude_from_csrf=True)
async def health_handler() -> Response[dict[str, Any]]:
    healthy, report = await check()
    report["status"] = "ok" if healthy else "error"
    return Response(report, status_code=200 if healthy else 503)


def scheduler_beacon(settings: Settings) -> Path:
    """The file the scheduler touches while its timer runs (inside its own container's data directory)."""
    return settings.data_dir / "scheduler.alive"


def touch_scheduler_beacon() -> None:
    path = scheduler_beacon(get_settings())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def check_web(settings: Settings) -> tuple[bool, str]:
    url = f"http://127.0.0.1:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return False, exc.read().decode()
    except OSError as exc:
        return False, f"{url}: {exc}"


async def check_worker() -> tuple[bool, str]:
    """A worker on this host wrote its heartbeat recently (each worker process writes one)."""
    seen = await WorkerHeartbeat.count().where(
        (WorkerHeartbeat.hostname == socket.gethostname()) & (WorkerHeartbeat.seen_at > utcnow() - WORKER_SEEN_WITHIN)
    )
    return seen > 0, json.dumps({"worker_processes_seen": seen, "host": socket.gethostname()})


def check_scheduler(settings: Settings) -> tuple[bool, str]:
    path = scheduler_beacon(settings)
    if not path.exists():
        return False, f"{path} does not exist: the scheduler has not started its timer"
    age = time.time() - path.stat().st_mtime
    return age < SCHEDULER_SEEN_WITHIN, json.dumps({"beacon_age_seconds": round(age, 1)})
