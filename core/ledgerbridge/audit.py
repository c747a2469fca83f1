"""The audit trail: who changed the books, connections, settings, members, roles or keys.

`record` is called by the services inside the transaction that makes the change, so an entry exists
exactly when the change does. Entries are append-only: this module has no update, and the only
delete is `prune`, which drops what is older than `LEDGERBRIDGE_AUDIT_RETENTION_DAYS`.

Values are kept as the JSON the API shows (money as decimal strings, times in ISO 8601); secrets
(tokens, keys, webhook signing secrets) are never passed in, and `record` refuses field names that
look like one, so a careless caller cannot put a secret in the trail.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import msgspec

from ledgerbridge.db import write_transaction
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import AuditEntry, utcnow

if TYPE_CHECKING:  # the caller module imports the identity package, which records audit entries
    from ledgerbridge.identity.callers import Caller

SECRET_WORDS = ("secret", "token", "password", "key_hash")


def _plain(value: Any) -> Any:
    """JSON-ready: Decimals as exact strings, times as ISO 8601, Structs as dicts."""
    if isinstance(value, msgspec.Struct):
        return _plain(msgspec.to_builtins(value, builtin_types=(Decimal, datetime, date)))
    if isinstance(value, dict):
        return {
            str(k): ("[hidden]" if any(word in str(k).lower() for word in SECRET_WORDS) else _plain(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, so an entry reads as the change it was."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


async def record(
    caller: Caller,
    action: str,
    *,
    target_type: str = "",
    target_id: Any = "",
    before: Any = None,
    after: Any = None,
    workspace_id: int | None = None,
) -> AuditEntry:
    """Append one entry; call it inside the transaction that makes the change."""
    ws = workspace_id if workspace_id is not None else caller.workspace_id
    entry = AuditEntry(
        workspace=ws,
        occurred_at=utcnow(),
        actor_user=caller.user_id if caller.api_key_id is None else None,
        actor_api_key=caller.api_key_id,
        actor=caller.actor[:260],
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64] if target_id not in (None, "") else "",
        ip=caller.ip,
        user_agent=caller.user_agent,
        before=json.dumps(_plain(before) if before is not None else {}),
        after=json.dumps(_plain(after) if after is not None else {}),
    )
    await entry.save()
    return entry


async def record_from_books(
    workspace_id: int,
    actor: str,
    action: str,
    *,
    target_type: str,
    target_id: Any,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry for a change made in the books (by their bookkeeper) that a read-back carried
    here: no person or key of ours acted, so `actor` names the provider; call it inside the
    transaction that applies the change, as `record`."""
    entry = AuditEntry(
        workspace=workspace_id,
        occurred_at=utcnow(),
        actor_user=None,
        actor_api_key=None,
        actor=actor[:260],
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64] if target_id not in (None, "") else "",
        ip="",
        user_agent="",
        before=json.dumps(_plain(before) if before is not None else {}),
        after=json.dumps(_plain(after) if after is not None else {}),
    )
    await entry.save()
    return entry


async def prune(now: datetime | None = None) -> int:
    """Drop entries older than the retention period; the scheduler runs this every few hours."""
    oldest = (now or utcnow()) - timedelta(days=get_settings().audit_retention_days)
    async with write_transaction():
        gone = await AuditEntry.delete().where(AuditEntry.occurred_at < oldest).returning(AuditEntry.id)
    return len(gone)
