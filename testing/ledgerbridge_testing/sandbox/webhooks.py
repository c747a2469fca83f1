"""Signed webhook delivery for sandboxes.

Providers notify apps by POSTing a body signed with HMAC-SHA256 (base64 of the digest, keyed with a
verifier token or webhook key). :func:`sign_hmac_sha256_base64` is that signature;
:class:`WebhookOutbox` queues deliveries and sends them when asked.

Delivery is explicit (:meth:`WebhookOutbox.flush`) rather than a hidden thread so tests decide when
notifications arrive, and a sandbox that wants automatic delivery runs ``flush`` from a task bound to
its app's lifespan. Failed deliveries follow the provider's retry schedule in simulated time, and - as
QBO documents - later events to the same endpoint are held back until the failing one is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from ledgerbridge_testing.sandbox.clock import SandboxClock

#: Intuit's documented retry delays (seconds); the last value repeats.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (10, 20, 30, 300, 1200, 7200, 14400, 21600)


def sign_hmac_sha256_base64(key: str | bytes, body: bytes) -> str:
    """base64(HMAC-SHA256(key, body)) - the signature QBO, Xero and FreshBooks all build on."""
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    return base64.b64encode(hmac.new(raw_key, body, hashlib.sha256).digest()).decode("ascii")


def verify_hmac_sha256_base64(key: str | bytes, body: bytes, signature: str) -> bool:
    """Constant-time check of a received signature (what a receiving app must do)."""
    return hmac.compare_digest(sign_hmac_sha256_base64(key, body), signature)


@dataclass
class WebhookDelivery:
    """One POST to make; kept after success as the delivery history."""

    id: int
    url: str
    body: bytes
    headers: dict[str, str]
    created_at: float
    next_attempt_at: float
    attempts: int = 0
    delivered: bool = False
    last_status: int | None = None
    last_error: str | None = None
    statuses: list[int | None] = field(default_factory=list)
    in_flight: bool = False


class WebhookOutbox:
    """FIFO of signed deliveries with provider-style retries (thread-safe)."""

    def __init__(
        self,
        clock: SandboxClock,
        retry_schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE,
        timeout: float = 3.0,
        hold_after_failure: bool = True,
    ) -> None:
        self.clock = clock
        self.retry_schedule = tuple(retry_schedule) or (60.0,)
        self.timeout = timeout
        self.hold_after_failure = hold_after_failure
        self._queue: list[WebhookDelivery] = []
        self._history: list[WebhookDelivery] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def enqueue(self, url: str, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        """Queue a body for delivery now (or at the next flush)."""
        now = self.clock.monotonic()
        delivery = WebhookDelivery(
            id=next(self._ids), url=url, body=body, headers=dict(headers), created_at=now, next_attempt_at=now
        )
        with self._lock:
            self._queue.append(delivery)
        return delivery

    def pending(self) -> list[WebhookDelivery]:
        """Deliveries not yet accepted by the receiver."""
        with self._lock:
            return list(self._queue)

    def history(self) -> list[WebhookDelivery]:
        """Deliveries the receiver accepted, oldest first."""
        with self._lock:
            return list(self._history)

    def clear(self) -> None:
        """Drop queued and delivered notifications (sandbox reset)."""
        with self._lock:
            self._queue.clear()
            self._history.clear()

    async def flush(self, client: httpx.AsyncClient | None = None) -> list[WebhookDelivery]:
        """Attempt every due delivery in order; return those attempted.

        A 2xx answer within ``timeout`` is success. Anything else reschedules the delivery on the retry
        schedule and, with ``hold_after_failure``, stops the flush for that URL so that ordering is
        preserved exactly as the provider does it.
        """
        owns_client = client is None
        http = client or httpx.AsyncClient(timeout=self.timeout)
        attempted: list[WebhookDelivery] = []
        blocked: set[str] = set()
        try:
            for delivery in self.pending():
                if delivery.url in blocked:
                    continue
                if delivery.next_attempt_at > self.clock.monotonic():
                    if self.hold_after_failure:
                        blocked.add(delivery.url)
                    continue
                with self._lock:
                    if delivery.in_flight or delivery.delivered:
                        continue  # a concurrent flush owns it
                    delivery.in_flight = True
                attempted.append(delivery)
                try:
                    ok = await self._attempt(http, delivery)
                finally:
                    delivery.in_flight = False
                if not ok and self.hold_after_failure:
                    blocked.add(delivery.url)
        finally:
            if owns_client:
                await http.aclose()
        return attempted

    async def _attempt(self, http: httpx.AsyncClient, delivery: WebhookDelivery) -> bool:
        delivery.attempts += 1
        try:
            response = await http.post(
                delivery.url, content=delivery.body, headers=delivery.headers, timeout=self.timeout
            )
            delivery.last_status = response.status_code
            delivery.last_error = None
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            delivery.last_status = None
            delivery.last_error = f"{type(exc).__name__}: {exc}"
            ok = False
        delivery.statuses.append(delivery.last_status)
        with self._lock:
            if ok:
                delivery.delivered = True
                if delivery in self._queue:
                    self._queue.remove(delivery)
                self._history.append(delivery)
            else:
                index = min(delivery.attempts - 1, len(self.retry_schedule) - 1)
                delivery.next_attempt_at = self.clock.monotonic() + self.retry_schedule[index]
        return ok
