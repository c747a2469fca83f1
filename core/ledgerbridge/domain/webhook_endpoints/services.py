"""A workspace's webhook endpoints: where its events go, signed with a secret shown once.

Anyone who may use the workspace's API (members and API keys) manages them: the host app
registers its own receiver. Secrets are generated here, never chosen, and stored encrypted because
every delivery must be signed with them. Destinations are checked against this server's rules
(`ledgerbridge.events.destinations`) when saved and again on every request.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from msgspec import UNSET

from ledgerbridge import audit, jobs, vault
from ledgerbridge.api.errors import Conflict, Invalid, NotFound
from ledgerbridge.api.paging import Page
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.domain.webhook_endpoints.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointSecretOut,
    EndpointUpdate,
    TestResultOut,
)
from ledgerbridge.events.catalogue import CATALOGUE, EventType, WebhookTest, encode_data, envelope_json
from ledgerbridge.events.delivery import post
from ledgerbridge.events.destinations import check_url
from ledgerbridge.events.outbox import new_event_id
from ledgerbridge.events.queueing import delivery_run
from ledgerbridge.events.secrets import new_secret
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow


def _types(value: Any) -> list[str]:
    return value if isinstance(value, list) else json.loads(value or "[]")


def check_event_types(types: list[str]) -> list[str]:
    """Known types or families only: a typo would silently receive nothing."""
    known = {str(t) for t in CATALOGUE} - {EventType.webhook_test}
    families = {t.split(".")[0] + ".*" for t in known}
    unknown = [t for t in types if t not in known and t not in families]
    if unknown:
        raise Invalid("event_types", f"unknown event type(s): {', '.join(unknown)}",
                      fix=f"Use types from the catalogue: {', '.join(sorted(known))}, or a family like invoice.*.")
    return sorted(set(types))


async def endpoint_out(row: WebhookEndpoint) -> EndpointOut:
    pending = await WebhookDelivery.count().where(
        (WebhookDelivery.endpoint == row.id) & (WebhookDelivery.state == DeliveryState.pending)
    )
    return EndpointOut(
        id=row.id, url=row.url, description=row.description, event_types=_types(row.event_types),
        enabled=row.enabled, disabled_reason=row.disabled_reason,
        previous_secret_expires_at=row.previous_secret_expires_at if row.previous_secret_enc else None,
        pending=pending, created_at=row.created_at, updated_at=row.updated_at,
    )


async def _endpoint(caller: Caller, endpoint_id: int) -> WebhookEndpoint:
    assert caller.workspace_id is not None
    return await in_workspace(WebhookEndpoint, endpoint_id, caller.workspace_id, "webhook endpoint")


async def list_endpoints(caller: Caller) -> EndpointList:
    require(caller, Permission.read)
    rows = await WebhookEndpoint.objects().where(WebhookEndpoint.workspace == caller.workspace_id).order_by(
        WebhookEndpoint.id
    )
    return EndpointList(items=[await endpoint_out(row) for row in rows])


async def get_endpoint(caller: Caller, *, endpoint_id: int) -> EndpointOut:
    require(caller, Permission.read)
    return await endpoint_out(await _endpoint(caller, endpoint_id))


async def create_endpoint(caller: Caller, *, data: EndpointIn) -> EndpointSecretOut:
    require(caller, Permission.webhooks_manage)
    assert caller.workspace_id is not None
    check_url(data.url)
    secret = new_secret()
    now = utcnow()
    row = WebhookEndpoint(
        workspace=caller.workspace_id, url=data.url, description=data.description,
        event_types=json.dumps(check_event_types(data.event_types)), secret_enc=vault.encrypt(secret),
        enabled=True, created_at=now, updated_at=now,
    )
    async with jobs.transaction():
        await row.save()
        await audit.record(caller, "webhook_endpoint.create", target_type="webhook_endpoint", target_id=row.id,
                           after={"url": data.url, "description": data.description, "event_types": data.event_types})
    return EndpointSecretOut(endpoint=await endpoint_out(row), secret=secret)


async def update_endpoint(caller: Caller, *, endpoint_id: int, data: EndpointUpdate) -> EndpointOut:
    require(caller, Permission.webhooks_manage)
    row = await _endpoint(caller, endpoint_id)
    values: dict[Any, Any] = {WebhookEndpoint.updated_at: utcnow()}
    if data.url is not UNSET:
        check_url(data.url)
        values[WebhookEndpoint.url] = data.url
    if data.description is not UNSET:
        values[WebhookEndpoint.description] = data.description
    if data.event_types is not UNSET:
        values[WebhookEndpoint.event_types] = json.dumps(check_event_types(data.event_types))
    enabling = data.enabled is True and not row.enabled
    if data.enabled is not UNSET:
        values[WebhookEndpoint.enabled] = data.enabled
        if data.enabled:
            values[WebhookEndpoint.disabled_reason] = ""
    async with jobs.transaction() as tx:
        await WebhookEndpoint.update(values).where(WebhookEndpoint.id == row.id)
        fields = {column._meta.name: value for column, value in values.items()
                  if column is not WebhookEndpoint.updated_at}
        before, after = audit.changed({name: getattr(row, name) for name in fields}, fields)
        await audit.record(caller, "webhook_endpoint.update", target_type="webhook_endpoint", target_id=row.id,
                           before=before, after=after)
        if enabling:
            # What gave up is tried again, on a fresh schedule, before anything newer.
            await WebhookDelivery.update({
                WebhookDelivery.state: DeliveryState.pending, WebhookDelivery.attempts: 0,
                WebhookDelivery.next_attempt_at: utcnow(), WebhookDelivery.claimed_until: None,
            }).where((WebhookDelivery.endpoint == row.id) & (WebhookDelivery.state == DeliveryState.failed))
            tx.dispatch_after_commit(await delivery_run(row.workspace, row.id))
    return await get_endpoint(caller, endpoint_id=endpoint_id)


async def delete_endpoint(caller: Caller, *, endpoint_id: int) -> EndpointOut:
    require(caller, Permission.webhooks_manage)
    row = await _endpoint(caller, endpoint_id)
    answer = await endpoint_out(row)
    async with jobs.transaction():
        await audit.record(caller, "webhook_endpoint.delete", target_type="webhook_endpoint", target_id=row.id,
                           before={"url": row.url, "description": row.description, "enabled": row.enabled})
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == row.id)
    return answer


async def rotate_secret(caller: Caller, *, endpoint_id: int) -> EndpointSecretOut:
    """A new secret; the old one also signs deliveries for the grace period, so no event is lost."""
    require(caller, Permission.webhooks_manage)
    row = await _endpoint(caller, endpoint_id)
    secret = new_secret()
    grace = timedelta(hours=get_settings().webhook_secret_grace_hours)
    async with jobs.transaction():
        await WebhookEndpoint.update({
            WebhookEndpoint.previous_secret_enc: row.secret_enc, WebhookEndpoint.secret_enc: vault.encrypt(secret),
            WebhookEndpoint.previous_secret_expires_at: utcnow() + grace, WebhookEndpoint.updated_at: utcnow(),
        }).where(WebhookEndpoint.id == row.id)
        await audit.record(caller, "webhook_endpoint.rotate_secret", target_type="webhook_endpoint", target_id=row.id,
                           after={"previous_secret_signs_until": utcnow() + grace})
    return EndpointSecretOut(endpoint=await get_endpoint(caller, endpoint_id=endpoint_id), secret=secret)


async def send_test(caller: Caller, *, endpoint_id: int) -> TestResultOut:
    """Send a `webhook.test` event now, signed like any other; it is not kept in the feed."""
    require(caller, Permission.webhooks_manage)
    row = await _endpoint(caller, endpoint_id)
    event_id = new_event_id()
    data = WebhookTest(endpoint_id=row.id, message="A test event from LedgerBridge.")
    body = envelope_json(event_id=event_id, type=EventType.webhook_test, version=1, timestamp=utcnow(),
                         workspace_id=row.workspace, cursor="", data_json=encode_data(data))
    result = await post(row, event_id, body)
    return TestResultOut(ok=result.ok, status_code=result.status_code, response_excerpt=result.excerpt,
                         error=result.error, latency_ms=result.latency_ms)


async def resend(caller: Caller, *, endpoint_id: int, delivery_id: int) -> DeliveryOut:
    """Send a delivered or failed event again, with the same `webhook-id` (receivers dedupe on it)."""
    require(caller, Permission.webhooks_manage)
    row = await _endpoint(caller, endpoint_id)
    delivery = await WebhookDelivery.objects().where(
        (WebhookDelivery.id == delivery_id) & (WebhookDelivery.endpoint == row.id)
    ).first()
    if delivery is None:
        raise NotFound("delivery", delivery_id)
    if not row.enabled:
        raise Conflict("The endpoint is disabled.", fix="Enable it first; enabling retries what was left undelivered.")
    async with jobs.transaction() as tx:
        await WebhookDelivery.update({
            WebhookDelivery.state: DeliveryState.pending, WebhookDelivery.next_attempt_at: utcnow(),
            WebhookDelivery.claimed_until: None,
        }).where(WebhookDelivery.id == delivery.id)
        tx.dispatch_after_commit(await delivery_run(row.workspace, row.id))
    return (await _deliveries(row.id, [delivery.id]))[0]


async def _deliveries(endpoint_id: int, ids: list[int]) -> list[DeliveryOut]:
    rows = await WebhookDelivery.select(
        *WebhookDelivery.all_columns(), WebhookDelivery.event.event_id, WebhookDelivery.event.type
    ).where(WebhookDelivery.id.is_in(ids) if ids else WebhookDelivery.id < 0)
    attempts = await WebhookAttempt.objects().where(WebhookAttempt.delivery.is_in(ids) if ids else
                                                    WebhookAttempt.id < 0).order_by(WebhookAttempt.id)
    by_delivery: dict[int, list[AttemptOut]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery, []).append(AttemptOut(
            number=attempt.number, status_code=attempt.status_code, response_excerpt=attempt.response_excerpt,
            error=attempt.error, latency_ms=attempt.latency_ms, started_at=attempt.started_at))
    order = {delivery_id: index for index, delivery_id in enumerate(ids)}
    return sorted(
        (DeliveryOut(id=r["id"], event_id=r["event.event_id"], event_type=r["event.type"], state=r["state"],
                     attempts=by_delivery.get(r["id"], []),
                     next_attempt_at=r["next_attempt_at"] if r["state"] == DeliveryState.pending else None,
                     delivered_at=r["delivered_at"]) for r in rows),
        key=lambda out: order[out.id],
    )


async def delivery_log(caller: Caller, *, endpoint_id: int, limit: int, offset: int) -> DeliveryPage:
    """Newest first: each delivery with every attempt (status, response excerpt, latency)."""
    require(caller, Permission.read)
    row = await _endpoint(caller, endpoint_id)
    where = WebhookDelivery.endpoint == row.id
    total = await WebhookDelivery.count().where(where)
    ids = [r["id"] for r in await WebhookDelivery.select(WebhookDelivery.id).where(where).order_by(
        WebhookDelivery.event, ascending=False).limit(limit).offset(offset)]
    return Page(items=await _deliveries(row.id, ids), total=total, limit=limit, offset=offset)
