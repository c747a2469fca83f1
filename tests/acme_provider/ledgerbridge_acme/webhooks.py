"""Acme Books's webhooks: the signature check and the event payload.

`x-acme-signature` is base64(HMAC-SHA256(webhook secret, raw body)); anything
unsigned or signed with another key is refused (the core answers 401 when `verify` says False).
Events carry ids only, and the core reads the records again before believing anything, so a forged
or replayed body could at worst cause a harmless read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from ledgerbridge.provider import WebhookEvent

SIGNATURE_HEADER = "x-acme-signature"
#: Acme Books's record types -> ours; other types are ignored.
RECORD_TYPES = {"customer": "customer", "item": "item", "invoice": "invoice", "payment": "payment"}
OPERATIONS = {"created": "create", "updated": "update", "deleted": "delete", "voided": "void"}


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """False without a configured secret: an endpoint nobody can sign for must accept nothing."""
    sent = next((value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER), "")
    if not secret or not sent:
        return False
    return hmac.compare_digest(signature(secret, body), sent.strip())


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def parse(body: bytes) -> list[WebhookEvent]:
    """One event per change of a record type we follow; anything malformed is skipped, not fatal."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return []
    events = []
    for event in payload.get("events") or [] if isinstance(payload, dict) else []:
        if not isinstance(event, dict):
            continue
        record_type = RECORD_TYPES.get(str(event.get("record_type", "")))
        operation = OPERATIONS.get(str(event.get("action", "")))
        if record_type is None or operation is None or not event.get("record_id"):
            continue
        events.append(WebhookEvent(
            tenant_id=str(event.get("company_id", "")), record_type=record_type, remote_id=str(event["record_id"]),
            operation=operation,  # type: ignore[arg-type]
            occurred_at=_moment(event.get("occurred_at")),
        ))
    return events
