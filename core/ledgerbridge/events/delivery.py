"""Delivering events to one endpoint: signed, in order, each event until it is accepted.

A `deliver_webhooks` run works through one endpoint's pending deliveries oldest event first. The
head of the line is claimed for a short while (`claimed_until`) before it is sent, so two runs for
the same endpoint never send it at once, and a crashed sender's claim lapses. A 2xx answer marks it
delivered; anything else (an error status, a timeout, a refused connection, a destination this
server does not send to) is logged as an attempt and the delivery waits for its next time on the
published schedule (`schedule`), holding back the events behind it so the receiver sees them in
order. The run then goes back to the queue until that time. Every attempt of one event carries the
same `webhook-id`: a receiver that got it already (and answered too late) drops the repeat.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx

from ledgerbridge import metrics
from ledgerbridge.db import write_transaction
from ledgerbridge.errors import LedgerBridgeError, RateLimited
from ledgerbridge.events.destinations import check_destination
from ledgerbridge.events.outbox import envelope_of
from ledgerbridge.events.queueing import notices_run
from ledgerbridge.events.schedule import next_wait
from ledgerbridge.events.secrets import signed_headers
from ledgerbridge.jobs import JobTransaction, RunContext, transaction
from ledgerbridge.notifications.rules import NoticeKind, notify_owners
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import (
    DeliveryState,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)

log = logging.getLogger(__name__)

EXCERPT_CHARS = 500
CLAIM_MARGIN_SECONDS = 30.0


class DeliveryDeferred(RateLimited):
    """The endpoint's next delivery is not due yet; the run waits in the queue until it is."""


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    excerpt: str
    error: str
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def post(endpoint: WebhookEndpoint, message_id: str, body: str) -> AttemptResult:
    """Send one signed request; never raises for what the receiver or the network did."""
    settings = get_settings()
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    encoded = body.encode()
    if len(encoded) > settings.webhook_max_body_bytes:
        return AttemptResult(None, "", f"The event is {len(encoded)} bytes, over this server's cap of "
                             f"{settings.webhook_max_body_bytes} (LEDGERBRIDGE_WEBHOOK_MAX_BODY_BYTES).", 0)
    try:
        await check_destination(endpoint.url)
        headers = signed_headers(endpoint, message_id, body)
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:
            async with client.stream("POST", endpoint.url, content=encoded, headers=headers) as response:
                # Read only what the log keeps: a receiver answering with megabytes costs us nothing.
                taken = b""
                async for chunk in response.aiter_bytes():
                    taken += chunk
                    if len(taken) >= EXCERPT_CHARS * 4:
                        break
                excerpt = taken.decode(errors="replace")[:EXCERPT_CHARS]
                return AttemptResult(response.status_code, excerpt, "", elapsed())
    except LedgerBridgeError as exc:
        return AttemptResult(None, "", exc.message, elapsed())
    except httpx.TimeoutException:
        return AttemptResult(None, "", f"No answer within {settings.webhook_timeout_seconds:g} seconds.", elapsed())
    except httpx.HTTPError as exc:
        return AttemptResult(None, "", f"{exc.__class__.__name__}: {exc}"[:EXCERPT_CHARS], elapsed())
    except OSError as exc:  # name resolution of the destination check
        return AttemptResult(None, "", f"{exc.__class__.__name__}: {exc}"[:EXCERPT_CHARS], elapsed())


async def _head(endpoint_id: int) -> WebhookDelivery | None:
    return await WebhookDelivery.objects().where(
        (WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.state == DeliveryState.pending)
    ).order_by(WebhookDelivery.event).first()


async def _claim(delivery_id: int, seconds: float) -> bool:
    now = utcnow()
    async with write_transaction():
        taken = await WebhookDelivery.update({WebhookDelivery.claimed_until: now + timedelta(seconds=seconds)}).where(
            (WebhookDelivery.id == delivery_id) & (WebhookDelivery.state == DeliveryState.pending)
            & (WebhookDelivery.claimed_until.is_null() | (WebhookDelivery.claimed_until < now))
        ).returning(WebhookDelivery.id)
    return bool(taken)


async def attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> AttemptResult:
    """Send a claimed delivery once and record what happened (the log, its state, the schedule)."""
    event = await OutboxEvent.objects().where(OutboxEvent.id == delivery.event).first()
    assert event is not None, "a pending delivery keeps its event (retention spares it)"
    started_at = utcnow()
    result = await post(endpoint, event.event_id, envelope_of(event))
    metrics.webhook_delivered("host_app", "out", "delivered" if result.ok else "failed")
    number = delivery.attempts + 1
    values: dict = {WebhookDelivery.attempts: number, WebhookDelivery.claimed_until: None,
                    WebhookDelivery.last_status: result.status_code, WebhookDelivery.last_error: result.error}
    give_up = False
    if result.ok:
        values |= {WebhookDelivery.state: DeliveryState.delivered, WebhookDelivery.delivered_at: utcnow()}
    else:
        wait = next_wait(number)
        if wait is None:
            give_up = True
            values[WebhookDelivery.state] = DeliveryState.failed
        else:
            values[WebhookDelivery.next_attempt_at] = utcnow() + timedelta(seconds=wait)
    async with transaction() as tx:
        await WebhookAttempt(delivery=delivery.id, number=number, status_code=result.status_code,
                             response_excerpt=result.excerpt, error=result.error, latency_ms=result.latency_ms,
                             started_at=started_at).save()
        await WebhookDelivery.update(values).where(WebhookDelivery.id == delivery.id)
        if give_up:
            await disable_endpoint(tx, endpoint, f"Event {event.event_id} failed {number} times over the retry "
                                   f"schedule; the last answer: {result.error or result.status_code}.")
    return result


async def disable_endpoint(tx: JobTransaction, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to an endpoint and tell its workspace's owners, in `tx`."""
    now = utcnow()
    await WebhookEndpoint.update({WebhookEndpoint.enabled: False, WebhookEndpoint.disabled_reason: reason,
                                  WebhookEndpoint.updated_at: now}).where(WebhookEndpoint.id == endpoint.id)
    link = f"{get_settings().base_url}/webhooks/{endpoint.id}"
    due = await notify_owners(endpoint.workspace, NoticeKind.endpoint_disabled,
                              f"Webhook endpoint disabled: {endpoint.url}",
                              f"LedgerBridge stopped sending events to {endpoint.url}. {reason}\n\n"
                              f"Its undelivered events are kept. Fix the receiver, then enable it again here: {link}",
                              link)
    if due:
        tx.dispatch_after_commit(await notices_run(endpoint.workspace))


async def run_deliveries(ctx: RunContext) -> None:
    """Deliver one endpoint's pending events in order until none is due (the run's handler)."""
    endpoint_id = int(ctx.params["endpoint_id"])
    claim_for = get_settings().webhook_timeout_seconds + CLAIM_MARGIN_SECONDS
    while True:
        endpoint = await WebhookEndpoint.objects().where(WebhookEndpoint.id == endpoint_id).first()
        if endpoint is None or not endpoint.enabled:
            return
        head = await _head(endpoint_id)
        if head is None:
            return
        wait = (head.next_attempt_at - utcnow()).total_seconds()
        if wait > 0:
            raise DeliveryDeferred(f"Next delivery to {endpoint.url} is due in {wait:.0f} s.", retry_after=wait)
        if not await _claim(head.id, claim_for):
            return  # another run is sending it; that run goes on with the rest
        await ctx.ensure_lease()
        result = await attempt(endpoint, head)
        ctx.count("seen")
        ctx.count("updated" if result.ok else "failed")
        await ctx.save()

