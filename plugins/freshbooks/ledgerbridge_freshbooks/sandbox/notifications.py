"""FreshBooks webhooks: callback registration, the verification handshake, signed form events.

FACTS.md "FreshBooks 8":

* an app registers ``{"callback":{"event","uri"}}`` per business; FreshBooks then POSTs a form with
  ``name=callback.verify``, ``object_id=<callbackid>`` and ``verifier=<code>`` to the uri, and sends
  nothing else until the app echoes the code with ``PUT .../callbacks/{id}`` (``{"resend": true}`` asks
  for a new code);
* events are ``application/x-www-form-urlencoded`` with ``name``, ``object_id``, ``account_id``,
  ``business_id``, ``identity_id`` and ``user_id`` (no payload: the app fetches the object);
* ``X-FreshBooks-Hmac-SHA256`` is base64(HMAC-SHA256(verifier, ``json.dumps`` of the form fields as a
  dict of strings in sent order)) - Python's default separators included, which is why the signature is
  built from :func:`json.dumps` and not from the raw body.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox, sign_hmac_sha256_base64

from ledgerbridge_freshbooks.sandbox.store import Business, Callback, utc_iso

SIGNATURE_HEADER = "X-FreshBooks-Hmac-SHA256"
FORM_TYPE = "application/x-www-form-urlencoded"

#: Nouns FreshBooks documents events for (3p AsyncAPI list; FACTS marks the full list UNCONFIRMED).
EVENT_NOUNS = ("client", "invoice", "estimate", "expense", "item", "payment", "project", "recurring", "tax",
               "time_entry", "bill", "bill_vendor", "category", "credit_note")
EVENT_VERBS = ("create", "update", "delete")


class CallbackInvalid(ValueError):
    """A registration FreshBooks would refuse with 422; ``details`` lists the problems."""

    def __init__(self, details: list[str]) -> None:
        super().__init__("; ".join(details))
        self.details = details


def signature(verifier: str, fields: Mapping[str, str]) -> str:
    """FreshBooks' signature of a form: HMAC over ``json.dumps`` of the fields (default separators)."""
    message = json.dumps({key: str(value) for key, value in fields.items()})
    return sign_hmac_sha256_base64(verifier, message.encode("utf-8"))


def validate_registration(event: Any, uri: Any) -> None:
    """Only ``<noun>.<verb>`` events and absolute http(s) URIs (a bare noun is refused: stricter reading)."""
    details = []
    noun, _, verb = str(event or "").partition(".")
    if noun not in EVENT_NOUNS or verb not in EVENT_VERBS:
        details.append("event: Value error, Unrecognized event.")
    parts = urlsplit(str(uri or ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        details.append("uri: Input should be a valid URL, relative URL without a base")
    if details:
        raise CallbackInvalid(details)


def render_callback(callback: Callback) -> dict[str, Any]:
    return {"callbackid": callback.callbackid, "verified": callback.verified, "uri": callback.uri,
            "event": callback.event, "updated_at": utc_iso(callback.updated_at)}


class FbWebhooks:
    """Callback registry operations and the outbox that delivers handshakes and events."""

    def __init__(self, clock: SandboxClock, outbox: WebhookOutbox) -> None:
        self.clock = clock
        self.outbox = outbox

    def register(self, business: Business, client_id: str, event: Any, uri: Any,
                 verifier: str | None = None) -> Callback:
        """Store an unverified callback and queue its verification POST (or a pre-verified demo one)."""
        validate_registration(event, uri)
        with business.locked():
            callback = Callback(
                callbackid=business.new_id("callbacks"), event=str(event), uri=str(uri),
                verifier=verifier or secrets.token_urlsafe(24), verified=verifier is not None,
                updated_at=self.clock.now(), client_id=client_id,
            )
            business.callbacks[callback.callbackid] = callback
        if not callback.verified:
            self._send_verification(callback)
        return callback

    def _send_verification(self, callback: Callback) -> None:
        fields = {"name": "callback.verify", "object_id": str(callback.callbackid), "verifier": callback.verifier}
        self._enqueue(callback, fields)

    def verify(self, business: Business, callback: Callback, data: Mapping[str, Any]) -> bool:
        """PUT handling: a matching verifier verifies; ``resend`` issues a new code. False: wrong code."""
        with business.locked():
            if data.get("resend"):
                callback.verifier = secrets.token_urlsafe(24)
                callback.verified = False
                callback.updated_at = self.clock.now()
                resend = True
            else:
                if not secrets.compare_digest(str(data.get("verifier") or ""), callback.verifier):
                    return False
                callback.verified = True
                callback.updated_at = self.clock.now()
                resend = False
        if resend:
            self._send_verification(callback)
        return True

    def record(self, business: Business, event: str, object_id: int, identity_id: int | None) -> None:
        """Service listener: queue one signed form per verified callback registered for this event."""
        with business.locked():
            targets = [c for c in business.callbacks.values() if c.verified and c.event == event]
        for callback in targets:
            fields = {
                "name": event,
                "object_id": str(object_id),
                "account_id": business.account_id,
                "business_id": str(business.preset.business_id),
                "identity_id": str(identity_id or 0),
                "user_id": "1",
            }
            self._enqueue(callback, fields)

    def _enqueue(self, callback: Callback, fields: dict[str, str]) -> None:
        headers = {"Content-Type": FORM_TYPE, SIGNATURE_HEADER: signature(callback.verifier, fields)}
        self.outbox.enqueue(callback.uri, urlencode(fields).encode("ascii"), headers)

    async def flush(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """Deliver what is due; summary for the control API."""
        attempted = await self.outbox.flush(client)
        return {"attempted": len(attempted), "delivered": sum(1 for d in attempted if d.delivered),
                "pending": len(self.outbox.pending())}

    def describe(self) -> dict[str, Any]:
        """Pending and delivered notifications (control API)."""
        def row(d: Any) -> dict[str, Any]:
            return {"id": d.id, "url": d.url, "body": d.body.decode("ascii"), "attempts": d.attempts,
                    "delivered": d.delivered, "last_status": d.last_status, "last_error": d.last_error}
        return {"pending": [row(d) for d in self.outbox.pending()],
                "delivered": [row(d) for d in self.outbox.history()]}
