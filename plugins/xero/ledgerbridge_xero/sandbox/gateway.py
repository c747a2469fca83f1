"""What stands in front of ``/api.xro/2.0``: bearer token, ``xero-tenant-id``, scopes and rate limits.

Xero checks the token (401), then that the tenant header names an organisation connected to the app
(403), then meters the call per app+organisation (60 a minute, 5,000 a day, 5 in flight) and per app
(10,000 a minute), answering 429 with ``Retry-After`` and ``X-Rate-Limit-Problem`` (FACTS Xero 6).
Every answer carries ``X-MinLimit-Remaining``, ``X-DayLimit-Remaining`` and
``X-AppMinLimit-Remaining``. It is a plain ASGI wrapper so a rejected call never reaches the routes and
a call holds its concurrency slot for its whole life, including injected slowness.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.faults import ASGIApp, Message, Receive, Scope, Send
from ledgerbridge_testing.sandbox.limits import ConcurrencyLimiter, SlidingWindowLimiter
from ledgerbridge_testing.sandbox.oauth import InvalidToken

from ledgerbridge_xero.sandbox.errors import XeroApiError, forbidden, too_many_requests, unauthorized

if TYPE_CHECKING:
    from ledgerbridge_xero.sandbox.app import XeroSandbox

API_PREFIX = "/api.xro/2.0/"
ACCESS_KEY = "xero_access"

#: Collection -> (read scopes, write scopes); a write scope also allows reading (FACTS Xero 1 "Scopes").
SCOPES = {
    "contacts": ({"accounting.contacts.read"}, {"accounting.contacts"}),
    "invoices": (
        {"accounting.transactions.read", "accounting.invoices.read"},
        {"accounting.transactions", "accounting.invoices"},
    ),
    "payments": (
        {"accounting.transactions.read", "accounting.payments.read"},
        {"accounting.transactions", "accounting.payments"},
    ),
    "items": ({"accounting.settings.read", "accounting.invoices.read"}, {"accounting.settings", "accounting.invoices"}),
    "accounts": ({"accounting.settings.read"}, {"accounting.settings"}),
    "taxrates": ({"accounting.settings.read"}, {"accounting.settings"}),
    "organisation": ({"accounting.settings.read"}, {"accounting.settings"}),
}


@dataclass
class XeroLimits:
    """The limits of FACTS Xero 6."""

    per_minute: SlidingWindowLimiter
    per_day: SlidingWindowLimiter
    app_per_minute: SlidingWindowLimiter
    concurrent: ConcurrencyLimiter

    def reset(self) -> None:
        self.per_minute.reset()
        self.per_day.reset()
        self.app_per_minute.reset()


@dataclass(frozen=True)
class TenantAccess:
    """What a route learns from the gateway."""

    client_id: str
    tenant_id: str
    scopes: tuple[str, ...]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def send_error(send: Send, exc: XeroApiError, extra: dict[str, str] | None = None) -> None:
    """Write an error on a raw ASGI channel."""
    if isinstance(exc.body, str):
        data, kind = exc.body.encode(), b"text/plain; charset=utf-8"
    else:
        data, kind = jsoncodec.dumps(exc.body), b"application/json; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", b"%d" % len(data))]
    for name, value in {**(extra or {}), **exc.headers}.items():
        headers.append((name.lower().encode(), value.encode()))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class XeroApiGuard:
    """Authentication, tenant check, scopes and limits for the Accounting API."""

    def __init__(self, app: ASGIApp, sandbox: XeroSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope.get("type") != "http" or not path.lower().startswith(API_PREFIX.lower()):
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        correlation = [(b"xero-correlation-id", str(uuid.uuid4()).encode())]
        token = _header(scope, b"authorization")
        bearer = token[7:].strip() if token and token.lower().startswith("bearer ") else None
        try:
            access = sandbox.identity.validate(bearer)
        except InvalidToken as exc:
            await send_error(send, sandbox.unauthorized_for(exc, bearer))
            return
        tenant_id = (_header(scope, b"xero-tenant-id") or "").strip().lower()
        if not tenant_id or tenant_id not in sandbox.service.organisations:
            await send_error(send, forbidden())
            return
        if not sandbox.identity.connected(access.client_id, tenant_id):
            await send_error(send, forbidden())
            return
        collection = path[len(API_PREFIX) :].split("/", 1)[0].lower()
        read, write = SCOPES.get(collection, (set(), set()))
        needed = read | write if scope.get("method") in ("GET", "HEAD") else write
        if needed and not needed & set(access.scopes):
            await send_error(send, unauthorized("AuthorizationUnsuccessful"))
            return
        limits = sandbox.limits
        key = (access.client_id, tenant_id)
        if not limits.concurrent.try_acquire(key):
            await self._throttled(send, "concurrent", 1.0, key, access.client_id)
            return
        try:
            for limiter, problem, limit_key in (
                (limits.app_per_minute, "appminute", access.client_id),
                (limits.per_day, "day", key),
                (limits.per_minute, "minute", key),
            ):
                decision = limiter.hit(limit_key)
                if not decision.allowed:
                    await self._throttled(send, problem, decision.retry_after, key, access.client_id)
                    return
            headers = [*correlation, *self._remaining(key, access.client_id)]

            async def stamped(message: Message) -> None:
                if message.get("type") == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), *headers]}
                await send(message)

            scope.setdefault("state", {})[ACCESS_KEY] = TenantAccess(access.client_id, tenant_id, access.scopes)
            await self.app(scope, receive, stamped)
        finally:
            limits.concurrent.release(key)

    def _remaining(self, key: tuple[str, str], client_id: str) -> list[tuple[bytes, bytes]]:
        limits = self.sandbox.limits
        return [
            (b"x-daylimit-remaining", str(limits.per_day.remaining(key)).encode()),
            (b"x-minlimit-remaining", str(limits.per_minute.remaining(key)).encode()),
            (b"x-appminlimit-remaining", str(limits.app_per_minute.remaining(client_id)).encode()),
        ]

    async def _throttled(self, send: Send, problem: str, retry_after: float, key: tuple[str, str], client: str) -> None:
        headers = {k.decode(): v.decode() for k, v in self._remaining(key, client)}
        await send_error(send, too_many_requests(problem, max(1, math.ceil(retry_after)), headers))


def tenant_access(state: Any) -> TenantAccess:
    """The gateway's verdict, from a route's request state."""
    return state[ACCESS_KEY] if isinstance(state, dict) else getattr(state, ACCESS_KEY)
