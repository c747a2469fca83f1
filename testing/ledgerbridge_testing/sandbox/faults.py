"""Fault injection: make the next N matching requests fail in a chosen way.

The failures that corrupt integrations are the ones that never happen on a developer's laptop: a 503
from the provider's gateway, a response so slow the client gives up, and worst, a write that the
provider *applied* but whose response never arrived (the client retries and, without idempotency,
creates a duplicate). :class:`FaultRegistry` holds rules ("the next 2 POSTs under /v3/company/1/invoice
time out after applying"), and :class:`FaultInjectionMiddleware` is a plain ASGI wrapper that enforces
them in front of any sandbox app.

Kinds:

* ``error``  - answer at once with ``status`` (a 5xx) and a provider-shaped body; nothing is executed.
* ``slow``   - wait ``delay`` simulated seconds, then handle the request normally.
* ``hold``   - wait until the test calls :meth:`FaultRegistry.release` (or ``delay`` simulated seconds
  pass, if given), then handle the request normally. Deterministic "slow" for concurrency tests.
* ``revoke_tokens`` - the user disconnects the app: every OAuth connection ends (the matching request
  itself still completes; everything after it gets 401 / ``invalid_grant``).
* ``timeout_after_apply`` - run the request fully (the write is applied), then hold the response for up
  to ``delay`` simulated seconds while the client is still connected, and finally drop the connection
  without a complete response. The client sees a timeout or a broken connection, never the result.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import anyio

from ledgerbridge_testing.sandbox.clock import SandboxClock

# ASGI callables are typed loosely on purpose: the middleware must wrap any ASGI app.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]

logger = logging.getLogger(__name__)


class FaultKind(StrEnum):
    """What an injected fault does (see module docstring)."""

    ERROR = "error"
    SLOW = "slow"
    HOLD = "hold"
    REVOKE_TOKENS = "revoke_tokens"
    TIMEOUT_AFTER_APPLY = "timeout_after_apply"


class FaultRuleError(ValueError):
    """A fault rule was specified inconsistently (e.g. an ``error`` fault with a 2xx status)."""


class SimulatedConnectionDrop(ConnectionError):
    """Raised after a partial response so that the server (or an in-process transport) aborts."""


@dataclass
class FaultRule:
    """One armed fault; ``remaining`` counts down as matching requests consume it."""

    id: int
    kind: FaultKind
    path_prefix: str
    remaining: int
    status: int = 503
    delay: float = 0.0
    method: str | None = None
    triggered: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        """Prefix match on the path, optional exact match on the HTTP method."""
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path_prefix)

    def to_json(self) -> dict[str, Any]:
        """JSON form used by the control API."""
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


class FaultRegistry:
    """Thread-safe list of armed faults, consumed first-armed first."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._released: dict[int, threading.Event] = {}

    def add(
        self,
        kind: FaultKind | str,
        path_prefix: str = "/",
        count: int = 1,
        status: int | None = None,
        delay: float = 0.0,
        method: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> FaultRule:
        """Arm a fault for the next ``count`` requests whose path starts with ``path_prefix``."""
        kind = FaultKind(kind)
        if count < 1:
            raise FaultRuleError("count must be >= 1")
        if delay < 0:
            raise FaultRuleError("delay must be >= 0")
        if kind is FaultKind.ERROR:
            status = 503 if status is None else status
            if not 500 <= status <= 599:
                raise FaultRuleError("an error fault needs a 5xx status")
        rule = FaultRule(
            id=next(self._ids),
            kind=kind,
            path_prefix=path_prefix,
            remaining=count,
            status=status or 503,
            delay=delay,
            method=method.upper() if method else None,
            labels=dict(labels or {}),
        )
        with self._lock:
            self._rules.append(rule)
            self._released[rule.id] = threading.Event()
        return rule

    def release(self, rule_id: int | None = None) -> None:
        """Let requests held by a ``hold`` rule (or by all rules) continue."""
        with self._lock:
            events = list(self._released.values()) if rule_id is None else [self._released[rule_id]]
        for event in events:
            event.set()

    def is_released(self, rule_id: int) -> bool:
        """True once :meth:`release` was called for the rule (or the rule is gone)."""
        with self._lock:
            event = self._released.get(rule_id)
        return event is None or event.is_set()

    def take(self, method: str, path: str) -> FaultRule | None:
        """Consume one use of the first rule matching this request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.remaining -= 1
                    rule.triggered += 1
                    return rule
        return None

    def rules(self) -> list[FaultRule]:
        """All rules, including spent ones (their ``triggered`` count is useful in tests)."""
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._rules.clear()
            events = list(self._released.values())
            self._released.clear()
        for event in events:
            event.set()  # never leave a request hanging on a rule that no longer exists


ErrorBody = Callable[[FaultRule, Scope], tuple[bytes, str]]


def _default_error_body(rule: FaultRule, scope: Scope) -> tuple[bytes, str]:
    return (b'{"error":"injected fault"}', "application/json")


class FaultInjectionMiddleware:
    """ASGI middleware applying :class:`FaultRegistry` rules to HTTP requests.

    ``exempt_prefixes`` keeps the sandbox's own control API reachable while faults are armed.
    ``error_body`` renders the provider-specific body of an ``error`` fault.
    """

    def __init__(
        self,
        app: ASGIApp,
        registry: FaultRegistry,
        clock: SandboxClock,
        error_body: ErrorBody = _default_error_body,
        exempt_prefixes: tuple[str, ...] = ("/_sandbox",),
        max_hold_seconds: float = 60.0,
        revoke_tokens: Callable[[], object] | None = None,
    ) -> None:
        self.app = app
        self.revoke_tokens = revoke_tokens
        self.max_hold_seconds = max_hold_seconds
        self.registry = registry
        self.clock = clock
        self.error_body = error_body
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        rule = self.registry.take(scope.get("method", "GET"), path)
        if rule is None:
            await self.app(scope, receive, send)
            return
        logger.info("sandbox fault %s (%s) on %s %s", rule.id, rule.kind, scope.get("method"), path)
        if rule.kind is FaultKind.ERROR:
            body, content_type = self.error_body(rule, scope)
            await send(
                {
                    "type": "http.response.start",
                    "status": rule.status,
                    "headers": [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if rule.kind is FaultKind.SLOW:
            await self.clock.sleep(rule.delay)
            await self.app(scope, receive, send)
            return
        if rule.kind is FaultKind.REVOKE_TOKENS:
            await self.app(scope, receive, send)
            if self.revoke_tokens is not None:
                self.revoke_tokens()
            return
        if rule.kind is FaultKind.HOLD:
            limit = self.clock.real_seconds(rule.delay) if rule.delay > 0 else self.max_hold_seconds
            with anyio.move_on_after(limit):
                # Release comes from other threads (tests, the control API), so poll a thread-safe flag.
                while not self.registry.is_released(rule.id):  # noqa: ASYNC110
                    await anyio.sleep(0.005)
            await self.app(scope, receive, send)
            return
        await self._apply_then_drop(rule, scope, receive, send)

    async def _apply_then_drop(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request to completion, discard its response, stall, then break the connection."""
        captured: list[Message] = []
        disconnected = anyio.Event()

        async def inner_receive() -> Message:
            message = await receive()
            if message.get("type") == "http.disconnect":
                disconnected.set()
            return message

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, inner_receive, capture)
        # The write is applied now. Hold the response while the client waits; once it gives up (or the
        # stall ends) tear the connection down without ever sending the result.
        if not disconnected.is_set():
            with anyio.move_on_after(self.clock.real_seconds(rule.delay)):
                while True:
                    message = await receive()
                    if message.get("type") == "http.disconnect":
                        disconnected.set()
                        break
        if disconnected.is_set():
            return
        start = next((m for m in captured if m.get("type") == "http.response.start"), None)
        if start is not None:
            await send(start)
        raise SimulatedConnectionDrop(f"fault {rule.id}: response dropped after the request was applied")
