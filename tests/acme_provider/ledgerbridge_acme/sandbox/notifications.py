"""Change notifications the sandbox sends, signed as Acme Books signs them (see `ledgerbridge_acme.webhooks`).

Every change in the books becomes one event in a batch body signed with HMAC-SHA256 (base64) in the
`x-acme-signature` header. Delivery is explicit (`/_sandbox/webhooks/flush`)
or periodic when the config asks for it, with the toolkit's retries in simulated time.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox, sign_hmac_sha256_base64

from ledgerbridge_acme.sandbox.books import Record

SIGNATURE_HEADER = "x-acme-signature"
#: Announced collections; accounts, tax rates and time entries are not.
RECORD_TYPES = {"customers": "customer", "items": "item", "invoices": "invoice", "payments": "payment"}


class Notifier:
    """Turns book changes into signed deliveries; what the control API shows and flushes."""

    def __init__(self, clock: SandboxClock, url: str, secret: str) -> None:
        self.clock = clock
        self.url = url
        self.secret = secret
        self.outbox = WebhookOutbox(clock)

    def record(self, company_id: str, collection: str, record: Record, action: str) -> None:
        """A `Books` listener."""
        record_type = RECORD_TYPES.get(collection)
        if not self.url or record_type is None:
            return
        event = {"company_id": company_id, "record_type": record_type, "record_id": record["id"],
                 "action": action, "occurred_at": self.clock.now().isoformat()}
        body = json.dumps({"events": [event]}).encode()
        self.outbox.enqueue(self.url, body, {"content-type": "application/json",
                                             SIGNATURE_HEADER: sign_hmac_sha256_base64(self.secret, body)})

    async def flush(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
        attempted = await self.outbox.flush(client)
        return {"attempted": len(attempted), "delivered": sum(1 for d in attempted if d.delivered)}

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "pending": len(self.outbox.pending()), "delivered": len(self.outbox.history())}

    def clear(self) -> None:
        self.outbox.clear()
