"""The host app's webhook receiver: verify the signature, drop repeats, act on the event.

Run it with `uvicorn receiver:app --port 9000` and `HOST_WEBHOOK_SECRET=whsec_...` (the secret
LedgerBridge showed when the endpoint was added).
"""

from __future__ import annotations

import os
from typing import Any

from litestar import Litestar, Request, post
from litestar.exceptions import HTTPException
from standardwebhooks import Webhook, WebhookVerificationError


def create_receiver(secret: str, seen: list[dict[str, Any]] | None = None) -> Litestar:
    """A receiver keeping each event once in `seen` (a real app would store ids in its database)."""
    webhook = Webhook(secret)
    events = seen if seen is not None else []
    handled: set[str] = set()

    @post("/hooks/ledgerbridge", status_code=204)
    async def hook(request: Request[Any, Any, Any]) -> None:
        body = await request.body()  # verify the raw bytes, before any parsing
        try:
            event = webhook.verify(body, dict(request.headers))
        except WebhookVerificationError as exc:
            raise HTTPException(status_code=401, detail="bad signature") from exc
        if event["id"] in handled:  # LedgerBridge may send an event again: same webhook-id
            return
        handled.add(event["id"])
        events.append(event)
        if event["type"] == "invoice.status_changed" and event["data"]["status"] == "paid":
            print(f"invoice {event['data']['external_ref']} is paid")  # mark it paid in your app here

    return Litestar(route_handlers=[hook])


app = create_receiver(os.environ.get("HOST_WEBHOOK_SECRET", "whsec_" + "A" * 43 + "="))
