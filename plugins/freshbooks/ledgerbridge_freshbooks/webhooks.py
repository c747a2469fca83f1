"""FreshBooks webhooks: the signature check, event forms and the verification handshake (FACTS.md FreshBooks 8).

Events are `application/x-www-form-urlencoded` (`name`, `object_id`, `account_id`, ...) with no data.
`X-FreshBooks-Hmac-SHA256` is base64(HMAC-SHA256(verifier, Python `json.dumps` of the form fields as a
dict of strings in received order)), so the signature is rebuilt from the parsed form, with Python's
default separators, and never from the raw body.

The handshake (`name=callback.verify`) carries the callback's new verifier and is signed with it; it
can only be checked against itself, which is harmless because all it leads to is echoing the code back
to FreshBooks for a callback we registered. It becomes a `verify` event with the code in `data`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from ledgerbridge.provider import WebhookEvent, WebhookOperation
from ledgerbridge.webhook_signatures import HmacSignature

from ledgerbridge_freshbooks.workflows import PAYMENT_PREFIX

SIGNATURE = HmacSignature("x-freshbooks-hmac-sha256", digest="sha256", encoding="base64")
VERIFY_EVENT = "callback.verify"
RECORD_TYPES = {"client": "customer", "item": "item", "invoice": "invoice", "payment": "payment", "tax": "tax_rate",
                "time_entry": "time_entry"}
OPERATIONS: dict[str, WebhookOperation] = {"create": "create", "update": "update", "delete": "delete"}


def form_fields(body: bytes) -> dict[str, str]:
    """The form as an ordered dict of strings (the last value wins for a repeated field)."""
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def signed_message(fields: dict[str, str]) -> bytes:
    """What FreshBooks signs: Python's default `json.dumps` of the fields, in received order."""
    return json.dumps({key: str(value) for key, value in fields.items()}).encode("utf-8")


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """False without a signature or a configured verifier: an unsigned endpoint must accept nothing."""
    fields = form_fields(body)
    if fields.get("name") == VERIFY_EVENT and fields.get("verifier"):
        secret = fields["verifier"]
    return SIGNATURE.matches(secret, signed_message(fields), SIGNATURE.sent(headers))


def parse(body: bytes) -> list[WebhookEvent]:
    fields = form_fields(body)
    noun, _, verb = fields.get("name", "").partition(".")
    object_id = fields.get("object_id", "")
    tenant = fields.get("account_id", "")
    if fields.get("name") == VERIFY_EVENT:
        return [WebhookEvent(tenant_id=tenant, record_type="callback", remote_id=object_id, operation="verify",
                             data={"verifier": fields.get("verifier", ""), "callback_id": object_id})]
    record_type, operation = RECORD_TYPES.get(noun), OPERATIONS.get(verb)
    if record_type is None or operation is None or not object_id:
        return []
    remote_id = f"{PAYMENT_PREFIX}{object_id}" if record_type == "payment" else object_id
    data: dict[str, Any] = {
        key: fields[key] for key in ("name", "business_id", "identity_id", "user_id") if key in fields
    }
    return [WebhookEvent(tenant_id=tenant, record_type=record_type, remote_id=remote_id,
                         operation=operation, data=data)]
