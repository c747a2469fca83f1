"""Xero's webhooks: the signature check and the event payload (FACTS.md Xero 8).

`x-xero-signature` is base64(HMAC-SHA256(webhook key, raw body)). Xero switches a subscription on only
after its "intent to receive" probe: empty batches, some signed wrongly, which must get 401; the core
answers 401 whenever `verify` says False, so refusing is all this module has to do. Events carry ids
only (CREATE or UPDATE of an INVOICE or CONTACT; voids, deletions, archiving and payments arrive as
UPDATE), and the core reads the records before believing anything.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ledgerbridge.provider import WebhookEvent, WebhookOperation
from ledgerbridge.webhook_signatures import HmacSignature

SIGNATURE = HmacSignature("x-xero-signature", digest="sha256", encoding="base64")
RECORD_TYPES = {"INVOICE": "invoice", "CONTACT": "customer"}
OPERATIONS: dict[str, WebhookOperation] = {"CREATE": "create", "UPDATE": "update"}


def verify(key: str, headers: dict[str, str], body: bytes) -> bool:
    """False without a configured key: an unsigned endpoint must not accept anything."""
    return SIGNATURE.verify(key, headers, body)


def _moment(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def parse(body: bytes) -> list[WebhookEvent]:
    """One event per INVOICE/CONTACT change; other categories (credit notes, subscriptions) are ignored."""
    payload = json.loads(body or b"{}")
    events = []
    for event in payload.get("events") or [] if isinstance(payload, dict) else []:
        if not isinstance(event, dict):
            continue
        record_type = RECORD_TYPES.get(str(event.get("eventCategory", "")).upper())
        operation = OPERATIONS.get(str(event.get("eventType", "")).upper())
        if record_type is None or operation is None or not event.get("resourceId"):
            continue
        events.append(WebhookEvent(
            tenant_id=str(event.get("tenantId", "")), record_type=record_type, remote_id=str(event["resourceId"]),
            operation=operation, occurred_at=_moment(event.get("eventDateUtc")),
            data={"category": event.get("eventCategory"), "resource_url": event.get("resourceUrl"),
                  "sequence": payload.get("lastEventSequence")},
        ))
    return events
