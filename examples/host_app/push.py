"""The host app's side that talks to LedgerBridge: register the receiver, push a customer, time
entries and an invoice built from them, and send it to the books.

    LEDGERBRIDGE_URL=http://127.0.0.1:8000 LEDGERBRIDGE_API_KEY=lb_... python push.py http://127.0.0.1:9000

The key needs the scopes read, records:write, exports:write and webhooks:manage.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx


def register_receiver(api: httpx.Client, receiver_url: str) -> str:
    """Add the webhook endpoint; the answer carries its secret, this once."""
    answer = api.post("/api/v1/webhook-endpoints", json={
        "url": f"{receiver_url}/hooks/ledgerbridge", "description": "host app",
        "event_types": ["invoice.*", "payment.recorded", "connection.*"]})
    answer.raise_for_status()
    return answer.json()["secret"]


def push_work(api: httpx.Client) -> dict[str, Any]:
    """A customer, two days of work and the invoice billing them; upserts by our own ids, so safe to repeat."""
    customer = api.put("/api/v1/customers/by-ref/crm-42", json={"name": "Globex", "email": "ap@globex.test"})
    customer.raise_for_status()
    entries = []
    for day, hours in (("2026-11-02", "3.5"), ("2026-11-03", "4")):
        entry = api.put(f"/api/v1/time-entries/by-ref/tt-{day}", json={
            "customer_id": customer.json()["id"], "person": "Ada", "worked_on": day, "hours": hours,
            "rate": "120", "description": f"Consulting {day}"})
        entry.raise_for_status()
        entries.append(entry.json()["id"])
    invoice = api.post("/api/v1/invoices/from-time-entries", json={"time_entry_ids": entries})
    invoice.raise_for_status()
    sent = api.post(f"/api/v1/invoices/{invoice.json()['id']}/send")
    sent.raise_for_status()
    exported = api.post(f"/api/v1/invoices/{invoice.json()['id']}/export")
    exported.raise_for_status()
    return {"invoice": invoice.json(), "runs": exported.json()["runs"]}


if __name__ == "__main__":
    headers = {"Authorization": f"Bearer {os.environ['LEDGERBRIDGE_API_KEY']}"}
    with httpx.Client(base_url=os.environ.get("LEDGERBRIDGE_URL", "http://127.0.0.1:8000"), headers=headers) as api:
        if len(sys.argv) > 1:
            print("HOST_WEBHOOK_SECRET=" + register_receiver(api, sys.argv[1]))
        print(push_work(api))
