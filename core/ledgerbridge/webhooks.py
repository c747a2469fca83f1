"""Receiving provider webhooks: verify the signature, then queue the reads the events call for.

A webhook body is a hint, not data: events only name what changed, and the core reads the record
through the normal import and poll jobs. That keeps one code path for changes, whether they
arrive by webhook or by the periodic poll that backs webhooks up when deliveries are missed.
Registered as a built-in plugin, through the same `route_handlers` hook as every other plugin.
"""

from __future__ import annotations

import hashlib
import time

from litestar import Request, post
from litestar.params import FromPath
from litestar.response import Response

from ledgerbridge import jobs, metrics
from ledgerbridge.api.errors import Invalid
from ledgerbridge.db import current_engine
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.plugins import get_registry, hookimpl
from ledgerbridge.provider import WebhookEvent
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection, ConnectionStatus, RateWindow, RunKind

REPLAY_WINDOW_SECONDS = 24 * 3600
IMPORT_FOR = {"customer": RunKind.import_customers, "item": RunKind.import_items,
              "account": RunKind.import_accounts, "tax_rate": RunKind.import_tax_rates}


async def first_delivery(provider: str, body: bytes) -> bool:
    """True the first time this exact body arrives within `REPLAY_WINDOW_SECONDS`; call inside the
    transaction that records its runs, so a delivery whose runs failed to record can come again.

    A captured signed body stays valid forever, so without this anyone holding one could replay it
    at will, each time queuing provider reads against the company's API allowance. Providers retry
    a delivery with the same body, and those retries are rightly dropped too.
    """
    key = f"webhook:{provider}:" + hashlib.sha256(body).hexdigest()[:48]
    now = int(time.time())
    if current_engine().engine_type == "postgres":
        await RateWindow.raw("SELECT pg_advisory_xact_lock(hashtext({}))", key)
    await RateWindow.delete().where(
        RateWindow.key.like("webhook:%") & (RateWindow.window_start <= now - REPLAY_WINDOW_SECONDS)
    )
    if await RateWindow.exists().where(RateWindow.key == key):
        return False
    await RateWindow(key=key, window_start=now, calls=1).save()
    return True


async def handle_events(provider: str, events: list[WebhookEvent], *, body: bytes | None = None) -> list[int]:
    """Record the runs a batch of events calls for; returns their ids. With the delivery's `body`,
    a replay of a body already handled within the window records nothing."""
    run_ids: list[int] = []
    async with jobs.transaction() as tx:
        if body is not None and not await first_delivery(provider, body):
            return run_ids
        for tenant_id in sorted({event.tenant_id for event in events}):
            connections = await Connection.objects().where(
                (Connection.provider == provider) & (Connection.tenant_id == tenant_id)
                & (Connection.status == ConnectionStatus.connected)
            )
            tenant_events = [e for e in events if e.tenant_id == tenant_id]
            for connection in connections:
                invoice_ids = sorted({e.remote_id for e in tenant_events if e.record_type in ("invoice", "payment")})
                if invoice_ids:
                    run = await tx.record(RunKind.poll_status, workspace_id=connection.workspace,
                                          connection_id=connection.id, trigger="webhook",
                                          params={"remote_ids": invoice_ids})
                    run_ids.append(run.id)
                for record_type in sorted({e.record_type for e in tenant_events} & IMPORT_FOR.keys()):
                    run = await tx.record(IMPORT_FOR[record_type], workspace_id=connection.workspace,
                                          connection_id=connection.id, trigger="webhook",
                                          dedupe_key=f"{IMPORT_FOR[record_type]}:{connection.id}")
                    run_ids.append(run.id)
    return run_ids


@post("/webhooks/{provider:str}", status_code=200, tags=["webhooks"], exclude_from_auth=True,
      opt=needs(Permission.public),
      exclude_from_csrf=True, summary="Receive a provider's webhook")
async def receive_webhook(provider: FromPath[str], request: Request) -> Response[str]:
    registry = get_registry()
    registry.provider(provider)
    body = await request.body()
    headers = {key.lower(): value for key, value in request.headers.items()}
    settings = get_settings().provider(provider)
    if not await registry.call(provider, "verify_webhook", settings=settings, headers=headers, body=body):
        metrics.webhook_delivered(provider, "in", "refused")
        return Response("invalid signature", status_code=401)
    try:
        events = await registry.call(provider, "parse_webhook", settings=settings, headers=headers, body=body)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # Signed by the provider yet not a shape its plugin reads: a 400 the provider's delivery log
        # shows, rather than a 500 and a stack trace in ours.
        metrics.webhook_delivered(provider, "in", "refused")
        raise Invalid("body", f"is not a webhook this server can read ({type(exc).__name__})") from None
    await handle_events(provider, events, body=body)
    metrics.webhook_delivered(provider, "in", "accepted")
    return Response("", status_code=200)


@hookimpl
def route_handlers() -> list[object]:
    return [receive_webhook]
