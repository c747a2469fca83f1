"""What stands in front of FreshBooks' APIs: bearer tokens, business membership, scopes and throttling.

A plain ASGI wrapper, so a rejected request never reaches the routes (as at a gateway) and a request
holds its concurrency slot for its whole life. Each service answers a failed authentication in its own
shape (FACTS.md "FreshBooks 7"): identity ``{"error":"unauthenticated",...}``, accounting the google.rpc
body with reason 1003, events ``{"errno":401,...}``, business services ``{"errors":{...}}``. Throttling
(429) counts per app and user in a sliding minute; FreshBooks publishes no numbers, so they are config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.faults import ASGIApp, Receive, Scope, Send
from ledgerbridge_testing.sandbox.oauth import InvalidToken

from ledgerbridge_freshbooks.sandbox.errors import FbError, forbidden, throttled, unauthenticated

if TYPE_CHECKING:
    from ledgerbridge_freshbooks.sandbox.app import FbSandbox

ME_PATH = "/auth/api/v1/users/me"
ACCOUNTING_PREFIX = "/accounting/account/"
BUSINESS_PREFIX = "/accounting/businesses/"
EVENTS_PREFIX = "/events/account/"
TIMETRACKING_PREFIX = "/timetracking/business/"  # addressed by the numeric business id
IDENTITY_KEY = "fb_identity"
CLIENT_KEY = "fb_client_id"

#: URL group -> scope area (FACTS FreshBooks 1 "Scopes").
SCOPE_AREAS = {"users": "clients", "items": "billable_items", "taxes": "taxes", "invoices": "invoices",
               "payments": "payments"}


async def send_json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """A complete JSON response on a raw ASGI channel."""
    data = jsoncodec.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data)),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


def service_of(path: str) -> str | None:
    """Which FreshBooks service a path belongs to (None: not guarded)."""
    if path.rstrip("/") == ME_PATH:
        return "identity"
    if path.startswith(ACCOUNTING_PREFIX):
        return "accounting"
    if path.startswith(BUSINESS_PREFIX):
        return "business"
    if path.startswith(EVENTS_PREFIX):
        return "events"
    if path.startswith(TIMETRACKING_PREFIX):
        return "timetracking"
    return None


#: Statuses the current accounting API answers in the google.rpc form (the Java SDK's "new" fixtures:
#: a missing client, an unauthenticated call, a method or route that does not exist); validation and
#: conflict answers keep the classic form there.
CURRENT_RPC_STATUSES = frozenset({401, 404, 405, 413})


def error_body(service: str, error: FbError, style: str) -> Any:
    """The error in the shape the given service uses."""
    if service == "identity":
        return {"error": "unauthenticated" if error.status == 401 else "forbidden",
                "error_description": error.message}
    if service == "events":
        return error.events()
    if service in ("business", "timetracking"):
        return error.business()
    if error.status == 401 or style == "rpc":
        return error.rpc()
    if style == "current" and error.status in CURRENT_RPC_STATUSES:
        return error.rpc()
    return error.classic()


class FbApiGuard:
    """Authentication, membership, scope and rate checks (see module docstring)."""

    def __init__(self, app: ASGIApp, sandbox: FbSandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        service = service_of(path) if scope.get("type") == "http" else None
        if service is None:
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        style = sandbox.config.error_format
        token = None
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                text = value.decode("latin-1")
                if text.lower().startswith("bearer "):
                    token = text[7:].strip()
        try:
            info = sandbox.oauth.validate_access(token)
        except InvalidToken:
            error = unauthenticated()
            if service == "events":
                error.message = "invalid_token: The request token failed to authenticate or validate."
            await send_json(send, 401, error_body(service, error, style),
                            [(b"www-authenticate", b'Bearer error="invalid_token"')])
            return
        identity = sandbox.state.identities.get(int(info.grant.subject))
        problem = self._membership(service, path, identity.account_ids if identity else ())
        if problem is None and service == "accounting":
            problem = self._scope(path, scope.get("method", "GET"), info.grant.scopes)
        if problem is None and service == "business" and "user:business:read" not in info.grant.scopes:
            problem = FbError(403, 1002, "The token lacks the user:business:read scope.", "", "scope", "")
        if problem is not None:
            await send_json(send, problem.status, error_body(service, problem, style))
            return
        key = (info.grant.client_id, info.grant.subject)
        decision = sandbox.limits.per_minute.hit(key)
        if not decision.allowed or not sandbox.limits.concurrent.try_acquire(key):
            headers = []
            if sandbox.config.send_retry_after:
                headers.append((b"retry-after", str(max(1, round(decision.retry_after or 1))).encode()))
            await send_json(send, 429, error_body(service, throttled(), style), headers)
            return
        try:
            state = scope.setdefault("state", {})
            state[IDENTITY_KEY] = int(info.grant.subject)
            state[CLIENT_KEY] = info.grant.client_id
            await self.app(scope, receive, send)
        finally:
            sandbox.limits.concurrent.release(key)

    def _membership(self, service: str, path: str, account_ids: tuple[str, ...]) -> FbError | None:
        if service == "identity":
            return None
        prefix = {"accounting": ACCOUNTING_PREFIX, "events": EVENTS_PREFIX, "business": BUSINESS_PREFIX,
                  "timetracking": TIMETRACKING_PREFIX}[service]
        target = path[len(prefix):].split("/", 1)[0]
        if service == "business":
            business = self.sandbox.state.by_uuid(target)
            account = business.account_id if business else ""
        elif service == "timetracking":
            found = self.sandbox.state.by_business_id(int(target)) if target.isdigit() else None
            account = found.account_id if found else ""
        else:
            account = target
        if account not in account_ids:
            return forbidden(target)
        return None

    def _scope(self, path: str, method: str, scopes: tuple[str, ...]) -> FbError | None:
        parts = path[len(ACCOUNTING_PREFIX):].split("/")
        area = SCOPE_AREAS.get(parts[1]) if len(parts) > 1 else None
        if area is None:
            return None
        allowed = {f"user:{area}:write"} if method not in ("GET", "HEAD") else {f"user:{area}:read",
                                                                                f"user:{area}:write"}
        if allowed.isdisjoint(scopes):
            return FbError(403, 1002, f"The token lacks the scope for {area}.", parts[1], "scope", "")
        return None
