"""QBO webhook notifications (FACTS.md QBO 8).

Entity changes are collected per company and, at flush time, aggregated into one signed POST per realm
(QBO notifies "one realm at a time" and carries ids only). Two payload shapes are supported:

* ``legacy`` - ``{"eventNotifications":[{"realmId":..., "dataChangeEvent":{"entities":[...]}}]}`` with
  ``name``, ``id``, ``operation``, ``lastUpdated`` (and ``deletedId`` for merges);
* ``cloudevents`` - a JSON array of CloudEvents 1.0 objects with ``type`` ``qbo.<entity>.<verb>.v1``.

Both are signed with ``intuit-signature`` = base64(HMAC-SHA256(verifier token, raw body)). Delivery and
retries are the shared :class:`~ledgerbridge_testing.sandbox.webhooks.WebhookOutbox`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from datetime import datetime
from typing import Any, Literal

import httpx
from ledgerbridge_testing.sandbox.webhooks import WebhookDelivery, WebhookOutbox, sign_hmac_sha256_base64

from ledgerbridge_quickbooks.sandbox.entities import SPECS
from ledgerbridge_quickbooks.sandbox.service import ChangeEvent

SIGNATURE_HEADER = "intuit-signature"
_VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided", "Merge": "merged"}

PayloadFormat = Literal["legacy", "cloudevents"]


def legacy_timestamp(last_updated: str) -> str:
    """``2015-10-05T14:42:19-0700``: the offset without a colon, as in Intuit's documented example."""
    moment = datetime.fromisoformat(last_updated)
    return moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def legacy_payload(realm_id: str, events: list[ChangeEvent]) -> dict[str, Any]:
    """The pre-2026 ``eventNotifications`` body for one realm."""
    entities = []
    for event in events:
        entry: dict[str, Any] = {
            "name": event.entity,
            "id": event.entity_id,
            "operation": event.operation,
            "lastUpdated": legacy_timestamp(event.last_updated),
        }
        if event.deleted_id is not None:
            entry["deletedId"] = event.deleted_id
        entities.append(entry)
    return {"eventNotifications": [{"realmId": realm_id, "dataChangeEvent": {"entities": entities}}]}


def cloudevents_payload(realm_id: str, events: list[ChangeEvent]) -> list[dict[str, Any]]:
    """The CloudEvents array body for one realm."""
    source = "intuit." + base64.b64encode(hashlib.sha256(realm_id.encode()).digest()[:24]).decode()
    result = []
    for event in events:
        data: dict[str, Any] = {}
        if event.deleted_id is not None:
            data["deletedId"] = event.deleted_id
        result.append(
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": source,
                "type": f"qbo.{event.entity.lower()}.{_VERBS[event.operation]}.v1",
                "datacontenttype": "application/json",
                "time": datetime.fromisoformat(event.last_updated).isoformat(),
                "intuitentityid": event.entity_id,
                "intuitaccountid": realm_id,
                "data": data,
            }
        )
    return result


def encode_body(payload: Any) -> bytes:
    """Compact JSON; the signature covers exactly these bytes."""
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


class QboWebhooks:
    """Collects change events and turns them into signed deliveries."""

    def __init__(
        self,
        outbox: WebhookOutbox,
        url: str | None,
        verifier_token: str | None,
        payload_format: PayloadFormat = "legacy",
        max_events_per_post: int = 100,
    ) -> None:
        self.outbox = outbox
        self.url = url
        self.verifier_token = verifier_token
        self.payload_format: PayloadFormat = payload_format
        self.max_events_per_post = max(1, max_events_per_post)
        self._pending: dict[str, list[ChangeEvent]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Only apps that registered an endpoint and have a verifier token get notifications."""
        return bool(self.url and self.verifier_token)

    def configure(
        self, url: str | None, verifier_token: str | None, payload_format: PayloadFormat | None = None
    ) -> None:
        """Change the subscription at run time (what the developer portal does)."""
        with self._lock:
            self.url = url
            self.verifier_token = verifier_token
            if payload_format is not None:
                self.payload_format = payload_format

    def record(self, event: ChangeEvent) -> None:
        """Listener for :class:`~.service.QboService`: queue an event if its entity is subscribable."""
        spec = SPECS.get(event.entity)
        if spec is None or not spec.webhooks or not self.enabled:
            return
        with self._lock:
            self._pending.setdefault(event.realm_id, []).append(event)

    def clear(self) -> None:
        """Drop events not yet packaged (sandbox reset)."""
        with self._lock:
            self._pending.clear()

    def pending_events(self) -> list[ChangeEvent]:
        """Events not yet turned into deliveries."""
        with self._lock:
            return [e for events in self._pending.values() for e in events]

    def package(self) -> list[WebhookDelivery]:
        """Aggregate pending events into signed deliveries (one realm per POST)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            url, token, fmt = self.url, self.verifier_token, self.payload_format
        if not url or not token:
            return []
        deliveries = []
        for realm_id, events in pending.items():
            for start in range(0, len(events), self.max_events_per_post):
                chunk = events[start : start + self.max_events_per_post]
                payload: Any = (
                    legacy_payload(realm_id, chunk) if fmt == "legacy" else cloudevents_payload(realm_id, chunk)
                )
                body = encode_body(payload)
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign_hmac_sha256_base64(token, body),
                }
                deliveries.append(self.outbox.enqueue(url, body, headers))
        return deliveries

    async def flush(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """Package pending events and attempt every due delivery; returns a summary for tests."""
        self.package()
        attempted = await self.outbox.flush(client)
        return {
            "attempted": len(attempted),
            "delivered": sum(1 for d in attempted if d.delivered),
            "pending": len(self.outbox.pending()),
            "results": [{"id": d.id, "status": d.last_status, "error": d.last_error} for d in attempted],
        }

    def describe(self) -> dict[str, Any]:
        """State for the control API."""
        return {
            "enabled": self.enabled,
            "url": self.url,
            "format": self.payload_format,
            "pending_events": len(self.pending_events()),
            "pending_deliveries": [
                {"id": d.id, "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error}
                for d in self.outbox.pending()
            ],
            "delivered": [{"id": d.id, "body": json.loads(d.body)} for d in self.outbox.history()],
        }
