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

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qsl

from ledgerbridge.provider import WebhookEvent

from ledgerbridge_freshbooks.workflows import PAYMENT_PREFIX

SIGNATURE_HEADER = "x-freshbooks-hmac-sha256"
VERIFY_EVENT = "callback.verify"
RECORD_TYPES = {"client": "customer", "item": "item", "invoice": "invoice", "payment": "payment", "tax": "tax_rate",
                "time_entry": "time_entry"}
OPERATIONS = {"create": "create", "update": "update", "delete": "delete"}


def form_fields(body: bytes) -> dict[str, str]:
    """The form as an ordered dict of strings (the last value wins for a repeated field)."""
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


def signature(secret: str, fields: dict[str, str]) -> str:
    message = json.dumps({key: str(value) for key, value in fields.items()})
    return base64.b64encode(hmac.new(secret.encode(), message.encode("utf-8"), hashlib.sha256).digest()).decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """False without a signature or a configured verifier: an unsigned endpoint must accept nothing."""
    sent = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "").strip()
    if not sent:
        return False
    fields = form_fields(body)
    if fields.get("name") == VERIFY_EVENT and fields.get("verifier"):
        key = fields["verifier"]
    elif secret:
        key = secret
    else:
        return False
    return hmac.compare_digest(signature(key, fields), sent)


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
    data = {key: fields[key] for key in ("name", "business_id", "identity_id", "user_id") if key in fields}
    return [WebhookEvent(tenant_id=tenant, record_type=record_type, remote_id=remote_id,
                         operation=operation, data=data)]  # type: ignore[arg-type]
