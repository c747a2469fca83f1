"""The outbox: events written inside the transaction of the change they describe, and read back.

`record_event` must run inside an open write transaction (it refuses otherwise): that is what makes
"a rolled-back change emits nothing, a committed one is never lost" true. It also writes, in the
same transaction, one pending delivery per enabled endpoint that wants the event, the notices the
event owes to people, and the runs that carry them out (`queueing`); whoever commits hands those
runs to the broker (`JobTransaction.emit`).

The feed reads the same rows in id order. The cursor is the outbox id: ids only grow, and an event
becomes visible when its transaction commits, so a reader that saw id N and asks for `after=N`
could miss an event committed later with a smaller id. On PostgreSQL the feed therefore holds back
rows younger than a settling window (`SETTLE_SECONDS`), long enough for any writer to have
committed. SQLite has one writer at a time (write transactions are IMMEDIATE), so ids are in commit
order there and nothing is held back.
"""

from __future__ import annotations

import json
import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from ledgerbridge.bulk_rows import append_rows, insert_rows
from ledgerbridge.db import current_engine, write_transaction
from ledgerbridge.events.catalogue import Event, encode_data, envelope_json
from ledgerbridge.events.queueing import delivery_run, notices_run
from ledgerbridge.notifications.rules import notices_for_event
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import DeliveryState, OutboxEvent, SyncRun, WebhookDelivery, WebhookEndpoint, utcnow

SETTLE_SECONDS = 5.0


class NotInTransaction(RuntimeError):
    """An event recorded outside a transaction could outlive a change that rolled back."""


@dataclass
class Recorded:
    """What recording an event wrote, so the committer knows what to queue."""

    row: OutboxEvent
    runs: list[SyncRun] = field(default_factory=list)  # to hand to the broker once committed


# The runs recorded while a `JobTransaction` is open, handed to the broker when it commits.
_collector: ContextVar[list[SyncRun] | None] = ContextVar("ledgerbridge_event_runs", default=None)


def collect_runs(into: list[SyncRun] | None) -> Token[list[SyncRun] | None]:
    """Make events recorded from now on (in this task) add their runs to `into`; reset with the token."""
    return _collector.set(into)


def collecting() -> list[SyncRun] | None:
    """The list an enclosing `JobTransaction` collects runs into, if any."""
    return _collector.get()


def stop_collecting(token: Token[list[SyncRun] | None]) -> None:
    _collector.reset(token)


def _in_transaction() -> bool:
    engine: Any = current_engine()
    return engine.current_transaction.get() is not None


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def wants(event_types: Any, type_name: str) -> bool:
    """An endpoint's filter: empty takes everything; `invoice.*` takes a family."""
    types = event_types if isinstance(event_types, list) else json.loads(event_types or "[]")
    if not types:
        return True
    return any(t == type_name or (t.endswith(".*") and type_name.startswith(t[:-1])) for t in types)


async def record_event(event: Event) -> Recorded:
    """Write `event`, its deliveries and its notices in the caller's open transaction."""
    if not _in_transaction():
        raise NotInTransaction("record events inside the transaction of their change (jobs.transaction().emit)")
    now = utcnow()
    row = OutboxEvent(event_id=new_event_id(), workspace=event.workspace_id, type=str(event.type),
                      version=event.version, data=encode_data(event.data), occurred_at=now)
    await row.save()
    endpoints = await WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
        (WebhookEndpoint.workspace == event.workspace_id) & (WebhookEndpoint.enabled == True)  # noqa: E712
    )
    chosen = [endpoint["id"] for endpoint in endpoints if wants(endpoint["event_types"], str(event.type))]
    recorded = Recorded(row=row)
    for endpoint_id in chosen:
        await WebhookDelivery(endpoint=endpoint_id, event=row.id, state=DeliveryState.pending, next_attempt_at=now,
                              created_at=now).save()
        recorded.runs.append(await delivery_run(event.workspace_id, endpoint_id))
    if await notices_for_event(event, row.id):
        recorded.runs.append(await notices_run(event.workspace_id))
    collector = _collector.get()
    if collector is not None:
        collector.extend(run for run in recorded.runs if run not in collector)
    return recorded


async def record_events(events: list[Event]) -> list[SyncRun]:
    """Many events in the caller's open transaction, in a few statements whatever their number.

    A bulk import announces thousands of records; recording them one by one cost three queries each.
    Same rows and runs as `record_event` for each; returns the runs to queue once committed."""
    if not events:
        return []
    if not _in_transaction():
        raise NotInTransaction("record events inside the transaction of their change (jobs.transaction().emit)")
    now = utcnow()
    ids = await insert_rows(OutboxEvent, ["event_id", "workspace", "type", "version", "data", "occurred_at"], [
        (new_event_id(), event.workspace_id, str(event.type), event.version, encode_data(event.data), now)
        for event in events])
    runs: list[SyncRun] = []
    for workspace_id in {event.workspace_id for event in events}:
        endpoints = await WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
            (WebhookEndpoint.workspace == workspace_id) & (WebhookEndpoint.enabled == True)  # noqa: E712
        )
        for endpoint in endpoints:
            deliveries = [(endpoint["id"], event_id, DeliveryState.pending, 0, now, "", now)
                          for event, event_id in zip(events, ids, strict=True)
                          if event.workspace_id == workspace_id and wants(endpoint["event_types"], str(event.type))]
            await append_rows(WebhookDelivery, ["endpoint", "event", "state", "attempts", "next_attempt_at",
                                                "last_error", "created_at"], deliveries)
            if deliveries:
                runs.append(await delivery_run(workspace_id, endpoint["id"]))
    for event, event_id in zip(events, ids, strict=True):
        if await notices_for_event(event, event_id):
            run = await notices_run(event.workspace_id)
            if run not in runs:
                runs.append(run)
    collector = _collector.get()
    if collector is not None:
        collector.extend(run for run in runs if run not in collector)
    return runs


async def emit(event: Event) -> Recorded:
    """Record `event` in the open transaction; inside `jobs.transaction()` its runs are queued on
    commit, elsewhere the sweeper queues them (callers that cannot import the job queue)."""
    return await record_event(event)


def envelope_of(row: OutboxEvent | dict[str, Any]) -> str:
    """The JSON body of a stored event: what webhooks send and the feed returns."""
    fields: dict[str, Any] = row if isinstance(row, dict) else row.to_dict()
    get = fields.__getitem__
    data = get("data")
    data_json = data if isinstance(data, str) else json.dumps(data)
    return envelope_json(event_id=get("event_id"), type=get("type"), version=get("version"),
                         timestamp=get("occurred_at"), workspace_id=get("workspace"), cursor=str(get("id")),
                         data_json=data_json)


async def read_feed(workspace_id: int, *, after: int = 0, types: list[str] | None = None,
                    limit: int = 100) -> list[str]:
    """Envelopes after the cursor, oldest first, within the retention window and settled."""
    now = utcnow()
    oldest = now - timedelta(days=get_settings().event_retention_days)
    condition = (OutboxEvent.workspace == workspace_id) & (OutboxEvent.id > after) & (OutboxEvent.occurred_at >= oldest)
    if not isinstance(current_engine(), SQLiteEngine):
        condition &= OutboxEvent.occurred_at <= now - timedelta(seconds=SETTLE_SECONDS)
    if types:
        exact = [t for t in types if not t.endswith(".*")]
        families = [t[:-1] for t in types if t.endswith(".*")]
        matches: Any = OutboxEvent.type.is_in(exact) if exact else None
        for family in families:
            like = OutboxEvent.type.like(f"{family}%")
            matches = like if matches is None else matches | like
        if matches is not None:
            condition &= matches
    rows = await OutboxEvent.select().where(condition).order_by(OutboxEvent.id).limit(limit)
    return [envelope_of(row) for row in rows]


async def prune(now: Any = None) -> int:
    """Drop events older than the retention window (their deliveries go with them)."""
    oldest = (now or utcnow()) - timedelta(days=get_settings().event_retention_days)
    # Deliveries still pending keep their event: an endpoint catching up must not lose it.
    waiting = WebhookDelivery.select(WebhookDelivery.event).where(WebhookDelivery.state == DeliveryState.pending)
    async with write_transaction():
        gone = await OutboxEvent.delete().where(
            (OutboxEvent.occurred_at < oldest) & OutboxEvent.id.not_in(waiting)
        ).returning(OutboxEvent.id)
    return len(gone)
