"""Simulated provider rate limits.

Providers throttle per tenant (QBO: 500 requests a minute and 10 in flight per company and app; Xero and
FreshBooks have their own numbers). Integrations only get these paths right when they are exercised, so
the sandboxes enforce them with two small primitives:

* :class:`SlidingWindowLimiter` - at most ``limit`` hits within any ``window`` seconds of simulated time
  (a true sliding window, the strictest reading of "N per minute": no burst at a window boundary).
* :class:`ConcurrencyLimiter` - at most ``limit`` requests in flight per key; the next one is rejected
  immediately rather than queued, as the providers do.

Both are keyed (e.g. by ``(client_id, realm_id)``), thread-safe and read time from a
:class:`~ledgerbridge_testing.sandbox.clock.SandboxClock` so tests can compress minutes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ledgerbridge_testing.sandbox.clock import SandboxClock


class LimitExceeded(Exception):
    """A simulated limit rejected the request; ``retry_after`` is in simulated seconds."""

    def __init__(self, limiter: str, key: Hashable, retry_after: float) -> None:
        super().__init__(f"{limiter} limit exceeded for {key!r}")
        self.limiter = limiter
        self.key = key
        self.retry_after = retry_after


@dataclass(frozen=True)
class LimitDecision:
    """Outcome of one attempt: allowed or not, and when the next slot frees up."""

    allowed: bool
    remaining: int
    retry_after: float


class SlidingWindowLimiter:
    """At most ``limit`` units per ``window`` simulated seconds for each key."""

    def __init__(self, name: str, limit: int, window: float, clock: SandboxClock) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.name = name
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def hit(self, key: Hashable, cost: int = 1) -> LimitDecision:
        """Record ``cost`` units if they fit; a rejected attempt records nothing.

        Rejected attempts are not counted, matching providers that only meter accepted calls; a
        client hammering after a 429 therefore recovers as soon as the window slides.
        """
        now = self._clock.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            self._prune(hits, now)
            if len(hits) + cost > self.limit:
                index = min(len(hits) - 1, len(hits) + cost - self.limit - 1)
                retry_after = max(hits[index] + self.window - now, 0.0) if hits else self.window
                return LimitDecision(False, max(self.limit - len(hits), 0), retry_after)
            hits.extend([now] * cost)
            return LimitDecision(True, self.limit - len(hits), 0.0)

    def check(self, key: Hashable, cost: int = 1) -> None:
        """Like :meth:`hit` but raises :class:`LimitExceeded` when rejected."""
        decision = self.hit(key, cost)
        if not decision.allowed:
            raise LimitExceeded(self.name, key, decision.retry_after)

    def remaining(self, key: Hashable) -> int:
        """Units still available in the current window."""
        now = self._clock.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return self.limit
            self._prune(hits, now)
            return self.limit - len(hits)

    def reset(self) -> None:
        """Forget all history (tests, or a sandbox reset)."""
        with self._lock:
            self._hits.clear()


class ConcurrencyLimiter:
    """At most ``limit`` simultaneous holders per key; excess attempts fail at once."""

    def __init__(self, name: str, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.name = name
        self.limit = limit
        self._active: dict[Hashable, int] = {}
        self._peak: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def try_acquire(self, key: Hashable) -> bool:
        """Take a slot if one is free."""
        with self._lock:
            current = self._active.get(key, 0)
            if current >= self.limit:
                return False
            self._active[key] = current + 1
            self._peak[key] = max(self._peak.get(key, 0), current + 1)
            return True

    def peak(self, key: Hashable) -> int:
        """The most requests the key had in flight at once (accepted ones), so tests can see a client
        use the concurrency it is allowed."""
        with self._lock:
            return self._peak.get(key, 0)

    def release(self, key: Hashable) -> None:
        """Give a slot back; releasing more than acquired is a programming error."""
        with self._lock:
            current = self._active.get(key, 0)
            if current <= 0:
                raise RuntimeError(f"{self.name}: release without acquire for {key!r}")
            if current == 1:
                del self._active[key]
            else:
                self._active[key] = current - 1

    def in_flight(self, key: Hashable) -> int:
        """How many holders the key has right now."""
        with self._lock:
            return self._active.get(key, 0)

    @contextmanager
    def slot(self, key: Hashable) -> Iterator[None]:
        """Hold a slot for the duration of a ``with`` block or raise :class:`LimitExceeded`."""
        if not self.try_acquire(key):
            raise LimitExceeded(self.name, key, 0.0)
        try:
            yield
        finally:
            self.release(key)
