"""Intuit's webhook notifications: the signature check and both payload shapes (FACTS.md QBO 8).

`intuit-signature` is base64(HMAC-SHA256(verifier token, raw body)). Bodies come in the legacy
`eventNotifications` shape or, after an app migrates, as a CloudEvents array; either way they carry
ids only, and the core reads the records before believing anything.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ledgerbridge.provider import WebhookEvent, WebhookOperation
from ledgerbridge.webhook_signatures import HmacSignature

SIGNATURE = HmacSignature("intuit-signature", digest="sha256", encoding="base64")
RECORD_TYPES = {
    "customer": "customer", "item": "item", "invoice": "invoice", "payment": "payment", "account": "account",
    "timeactivity": "time_entry",
}
LEGACY_OPERATIONS: dict[str, WebhookOperation] = {
    "create": "create", "update": "update", "delete": "delete", "void": "void", "merge": "merge",
}
CLOUD_VERBS: dict[str, WebhookOperation] = {
    "created": "create", "updated": "update", "deleted": "delete", "voided": "void", "merged": "merge",
}


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """False without a configured verifier token: an unsigned endpoint must not accept anything."""
    return SIGNATURE.verify(secret, headers, body)


def _moment(text: Any) -> datetime | None:
    if not text:
        return None
    raw = str(text).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        try:
            return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None


def parse(body: bytes) -> list[WebhookEvent]:
    """The events a body names; `ValueError` when the body is neither of Intuit's shapes (the core
    answers 400). Unknown entity types and verbs are skipped: Intuit adds them over time."""
    payload = json.loads(body)
    if isinstance(payload, list):
        if not all(isinstance(item, dict) for item in payload):
            raise ValueError("a CloudEvents body is a list of objects")
        return [event for item in payload if (event := _cloud_event(item)) is not None]
    notifications = payload.get("eventNotifications") if isinstance(payload, dict) else None
    if not isinstance(notifications, list) or not all(
        isinstance(n, dict) and n.get("realmId") and isinstance(n.get("dataChangeEvent"), dict)
        and isinstance(n["dataChangeEvent"].get("entities", []), list)
        and all(isinstance(e, dict) for e in n["dataChangeEvent"].get("entities", []))
        for n in notifications
    ):
        raise ValueError("expected eventNotifications, each with a realmId and a dataChangeEvent's entities")
    events = []
    for notification in notifications:
        realm = str(notification.get("realmId", ""))
        for entity in (notification.get("dataChangeEvent") or {}).get("entities") or []:
            record_type = RECORD_TYPES.get(str(entity.get("name", "")).lower())
            operation = LEGACY_OPERATIONS.get(str(entity.get("operation", "")).lower())
            if record_type is None or operation is None:
                continue
            data = {"entity": entity.get("name")}
            if entity.get("deletedId"):
                data["deleted_id"] = str(entity["deletedId"])
            events.append(WebhookEvent(tenant_id=realm, record_type=record_type, remote_id=str(entity.get("id", "")),
                                       operation=operation, occurred_at=_moment(entity.get("lastUpdated")),
                                       data=data))
    return events


def _cloud_event(item: Any) -> WebhookEvent | None:
    """`qbo.<entity>.<verb>.v1` with the realm in `intuitaccountid` and the id in `intuitentityid`."""
    if not isinstance(item, dict):
        return None
    parts = str(item.get("type", "")).split(".")
    if len(parts) < 3 or parts[0] != "qbo":
        return None
    record_type, operation = RECORD_TYPES.get(parts[1].lower()), CLOUD_VERBS.get(parts[2].lower())
    if record_type is None or operation is None:
        return None
    data: dict[str, Any] = {"entity": parts[1], "event_id": item.get("id")}
    extra = item.get("data") or {}
    if isinstance(extra, dict) and extra.get("deletedId"):
        data["deleted_id"] = str(extra["deletedId"])
    return WebhookEvent(tenant_id=str(item.get("intuitaccountid", "")), record_type=record_type,
                        remote_id=str(item.get("intuitentityid", "")), operation=operation,
                        occurred_at=_moment(item.get("time")), data=data)
