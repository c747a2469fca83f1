"""What stands in front of `/api/`: the bearer token, the company it may reach, and the rate limits.

A plain ASGI layer, so a refused call never reaches the routes and a call holds its concurrency slot
for its whole life (injected slowness included). The order is Acme Books's: token (401), then the
company in the path must be the one the consent covered (403), then the per-minute and
in-flight limits per app and company (429 with `Retry-After`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.faults import ASGIApp, Receive, Scope, Send
from ledgerbridge_testing.sandbox.oauth import InvalidToken

from ledgerbridge_acme.sandbox.books import ApiError

if TYPE_CHECKING:
    from ledgerbridge_acme.sandbox.app import Sandbox

API_PREFIX = "/api/"
COMPANY_PREFIX = "/api/v1/companies/"
GRANT_KEY = "acme_grant"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def send_error(send: Send, error: ApiError) -> None:
    data = jsoncodec.dumps(error.body())
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
    headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class ApiGuard:
    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope.get("type") != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        try:
            access = self.sandbox.oauth.validate_access(token)
        except InvalidToken as exc:
            await send_error(send, ApiError(401, f"token_{exc.reason}", f"The access token is {exc.reason}."))
            return
        grant = access.grant
        if path.startswith(COMPANY_PREFIX):
            company = path[len(COMPANY_PREFIX):].split("/", 1)[0]
            if company != grant.subject:
                await send_error(send, ApiError(403, "forbidden", f"This token does not cover company "
                                                f"{company}."))
                return
        key = (grant.client_id, grant.subject)
        limits = self.sandbox.limits
        if not limits.concurrent.try_acquire(key):
            limits.refused += 1
            await send_error(send, ApiError(429, "too_many_concurrent", "Too many requests at once.",
                                            {"Retry-After": "1"}))
            return
        try:
            decision = limits.per_minute.hit(key)
            if not decision.allowed:
                limits.refused += 1
                wait = str(max(1, math.ceil(decision.retry_after)))
                await send_error(send, ApiError(429, "rate_limited", "Too many requests this minute.",
                                                {"Retry-After": wait}))
                return
            scope.setdefault("state", {})[GRANT_KEY] = grant
            await self.app(scope, receive, send)
        finally:
            limits.concurrent.release(key)


def grant_of(state: Any) -> Any:
    """The consent a request was authorised by, as the guard left it in the request's state."""
    return state[GRANT_KEY] if isinstance(state, dict) else getattr(state, GRANT_KEY)
