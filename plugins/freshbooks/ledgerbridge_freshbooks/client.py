"""The HTTP conversation with FreshBooks: where to send, and what its many error shapes mean.

Everything that knows FreshBooks' wire lives here (FACTS.md FreshBooks 1, 2 and 7): the real hosts (or a
sandbox's, when `settings.base_url` is set), the authorization server the core's OAuth flow uses, the
`{"response":{"result":...}}` envelope, and the translation of the five error bodies FreshBooks answers
with (classic accounting, google.rpc accounting, identity/OAuth, events, business services) and of
transport failures into `ledgerbridge.errors` types. Hooks build an `FbClient` on the session the core
handed them, so the bearer token and the shared rate limiter stay the core's business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict, Unpack

import httpx
from ledgerbridge.errors import (
    AccessTokenExpired,
    AuthorizationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from ledgerbridge.provider import AuthorizationServer, ProviderSession
from ledgerbridge.providerhttp import read_json, retry_after_seconds, transport_error, unreadable_answer
from ledgerbridge.settings import ProviderSettings

AUTHORIZE_URL = "https://auth.freshbooks.com/oauth/authorize"
API_URL = "https://api.freshbooks.com"
WEB_URL = "https://my.freshbooks.com"
#: What LedgerBridge reads and writes; `user:profile:read` is always granted (FACTS FreshBooks 1 "Scopes").
SCOPES = (
    "user:profile:read", "user:clients:read", "user:clients:write", "user:billable_items:read",
    "user:billable_items:write", "user:taxes:read", "user:taxes:write", "user:invoices:read", "user:invoices:write",
    "user:payments:read", "user:payments:write",
)
PER_PAGE = 100  # FreshBooks silently caps per_page at 100 (FACTS FreshBooks 4)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_RETRY_AFTER = 60.0  # FreshBooks sends no Retry-After (UNCONFIRMED): wait a minute
ERRNO_NOT_FOUND = "1012"
PROVIDER = "FreshBooks"  # as the error messages name it


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    revoke: str
    api: str
    web: str


def endpoints(settings: ProviderSettings) -> Endpoints:
    """FreshBooks' hosts, or the same paths on a sandbox when `base_url` is set (FreshBooks has no
    separate sandbox environment, so `environment` does not change the hosts)."""
    if settings.base_url:
        base = settings.base_url.rstrip("/")
        return Endpoints(f"{base}/oauth/authorize", f"{base}/auth/oauth/token", f"{base}/auth/oauth/revoke", base,
                         base)
    return Endpoints(AUTHORIZE_URL, f"{API_URL}/auth/oauth/token", f"{API_URL}/auth/oauth/revoke", API_URL, WEB_URL)


def loads(data: bytes | str) -> Any:
    """JSON with exact decimals (FreshBooks amounts are strings, but percentages may be numbers)."""
    return read_json(data)


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class FbProblem:
    """The first problem of any FreshBooks error body."""

    status: int
    errno: str = ""
    message: str = ""
    field: str = ""
    error: str = ""  # OAuth/identity `error` code


def read_problem(status: int, body: Any) -> FbProblem:
    """Read whichever of FreshBooks' error shapes the body is in."""
    if not isinstance(body, dict):
        return FbProblem(status)
    response = body.get("response")
    if isinstance(response, dict) and isinstance(response.get("errors"), list) and response["errors"]:
        first = response["errors"][0] if isinstance(response["errors"][0], dict) else {}
        return FbProblem(status, str(first.get("errno", "")), str(first.get("message", "")),
                         str(first.get("field", "")))
    details = body.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict) and "reason" in details[0]:
        meta = details[0].get("metadata") or {}
        return FbProblem(status, str(details[0].get("reason", "")),
                         str(meta.get("message") or body.get("message") or ""), str(meta.get("field", "")))
    if "error" in body and isinstance(body["error"], str):
        return FbProblem(status, message=str(body.get("error_description") or body["error"]), error=body["error"])
    errors = body.get("errors")
    if isinstance(errors, dict):
        return FbProblem(status, message=str(errors.get("message", "")))
    if "errno" in body or "message" in body:
        text = str(body.get("message", ""))
        if isinstance(details, list) and details:
            text = f"{text} ({'; '.join(str(d) for d in details)})"
        return FbProblem(status, str(body.get("errno", "")), text)
    return FbProblem(status)


def translate_problem(problem: FbProblem, *, retry_after: str | None = None, subject: str = "",
                      number: str = "") -> ProviderError:
    """The `ledgerbridge.errors` type a FreshBooks answer stands for, worded for whoever has to act."""
    kw: dict[str, Any] = {"status": problem.status, "provider_code": problem.errno or problem.error or None}
    what = subject or "the record"
    said = problem.message or f"HTTP {problem.status}"
    if problem.status == 429:
        return RateLimited("FreshBooks asked us to slow down.",
                           retry_after=retry_after_seconds(retry_after, DEFAULT_RETRY_AFTER), **kw)
    if problem.status == 401:
        return AccessTokenExpired("FreshBooks no longer accepts the access token.", **kw)
    if problem.status == 403:
        return AuthorizationError(
            f"FreshBooks refused access to {what}: the signed-in user is not a member of this business or the "
            f"app lacks the permission ({said}).", code="token_revoked", **kw)
    if problem.status >= 500:
        return ProviderUnavailable("FreshBooks reported an error on its side.", **kw)
    if problem.status == 404 or problem.errno == ERRNO_NOT_FOUND:
        return ProviderError(f"FreshBooks no longer has {what}: {said}", code="remote_not_found", **kw)
    if problem.status == 409 and (problem.field == "invoice_number" or number):
        label = f" {number}" if number else ""
        return ProviderError(f"FreshBooks already has an invoice numbered{label} (deleted invoices keep their "
                             "numbers).", code="duplicate_number", **kw)
    return ProviderError(f"FreshBooks refused {what}: {said}", code="validation_failed", **kw)


class ErrorContext(TypedDict, total=False):
    """What a call is about, passed through to `translate_problem` so a failure names the record."""

    subject: str
    number: str


def translate_response(response: httpx.Response, **context: Unpack[ErrorContext]) -> ProviderError:
    try:
        body = loads(response.content) if response.content else None
    except ValueError:
        body = None
    return translate_problem(read_problem(response.status_code, body),
                             retry_after=response.headers.get("retry-after"), **context)


# --------------------------------------------------------------------------- OAuth


def authorization_server(settings: ProviderSettings) -> AuthorizationServer:
    """FreshBooks' OAuth2 server as the core's flow needs it (FACTS.md FreshBooks 1).

    Client credentials go in the request body (Basic is refused), for revocation too; no PKCE;
    access tokens last 12 hours; refresh tokens never expire by age but work once, so the core's
    store-before-use of the rotated token is what keeps the connection alive.
    """
    urls = endpoints(settings)
    return AuthorizationServer(
        authorize_url=urls.authorize, token_url=urls.token, revoke_url=urls.revoke, scopes=SCOPES,
        client_auth="client_secret_post", pkce=False, access_token_lifetime=timedelta(hours=12),
        refresh_token_lifetime=None,
    )


async def identity(settings: ProviderSettings, access_token: str) -> dict[str, Any]:
    """`users/me`: who signed in and which businesses they belong to (no session exists yet)."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        try:
            response = await http.get(f"{endpoints(settings).api}/auth/api/v1/users/me",
                                      headers={"Authorization": f"Bearer {access_token}",
                                               "Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=False) from exc
    if response.status_code != 200:
        raise translate_response(response, subject="the signed-in user's businesses")
    return loads(response.content).get("response") or {}


# --------------------------------------------------------------------------- the accounting API


def _http_date(value: str | None) -> datetime | None:
    """An HTTP `Date` header as an aware UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ListPage:
    rows: list[dict[str, Any]]
    page: int
    pages: int
    #: The answer's HTTP `Date` (FreshBooks' clock, whole seconds), None when it had none.
    server_time: datetime | None = None


class FbClient:
    """One business's accounting API (`/accounting/account/{account_id}`), through the session's client."""

    def __init__(self, session: ProviderSession) -> None:
        self.session = session
        self.http = session.http
        self.account_id = str(session.provider_data.get("account_id") or session.tenant_id)
        urls = endpoints(session.settings)
        self.web = str(session.provider_data.get("app_url") or urls.web).rstrip("/")
        self.base = f"{urls.api}/accounting/account/{self.account_id}"
        self.server_time: datetime | None = None  # the last answer's `Date`

    async def _send(self, method: str, tail: str, *, params: list[tuple[str, str]] | None = None,
                    body: Any = None, write: bool = False, **context: Unpack[ErrorContext]) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        content = None
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            # The session's own timeout applies: the core chose it for every provider alike.
            response = await self.http.request(method, f"{self.base}/{tail}", params=tuple(params or ()),
                                               content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=write) from exc
        self.server_time = _http_date(response.headers.get("date"))
        if response.status_code != 200:
            raise translate_response(response, **context)
        try:
            data = loads(response.content)
        except ValueError as exc:
            raise unreadable_answer(PROVIDER, write=write) from exc
        return (data.get("response") or {}).get("result") or {}

    async def list_page(self, path: str, key: str, page: int, filters: list[tuple[str, str]] | None = None,
                        per_page: int = PER_PAGE) -> ListPage:
        """One page of a list; `pages` from the answer says whether there is more (never guess from sizes:
        FreshBooks caps `per_page` silently)."""
        params = [("page", str(page)), ("per_page", str(per_page)), *(filters or [])]
        result = await self._send("GET", path, params=params)
        return ListPage(list(result.get(key) or []), int(result.get("page") or page), int(result.get("pages") or 1),
                        self.server_time)

    async def get(self, path: str, key: str, record_id: str, *, lines: bool = False, **context: Unpack[ErrorContext]
                  ) -> dict[str, Any]:
        params = [("include[]", "lines")] if lines else None
        return (await self._send("GET", f"{path}/{record_id}", params=params, **context))[key]

    async def create(self, path: str, key: str, body: dict[str, Any], *, lines: bool = False,
                     **context: Unpack[ErrorContext]) -> dict[str, Any]:
        params = [("include[]", "lines")] if lines else None
        return (await self._send("POST", path, params=params, body={key: body}, write=True, **context))[key]

    async def update(self, path: str, key: str, record_id: str, body: dict[str, Any], *, lines: bool = False,
                     **context: Unpack[ErrorContext]) -> dict[str, Any]:
        params = [("include[]", "lines")] if lines else None
        result = await self._send("PUT", f"{path}/{record_id}", params=params, body={key: body}, write=True,
                                  **context)
        return result[key]
