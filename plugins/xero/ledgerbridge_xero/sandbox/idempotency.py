"""``Idempotency-Key`` replay (FACTS Xero 5).

A write repeated with the same key gets the first answer again, byte for byte, without running twice:
that is what lets a worker that lost a response retry safely. Keys are per app and organisation, at
most 128 characters. Retention and reuse with a different request are UNCONFIRMED; the sandbox keeps
answers for ``retention`` simulated seconds (24 h by default) and refuses a key reused for a different
request with a 400, the stricter reading (see README).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from ledgerbridge_testing.sandbox.clock import SandboxClock


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    status: int
    body: bytes
    media_type: str
    stored_at: float


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same" for a key."""
    digest = hashlib.sha256()
    for part in (method.upper(), path.lower(), query, ""):
        digest.update(part.encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyStore:
    """Answers by (client, tenant, key), expiring after ``retention`` simulated seconds."""

    def __init__(self, clock: SandboxClock, retention: float) -> None:
        self.clock = clock
        self.retention = retention
        self._answers: dict[tuple[str, str, str], StoredAnswer] = {}
        self._lock = threading.Lock()
        self.key_locks: dict[tuple[str, str, str], threading.Lock] = {}

    def lookup(self, key: tuple[str, str, str]) -> StoredAnswer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None and self.clock.monotonic() - answer.stored_at >= self.retention:
                del self._answers[key]
                return None
            return answer

    def remember(self, key: tuple[str, str, str], answer: StoredAnswer) -> None:
        with self._lock:
            self._answers[key] = answer

    def lock_for(self, key: tuple[str, str, str]) -> threading.Lock:
        """Serialise concurrent requests with one key so only the first runs."""
        with self._lock:
            return self.key_locks.setdefault(key, threading.Lock())

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self.key_locks.clear()
