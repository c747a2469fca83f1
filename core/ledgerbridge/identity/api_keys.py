"""Per-workspace API keys for host apps: `lb_<8 hex>_<secret>`, stored only as a hash, shown once."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ledgerbridge.db import is_unique_violation, write_transaction
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity import clock
from ledgerbridge.identity.digests import digest
from ledgerbridge.identity.errors import NotSignedIn
from ledgerbridge.tables import ApiKey, utcnow

log = logging.getLogger(__name__)

API_KEY_START = "lb_"
API_KEY_HEADER = "x-api-key"
API_KEY_TOUCH_EVERY = timedelta(minutes=1)
DEFAULT_SCOPE_VALUES = ("read", "records:write", "exports:write")  # `permissions.DEFAULT_KEY_SCOPES`


@dataclass(frozen=True)
class NewApiKey:
    record: ApiKey
    key: str  # the only time the full key exists outside the caller's hands


async def create_api_key(
    workspace_id: int,
    name: str,
    created_by: int | None,
    scopes: list[str] | None = None,
    also: Callable[[ApiKey], Awaitable[Any]] | None = None,
) -> NewApiKey:
    """A key `lb_<8 hex>_<secret>`. The start (`prefix`) is kept to tell keys apart in lists and
    run triggers; of the whole key only its SHA-256 is stored. `scopes` defaults to a host app's
    everyday set (read, push records, export them)."""
    for _ in range(5):
        prefix = API_KEY_START + secrets.token_hex(4)
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        record = ApiKey(
            workspace=workspace_id,
            name=name.strip(),
            prefix=prefix,
            key_hash=digest(key),
            created_by=created_by,
            created_at=utcnow(),
            scopes=sorted(set(scopes if scopes is not None else DEFAULT_SCOPE_VALUES)),
        )
        try:
            async with write_transaction():
                await record.save()
                if also is not None:  # the audit entry, in the same transaction
                    await also(record)
        except Exception as exc:
            if is_unique_violation(exc):
                continue  # a prefix collision (1 in 4 billion): draw again
            raise
        return NewApiKey(record=record, key=key)
    raise LedgerBridgeError("Could not create a unique API key; try again.")


async def revoke_api_key(
    workspace_id: int, key_id: int, also: Callable[[ApiKey], Awaitable[Any]] | None = None
) -> ApiKey | None:
    """Revoke the key (once); `also` runs with the revoked row in the same transaction."""
    async with write_transaction():
        revoked = await ApiKey.update({ApiKey.revoked_at: utcnow()}).where(
            (ApiKey.id == key_id) & (ApiKey.workspace == workspace_id) & ApiKey.revoked_at.is_null()
        ).returning(ApiKey.id)
        row = await ApiKey.objects().where((ApiKey.id == key_id) & (ApiKey.workspace == workspace_id)).first()
        if revoked and row is not None and also is not None:
            await also(row)
    return row


def api_key_from_headers(headers: Any) -> str | None:
    """The API key a request carries, if any (Bearer token or X-API-Key)."""
    explicit = headers.get(API_KEY_HEADER)
    if explicit:
        return explicit.strip()
    authorization = headers.get("authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


@dataclass(frozen=True)
class KeyIdentity:
    id: int
    prefix: str
    workspace_id: int
    workspace_name: str
    scopes: frozenset[str]


async def authenticate_api_key(key: str) -> KeyIdentity:
    """The key's identity, or `NotSignedIn` saying exactly why it was refused."""
    if not key.startswith(API_KEY_START):
        raise NotSignedIn(
            "The credential sent is not a LedgerBridge API key.",
            fix="Send the key shown when it was created, starting with lb_.",
        )
    row = (
        await ApiKey.select(
            ApiKey.id,
            ApiKey.prefix,
            ApiKey.workspace,
            ApiKey.workspace.name.as_alias("workspace_name"),
            ApiKey.revoked_at,
            ApiKey.last_used_at,
            ApiKey.scopes,
        )
        .where(ApiKey.key_hash == digest(key))
        .first()
    )
    if row is None:
        raise NotSignedIn("This API key is not known.", fix="Check the key, or create a new one under API keys.")
    if row["revoked_at"] is not None:
        raise NotSignedIn(
            f"The API key {row['prefix']} has been revoked.",
            fix="Create a new key under API keys and update the app that uses it.",
        )
    at = clock.now()
    # Bounded writes: a busy integration must not turn every read into a write.
    if row["last_used_at"] is None or at - row["last_used_at"] > API_KEY_TOUCH_EVERY:
        _touch_later(row["id"], at)
    return KeyIdentity(
        id=row["id"],
        prefix=row["prefix"],
        workspace_id=row["workspace"],
        workspace_name=row["workspace_name"],
        scopes=frozenset(scope_list(row["scopes"])),
    )


_touching: dict[int, asyncio.Task[None]] = {}  # key id -> its `last_used_at` write in flight


def _touch_later(key_id: int, at: Any) -> None:
    """Record the key's use without making the request wait for it.

    On SQLite the write waits for the one write lock, which a burst of sign-ins (each writes its
    throttle counts) can hold for seconds; `last_used_at` only tells an owner roughly when a key was
    last used, so the request goes on and the write lands when the lock frees. One write per key is
    in flight at a time (the next request finds it and adds none), and it never moves the time back.
    """
    loop = asyncio.get_running_loop()
    current = _touching.get(key_id)
    if current is not None and not current.done() and current.get_loop() is loop:
        return
    task = loop.create_task(_touch(key_id, at))
    _touching[key_id] = task
    task.add_done_callback(lambda done: _touching.pop(key_id, None) if _touching.get(key_id) is done else None)


async def _touch(key_id: int, at: Any) -> None:
    try:
        async with write_transaction():
            await ApiKey.update({ApiKey.last_used_at: at}).where(
                (ApiKey.id == key_id) & (ApiKey.last_used_at.is_null() | (ApiKey.last_used_at < at))
            )
    except Exception:  # a lost "last used" time must never surface anywhere; say so in the log only
        log.warning("could not record when API key %s was last used", key_id, exc_info=True)


async def settle_touches() -> None:
    """Wait for the `last_used_at` writes in flight: at shutdown, and in tests before reading them."""
    loop = asyncio.get_running_loop()
    pending = [task for task in _touching.values() if task.get_loop() is loop]
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def scope_list(stored: Any) -> list[str]:
    """Piccolo hands JSON back as text; a damaged value grants nothing."""
    try:
        value = json.loads(stored) if isinstance(stored, str) else stored
    except ValueError:
        return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
