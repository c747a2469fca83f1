"""Xero webhooks: batched events signed with ``x-xero-signature`` and the intent-to-receive check.

Changes to invoices and contacts become events (only CREATE and UPDATE exist: archiving, voiding and
deleting arrive as UPDATE). At each flush the pending events go out in one POST with increasing
sequence numbers, signed with base64(HMAC-SHA256(webhook key, raw body)) (FACTS Xero 8). Before any
event is sent the endpoint must pass Xero's intent-to-receive check: a correctly signed probe must get
200 and an incorrectly signed one 401, with no cookies set; until then deliveries are held.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import httpx
from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox, sign_hmac_sha256_base64

from ledgerbridge_xero.sandbox.service import ChangeEvent

SIGNATURE_HEADER = "x-xero-signature"
#: Retries "with decreasing frequency" for up to 24 h (FACTS Xero 8); the exact steps are ours.
XERO_RETRY_SCHEDULE: tuple[float, ...] = (60, 300, 900, 1800, 3600, 7200, 14400)


class XeroWebhooks:
    """Collects change events and delivers them to the app's webhook URL."""

    def __init__(
        self,
        outbox: WebhookOutbox,
        url: str | None,
        key: str | None,
        require_intent: bool,
        include_payment_updates: bool,
        api_base: Callable[[], str],
        tenant_connected: Callable[[str], bool],
    ) -> None:
        self.outbox = outbox
        self.url = url
        self.key = key
        self.require_intent = require_intent
        self.include_payment_updates = include_payment_updates
        self.api_base = api_base
        self.tenant_connected = tenant_connected
        self.intent_verified = not require_intent
        self.last_intent: dict[str, Any] | None = None
        self._pending: list[ChangeEvent] = []
        self._sequence = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.key)

    def record(self, event: ChangeEvent) -> None:
        """Service listener: remember an event for the next flush."""
        if not self.enabled or (event.via_payment and not self.include_payment_updates):
            return
        if not self.tenant_connected(event.tenant_id):
            return
        with self._lock:
            self._pending.append(event)

    def pending_events(self) -> list[ChangeEvent]:
        with self._lock:
            return list(self._pending)

    def sign(self, body: bytes) -> str:
        assert self.key is not None
        return sign_hmac_sha256_base64(self.key, body)

    def _payload(self, events: list[dict[str, Any]], first: int, last: int) -> bytes:
        return jsoncodec.dumps(
            {
                "events": events,
                "firstEventSequence": first,
                "lastEventSequence": last,
                "entropy": secrets.token_hex(10).upper(),
            }
        )

    async def intent_to_receive(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """Send one correctly and one incorrectly signed empty batch; pass on 200 and 401, no cookies."""
        if not self.enabled:
            return {"ok": False, "reason": "no webhook URL or key configured"}
        assert self.url is not None
        owns = client is None
        http = client or httpx.AsyncClient(timeout=self.outbox.timeout)
        results = []
        try:
            for correct in (True, False):
                body = self._payload([], 0, 0)
                signature = self.sign(body) if correct else self.sign(body + b"tampered")
                try:
                    response = await http.post(
                        self.url,
                        content=body,
                        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
                        timeout=self.outbox.timeout,
                    )
                    status: int | None = response.status_code
                    cookies = "set-cookie" in response.headers
                except httpx.HTTPError:
                    status, cookies = None, False
                expected = 200 if correct else 401
                results.append(
                    {
                        "signed_correctly": correct,
                        "status": status,
                        "expected": expected,
                        "set_cookie": cookies,
                        "ok": status == expected and not cookies,
                    }
                )
        finally:
            if owns:
                await http.aclose()
        ok = all(r["ok"] for r in results)
        self.intent_verified = self.intent_verified or ok
        self.last_intent = {"ok": ok, "probes": results}
        return self.last_intent

    async def flush(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """Check intent if needed, batch pending events into one signed POST, deliver what is due."""
        if not self.enabled:
            return {"enabled": False, "attempted": []}
        if not self.intent_verified:
            result = await self.intent_to_receive(client)
            if not result["ok"]:
                return {"enabled": True, "intent_to_receive": result, "attempted": []}
        with self._lock:
            events, self._pending = self._pending, []
        if events:
            first = self._sequence + 1
            self._sequence += len(events)
            base = self.api_base()
            body = self._payload(
                [
                    {
                        "resourceUrl": f"{base}/api.xro/2.0/{'Invoices' if e.category == 'INVOICE' else 'Contacts'}"
                        f"/{e.resource_id}",
                        "resourceId": e.resource_id,
                        "eventDateUtc": e.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                        "eventType": e.event_type,
                        "eventCategory": e.category,
                        "tenantId": e.tenant_id,
                        "tenantType": "ORGANISATION",
                    }
                    for e in events
                ],
                first,
                self._sequence,
            )
            assert self.url is not None
            self.outbox.enqueue(self.url, body, {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(body)})
        attempted = await self.outbox.flush(client)
        return {
            "enabled": True,
            "attempted": [{"id": d.id, "status": d.last_status, "delivered": d.delivered} for d in attempted],
        }

    def describe(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "url": self.url,
            "intent_verified": self.intent_verified,
            "last_intent": self.last_intent,
            "pending_events": len(self.pending_events()),
            "queued": [
                {"id": d.id, "attempts": d.attempts, "last_status": d.last_status} for d in self.outbox.pending()
            ],
            "delivered": [{"id": d.id, "body": d.body.decode()} for d in self.outbox.history()],
        }

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
