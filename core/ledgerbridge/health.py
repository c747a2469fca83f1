"""`/healthz`: can this deployment do its work? Database, broker and live workers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
from litestar import get
from litestar.response import Response

from ledgerbridge.settings import get_settings
from ledgerbridge.tables import RunState, SyncRun, WorkerHeartbeat, utcnow

WORKER_SEEN_WITHIN = timedelta(seconds=45)


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
