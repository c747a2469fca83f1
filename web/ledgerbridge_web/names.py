"""People and records by the names a bookkeeper knows them by, never by internal ids ("user:1", "invoice 2").

Each lookup is one query per kind for a whole page of rows, so a long list stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledgerbridge.tables import ApiKey, Customer, Invoice, Item, Payment, TimeEntry, User

AUTOMATIC = {
    "schedule": "Automatic (scheduled poll)",
    "webhook": "Automatic (provider webhook)",
    "notices": "Automatic (notices)",
}


def is_manual(trigger: str) -> bool:
    """A person's own action (signed in, or through one of the workspace's API keys), not a poll or a webhook."""
    return trigger.startswith(("user:", "api_key:"))


async def triggers(workspace_id: int, values: Iterable[str]) -> dict[str, str]:
    """"user:1" → the person's name (else email), "api_key:lb_ab12" → "API key <its name>", polls → what they are."""
    values = set(values)
    user_ids = [int(value[5:]) for value in values if value.startswith("user:") and value[5:].isdigit()]
    prefixes = [value[8:] for value in values if value.startswith("api_key:")]
    users = {row["id"]: row["name"] or row["email"]
             for row in await User.select(User.id, User.name, User.email).where(User.id.is_in(user_ids or [0]))}
    keys = {row["prefix"]: row["name"]
            for row in await ApiKey.select(ApiKey.prefix, ApiKey.name).where(
                (ApiKey.workspace == workspace_id) & ApiKey.prefix.is_in(prefixes or [""]))}
    out = {}
    for value in values:
        if value.startswith("user:"):
            out[value] = users.get(int(value[5:]) if value[5:].isdigit() else 0, "a former member")
        elif value.startswith("api_key:"):
            out[value] = f"API key “{keys.get(value[8:], value[8:])}”"
        elif value.startswith("webhook_endpoint:"):
            out[value] = "Automatic (webhook delivery)"
        else:
            out[value] = AUTOMATIC.get(value, f"Automatic ({value.replace('_', ' ')})")
    return out


async def records(workspace_id: int, refs: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int], str]:
    """(record_type, id) → "invoice INV-0042", "customer Globex"...; a record deleted since keeps a plain label."""
    wanted: dict[str, set[int]] = {}
    for kind, record_id in refs:
        if record_id is not None:
            wanted.setdefault(str(kind), set()).add(int(record_id))
    out: dict[tuple[str, int], str] = {}
    lookups: dict[str, tuple[Any, Any, str]] = {
        "invoice": (Invoice, Invoice.number, "invoice"),
        "customer": (Customer, Customer.name, "customer"),
        "item": (Item, Item.name, "item"),
    }
    for kind, ids in wanted.items():
        if kind in lookups:
            table, column, word = lookups[kind]
            rows = await table.select(table.id, column.as_alias("label")).where(
                (table.workspace == workspace_id) & table.id.is_in(list(ids)))
            for row in rows:
                out[(kind, row["id"])] = f"{word} {row['label']}"
        elif kind == "payment":
            rows = await Payment.select(Payment.id, Payment.amount, Payment.invoice.number.as_alias("number")).where(
                (Payment.workspace == workspace_id) & Payment.id.is_in(list(ids)))
            for row in rows:
                out[(kind, row["id"])] = f"payment of {row['amount']:.2f} on invoice {row['number']}"
        elif kind == "time_entry":
            rows = await TimeEntry.select(TimeEntry.id, TimeEntry.worked_on, TimeEntry.person).where(
                (TimeEntry.workspace == workspace_id) & TimeEntry.id.is_in(list(ids)))
            for row in rows:
                out[(kind, row["id"])] = f"time of {row['person']} on {row['worked_on'].isoformat()}"
        for record_id in ids:
            out.setdefault((kind, record_id), f"{kind.replace('_', ' ')} (no longer here)")
    return out
