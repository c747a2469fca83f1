"""Prometheus metrics: what an agency's dashboard and alerts are built from.

Counters and histograms are incremented where things happen (a request ends, a run ends, a provider
answers, a token is refreshed). What lives in the database or the rate limiter (queue depth, age of
the oldest queued run, each connection's remaining allowance) is read when `/metrics` is scraped, so
it is right whichever process did the work.

Processes: `ledgerbridge serve` exposes `/metrics` on its HTTP port. `ledgerbridge worker` forks
several processes; it sets `PROMETHEUS_MULTIPROC_DIR` before they start, so every process writes its
samples to files there and Dramatiq's Prometheus middleware serves their sum (and Dramatiq's own
message metrics) on `LEDGERBRIDGE_WORKER_METRICS_PORT`. prometheus-client picks its storage when it
is first imported, which is why the worker command sets the variable before anything imports this.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from litestar import get
from litestar.response import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from ledgerbridge.tables import Connection, ConnectionStatus, RunState, SyncRun, utcnow

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter("ledgerbridge_http_requests_total", "HTTP requests answered, by route template and status.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("ledgerbridge_http_request_duration_seconds", "Time to answer an HTTP request.",
                         ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
JOBS = Counter("ledgerbridge_jobs_total", "Sync runs that ended an attempt, by kind and outcome "
               "(done, failed, queued: retried later, taken_over: another worker holds it).", ["kind", "outcome"])
JOB_DURATION = Histogram("ledgerbridge_job_duration_seconds", "Time from a run's first start to the end of an "
                         "attempt.", ["kind"], buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600))
RECORDS = Counter("ledgerbridge_records_total", "Records a run exported or imported, by provider, record type and "
                  "outcome (created, updated, linked, skipped, failed).", ["provider", "record_type", "outcome"])
PROVIDER_REQUESTS = Counter("ledgerbridge_provider_requests_total", "HTTP requests sent to providers, by status.",
                            ["provider", "status"])
PROVIDER_RATE_LIMITED = Counter("ledgerbridge_provider_rate_limited_total", "429 answers from providers, "
                                "by connection (provider:tenant).", ["provider", "connection"])
TOKEN_REFRESHES = Counter("ledgerbridge_token_refreshes_total", "Access-token refreshes, by outcome "
                          "(ok, refused: the user must reconnect).", ["provider", "outcome"])
WEBHOOK_DELIVERIES = Counter("ledgerbridge_webhook_deliveries_total", "Webhook deliveries, by provider, "
                             "direction (in, out) and outcome.", ["provider", "direction", "outcome"])

_providers: dict[int, str] = {}  # connection id -> provider key, learned from the calls this process makes


def remember_provider(connection_id: int, provider: str) -> None:
    """Lets `record` label outcomes by provider without a query per record."""
    _providers[connection_id] = provider


def record(connection_id: int | None, record_type: str, outcome: str, amount: int = 1) -> None:
    provider = _providers.get(connection_id or 0, "unknown")
    RECORDS.labels(provider, record_type, str(outcome)).inc(amount)


def job_finished(kind: str, outcome: str, started: datetime | None) -> None:
    JOBS.labels(str(kind), str(outcome)).inc()
    if started is not None:
        JOB_DURATION.labels(str(kind)).observe(max(0.0, (utcnow() - started).total_seconds()))


def provider_answered(limiter_key: str, status: int) -> None:
    provider = limiter_key.split(":", 1)[0]
    PROVIDER_REQUESTS.labels(provider, str(status)).inc()
    if status == 429:
        PROVIDER_RATE_LIMITED.labels(provider, limiter_key).inc()


def token_refreshed(provider: str, outcome: str) -> None:
    TOKEN_REFRESHES.labels(provider, outcome).inc()


def webhook_delivered(provider: str, direction: str, outcome: str) -> None:
    """Webhooks received from providers (direction "in": accepted or refused) and sent to the host app
    ("out", provider "host_app": delivered or failed, per attempt)."""
    WEBHOOK_DELIVERIES.labels(provider, direction, outcome).inc()


def http_metrics(app: Any) -> Any:
    """ASGI middleware: count and time each request under its route template (`/api/v1/invoices/{invoice_id}`),
    never its raw path, so ids do not explode the number of series."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, observe)
        finally:
            route = scope.get("path_template") or "unmatched"
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)

    return middleware


# --------------------------------------------------------------------------- read at scrape time


async def _database_gauges(registry: CollectorRegistry) -> None:
    depth = Gauge("ledgerbridge_queue_depth", "Sync runs waiting to be worked on.", registry=registry)
    oldest = Gauge("ledgerbridge_queue_oldest_age_seconds", "How long the oldest queued run has waited "
                   "(0 when nothing waits).", registry=registry)
    running = Gauge("ledgerbridge_runs_running", "Sync runs a worker holds now.", registry=registry)
    queued = await SyncRun.select(SyncRun.queued_at).where(SyncRun.state == RunState.queued)
    depth.set(len(queued))
    times = [row["queued_at"] for row in queued if row["queued_at"] is not None]
    oldest.set(max(0.0, (utcnow() - min(times)).total_seconds()) if times else 0.0)
    running.set(await SyncRun.count().where(SyncRun.state == RunState.running))


async def _allowance_gauges(registry: CollectorRegistry) -> None:
    # Lazy: `connections` imports this module (to count provider answers), so importing it here at the top
    # would be a cycle.
    from ledgerbridge import connections

    remaining = Gauge("ledgerbridge_provider_allowance_remaining", "Requests a connection may still send "
                      "in the provider's window.", ["provider", "connection", "window"], registry=registry)
    cooldown = Gauge("ledgerbridge_provider_cooldown_seconds", "Seconds until a rate-limited connection may "
                     "call again.", ["provider", "connection"], registry=registry)
    rows = await Connection.objects().where(Connection.status == ConnectionStatus.connected)
    for connection in rows:
        key = connections.limiter_key(connection)
        try:
            limits = connections.provider_limits(connection.provider)
        except Exception:  # a provider whose plugin is gone: nothing to measure against
            continue
        usage = await connections.limiter().usage(key)
        if limits.per_minute:
            remaining.labels(connection.provider, key, "minute").set(max(0, limits.per_minute - usage.last_minute))
        if limits.per_day:
            remaining.labels(connection.provider, key, "day").set(max(0, limits.per_day - usage.last_day))
        cooldown.labels(connection.provider, key).set(usage.cooldown_seconds)


async def exposition() -> bytes:
    """Everything this deployment knows, in Prometheus's text format."""
    if os.environ.get(MULTIPROCESS_ENV):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    scraped = CollectorRegistry()
    await _database_gauges(scraped)
    await _allowance_gauges(scraped)
    return generate_latest(counted) + generate_latest(scraped)


@get("/metrics", include_in_schema=False, exclude_from_auth=True, exclude_from_csrf=True)
async def metrics_handler() -> Response[bytes]:
    """Prometheus scrapes this; keep it on a private network (it names connections and routes)."""
    return Response(await exposition(), media_type=CONTENT_TYPE_LATEST)
