"""Endpoint secrets: generated here, shown once, stored encrypted, and used to sign deliveries.

A secret is `whsec_` + base64 of 32 random bytes, the Standard Webhooks format that receivers'
libraries read. Rotating keeps the previous secret for a grace period, during which every delivery
carries two signatures (one per secret, space-separated in `webhook-signature`), so a receiver can
switch secrets without losing a single event.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

from ledgerbridge import vault
from ledgerbridge.tables import WebhookEndpoint, utcnow


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The current secret, then the previous one while its grace period lasts."""
    found = [vault.decrypt(endpoint.secret_enc)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_enc and expires is not None and expires > (now or utcnow()):
        found.append(vault.decrypt(endpoint.previous_secret_enc))
    return found


def signed_headers(endpoint: WebhookEndpoint, message_id: str, body: str, now: datetime | None = None
                   ) -> dict[str, str]:
    """The Standard Webhooks headers for one request: id, timestamp, and a signature per live secret."""
    moment = now or utcnow()
    signatures = [Webhook(secret).sign(message_id, moment, body) for secret in signing_secrets(endpoint, moment)]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": "LedgerBridge-Webhooks/1",
    }
