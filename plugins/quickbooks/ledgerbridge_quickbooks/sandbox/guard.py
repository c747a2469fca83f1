"""What stands in front of ``/v3/company/{realmId}``: authentication and throttling.

QBO checks the bearer token before anything else (401 with a lowercase body and
``WWW-Authenticate: Bearer realm="Intuit", error="invalid_token"``), refuses a token issued for another
company (403), then meters the call: 500 requests a minute and 10 in flight per app and realm, 120
batch calls a minute (FACTS.md QBO 6, 7). This is a plain ASGI wrapper so that a rejected request never
reaches the application, exactly like a gateway, and so that a request's concurrency slot is held for
its whole life - including any injected slowness.

It also stamps every response with an ``intuit_tid`` transaction id header.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.faults import ASGIApp, Message, Receive, Scope, Send
from ledgerbridge_testing.sandbox.oauth import InvalidToken

from ledgerbridge_quickbooks.sandbox.config import ACCOUNTING_SCOPE
from ledgerbridge_quickbooks.sandbox.errors import (
    WWW_AUTHENTICATE_INVALID_TOKEN,
    QboFault,
    authorization_failure,
    throttled,
    unauthorized_body,
)
from ledgerbridge_quickbooks.sandbox.store import company_timezone, format_response_time

if TYPE_CHECKING:
    from ledgerbridge_quickbooks.sandbox.app import QboSandbox

API_PREFIX = "/v3/company/"
RATE_KEY = "qbo_rate_key"


def new_tid() -> str:
    """An id in the shape of Intuit's ``intuit_tid`` (``1-5f732f5f-25dcb83b777d318c396aaf06``)."""
    return f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"


async def send_json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Write a complete JSON response on a raw ASGI channel."""
    data = jsoncodec.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json;charset=UTF-8"),
                (b"content-length", b"%d" % len(data)),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class TransactionIdMiddleware:
    """Add ``intuit_tid`` to every response that does not already carry one."""

    def __init__(self, app: ASGIApp, exempt_prefix: str = "/_sandbox") -> None:
        self.app = app
        self.exempt_prefix = exempt_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("path", "").startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        tid = new_tid().encode()

        async def stamped(message: Message) -> None:
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"intuit_tid" for name, _ in headers):
                    headers.append((b"intuit_tid", tid))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped)


class QboApiGuard:
    """Authentication, company check, rate and concurrency limits for the accounting API."""

    def __init__(self, app: ASGIApp, sandbox: QboSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope.get("type") != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        realm_id = path[len(API_PREFIX) :].split("/", 1)[0]
        sandbox = self.sandbox
        token = None
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                text = value.decode("latin-1")
                if text.lower().startswith("bearer "):
                    token = text[7:].strip()
        try:
            info = sandbox.oauth.validate_access(token)
        except InvalidToken as exc:
            detail = {
                "expired": f"Token expired: {(token or '')[:12]}...",
                "revoked": "Token revoked",
            }.get(exc.reason, "Token invalid")
            epoch_ms = int(sandbox.clock.now().timestamp() * 1000)
            await send_json(
                send,
                401,
                unauthorized_body(detail, epoch_ms),
                [(b"www-authenticate", WWW_AUTHENTICATE_INVALID_TOKEN.encode())],
            )
            return
        company = sandbox.state.company(realm_id)
        if info.grant.subject != realm_id or company is None:
            await self._fault(
                send,
                authorization_failure(
                    f"The access token was issued for another company (realmId {info.grant.subject})."
                ),
                realm_id,
            )
            return
        if ACCOUNTING_SCOPE not in info.grant.scopes:
            await self._fault(send, authorization_failure(f"The token lacks the {ACCOUNTING_SCOPE} scope."), realm_id)
            return
        key = (info.grant.client_id, realm_id)
        limits = sandbox.limits
        if path.rstrip("/").endswith("/batch") and scope.get("method") == "POST":
            if not limits.batch_per_minute.hit(key).allowed:
                await self._throttled(send, realm_id, limits.batch_per_minute.window)
                return
        if limits.per_second is not None and not limits.per_second.hit(key).allowed:
            await self._throttled(send, realm_id, 1.0)
            return
        decision = limits.per_minute.hit(key)
        if not decision.allowed:
            await self._throttled(send, realm_id, decision.retry_after)
            return
        if not limits.concurrent.try_acquire(key):
            await self._throttled(send, realm_id, 1.0)
            return
        try:
            scope.setdefault("state", {})[RATE_KEY] = key
            await self.app(scope, receive, send)
        finally:
            limits.concurrent.release(key)

    async def _fault(
        self, send: Send, fault: QboFault, realm_id: str, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        company = self.sandbox.state.company(realm_id)
        tz = company.tz if company else company_timezone("America/Los_Angeles")
        body = {"Fault": fault.fault_body(), "time": format_response_time(self.sandbox.clock.now(), tz)}
        await send_json(send, fault.status, body, headers)

    async def _throttled(self, send: Send, realm_id: str, retry_after: float) -> None:
        headers = []
        if self.sandbox.config.send_retry_after:
            headers.append((b"retry-after", str(max(1, round(retry_after))).encode()))
        await self._fault(send, throttled(), realm_id, headers)
