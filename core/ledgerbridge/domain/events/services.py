"""Reading events instead of receiving them: the same envelopes as webhooks, in order, by cursor.

A host that prefers pulling keeps the last `cursor` it processed and asks for what follows; events
older than the retention (`LEDGERBRIDGE_EVENT_RETENTION_DAYS`) are no longer served.
"""

from __future__ import annotations

from ledgerbridge.api.errors import Invalid
from ledgerbridge.domain.events.schemas import EventPage, EventTypeList, EventTypeOut
from ledgerbridge.domain.webhook_endpoints.services import check_event_types
from ledgerbridge.events.catalogue import CATALOGUE, EventType, decode_envelope
from ledgerbridge.events.outbox import read_feed
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require


def parse_cursor(after: str | None) -> int:
    if not after:
        return 0
    if not after.isdigit():
        raise Invalid("after", f"{after!r} is not a cursor from this feed",
                      fix="Pass the `cursor` of the last event you read.")
    return int(after)


async def list_events(caller: Caller, *, after: str | None, types: list[str], limit: int) -> EventPage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    cursor = parse_cursor(after)
    wanted = check_event_types([t for value in types for t in value.split(",") if t.strip()])
    bodies = await read_feed(caller.workspace_id, after=cursor, types=wanted, limit=limit + 1)
    items = [decode_envelope(body) for body in bodies[:limit]]
    next_cursor = items[-1].cursor if items else (after or None)
    return EventPage(items=items, next_cursor=next_cursor, has_more=len(bodies) > limit)


def catalogue() -> EventTypeList:
    return EventTypeList(items=[
        EventTypeOut(type=str(spec.type), version=spec.version, description=spec.description)
        for spec in CATALOGUE.values() if spec.type != EventType.webhook_test
    ])
