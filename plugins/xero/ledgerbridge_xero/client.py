"""The HTTP conversation with Xero: where to send, which headers, and what its answers mean.

Everything that knows Xero's wire lives here (FACTS.md Xero 1, 2, 6 and 7): the identity hosts and
the Accounting API (or a sandbox's, when `settings.base_url` is set), the authorization server the
core's OAuth flow uses, `xero-tenant-id` and `Idempotency-Key` on API calls, the `{"Id","Status",...}`
envelope with Microsoft JSON dates, and the translation of Xero's error bodies (problem details for
auth, `ValidationException` with per-element messages, plain-text 404, 429 with `Retry-After` and
`X-Rate-Limit-Problem`) and of transport failures into `ledgerbridge.errors` types. Hooks build an
`XeroClient` on the session the core handed them, so the bearer token and the shared rate limiter stay
the core's business.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
from ledgerbridge import oauth
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

AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
IDENTITY_URL = "https://identity.xero.com"
API_HOST = "https://api.xero.com"
WEB_URL = "https://go.xero.com"
API_PATH = "/api.xro/2.0"
#: Broad scopes of the OpenAPI v16.1.0 (FACTS Xero 1); offline_access is what yields a refresh token.
SCOPES = ("openid", "profile", "email", "offline_access", "accounting.transactions", "accounting.contacts",
          "accounting.settings")
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
ACCESS_TTL = 1800  # seconds, when the token answer omits expires_in
REFRESH_TTL = timedelta(days=60)  # unused refresh tokens expire after 60 days (FACTS Xero 1)
PROVIDER = "Xero"  # as the error messages name it
IDEMPOTENCY_KEY_MAX = 128
PAGE_SIZE = 100

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    revoke: str
    connections: str
    api: str
    web: str


def endpoints(settings: ProviderSettings) -> Endpoints:
    """Xero's hosts, or the same paths on one sandbox host when `base_url` is set (Xero has no separate
    sandbox environment: developers use the Demo Company, so `environment` changes nothing)."""
    if settings.base_url:
        base = settings.base_url.rstrip("/")
        return Endpoints(f"{base}/identity/connect/authorize", f"{base}/connect/token", f"{base}/connect/revocation",
                         f"{base}/connections", f"{base}{API_PATH}", base)
    return Endpoints(AUTHORIZE_URL, f"{IDENTITY_URL}/connect/token", f"{IDENTITY_URL}/connect/revocation",
                     f"{API_HOST}/connections", f"{API_HOST}{API_PATH}", WEB_URL)


def dumps(value: Any) -> bytes:
    """JSON with Decimals as exact numbers and dates as YYYY-MM-DD, which Xero accepts on requests."""
    return _ENCODER.encode(value)


def loads(data: bytes | str) -> Any:
    return read_json(data)


def ms_datetime(value: Any) -> datetime | None:
    """`/Date(1584526576000+0000)/` (or an ISO string) as an aware UTC datetime."""
    if not value:
        return None
    text = str(value)
    match = _MS_DATE.fullmatch(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def idempotency_key(key: str) -> str:
    """Xero accepts keys of up to 128 characters; longer ones are hashed (stable across retries)."""
    return key if len(key) <= IDEMPOTENCY_KEY_MAX else hashlib.sha256(key.encode()).hexdigest()


# --------------------------------------------------------------------------- errors


def validation_messages(body: Any) -> list[str]:
    """Every `ValidationErrors[].Message` of a ValidationException (or of one batch element)."""
    if not isinstance(body, dict):
        return []
    messages: list[str] = []
    elements = body.get("Elements")
    sources = elements if isinstance(elements, list) else [body]
    for element in sources:
        if not isinstance(element, dict):
            continue
        for problem in element.get("ValidationErrors") or []:
            if isinstance(problem, dict) and problem.get("Message"):
                messages.append(str(problem["Message"]))
    return list(dict.fromkeys(messages))


def validation_error(messages: list[str], *, subject: str = "", number: str = "", status: int = 400,
                     provider_code: str | None = "ValidationException") -> ProviderError:
    """Xero's validation messages as the reason a person can act on."""
    what = subject or "the record"
    said = "; ".join(messages) or "Xero did not say why"
    kw: dict[str, Any] = {"status": status, "provider_code": provider_code}
    lowered = said.lower()
    if "invoice # must be unique" in lowered:
        label = f" {number}" if number else ""
        return ProviderError(f"Xero already has an invoice numbered{label} (voided and deleted invoices keep "
                             "their numbers).", code="duplicate_number", **kw)
    if "already assigned to another contact" in lowered or "please enter a unique item code" in lowered:
        return ProviderError(f"Xero refused {what}: {said}", code="duplicate_name", **kw)
    if "could not be found" in lowered and ("invoice" in lowered or "contact" in lowered or "item" in lowered):
        return ProviderError(f"Xero no longer has {what}: {said}", code="remote_not_found", **kw)
    return ProviderError(f"Xero refused {what}: {said}", code="validation_failed", **kw)


def rate_limited(headers: httpx.Headers) -> RateLimited:
    """429: the minute, concurrency and app limits pass by themselves; the daily one is worth saying."""
    wait = retry_after_seconds(headers.get("retry-after"))
    problem = (headers.get("x-rate-limit-problem") or "").strip().lower()
    kw: dict[str, Any] = {"status": 429, "provider_code": problem or None, "retry_after": wait}
    if problem in ("day", "daily"):
        resets = datetime.now(UTC) + timedelta(seconds=wait)
        return RateLimited(
            f"Xero's daily allowance of 5,000 calls for this organisation is used up; it frees up again in about "
            f"{_duration(wait)} (around {resets:%Y-%m-%d %H:%M} UTC), and LedgerBridge continues then.",
            code="daily_limit", **kw)
    return RateLimited(f"Xero asked us to slow down ({problem or 'rate limit'}); retrying in {_duration(wait)}.",
                       **kw)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def translate_response(response: httpx.Response, *, subject: str = "", number: str = "") -> ProviderError:
    """The `ledgerbridge.errors` type a Xero error answer stands for."""
    status = response.status_code
    try:
        body = loads(response.content) if response.content else None
    except ValueError:
        body = None
    detail = str(body.get("Detail") or "") if isinstance(body, dict) else ""
    kind = str(body.get("Type") or "") if isinstance(body, dict) else ""
    if status == 429:
        return rate_limited(response.headers)
    if status == 401:
        if detail.startswith("AuthorizationUnsuccessful"):
            return AuthorizationError("Xero says the app lacks a permission this needs; reconnect to grant it.",
                                      code="token_revoked", status=status, provider_code=detail)
        return AccessTokenExpired("Xero no longer accepts the access token.", status=status,
                                  provider_code=detail.split(":")[0] or None)
    if status == 403:
        return AuthorizationError(
            "Xero refused access to this organisation: the app was disconnected from it, or the user lost access.",
            code="token_revoked", status=status, provider_code=detail or None)
    if status >= 500:
        return ProviderUnavailable(f"Xero reported an error on its side (HTTP {status}).", status=status,
                                   provider_code=kind or None)
    if status == 404:
        return ProviderError(f"Xero no longer has {subject or 'the record'}.", code="remote_not_found",
                             status=status)
    if status == 412:
        return ProviderError("Xero says the organisation is not set up for this yet (HTTP 412).",
                             code="validation_failed", status=status)
    messages = validation_messages(body)
    if not messages and isinstance(body, dict) and body.get("Message"):
        messages = [str(body["Message"])]
    if not messages and response.content and not isinstance(body, dict):
        messages = [response.text[:300]]
    return validation_error(messages, subject=subject, number=number, status=status, provider_code=kind or None)


# --------------------------------------------------------------------------- OAuth


def authorization_server(settings: ProviderSettings) -> AuthorizationServer:
    """Xero's identity server as the core's flow needs it (FACTS.md Xero 1).

    Basic client auth and S256 PKCE; access tokens last 30 minutes; an unused refresh token lasts 60
    days and rotates on every refresh. The access token is a JWT whose `authentication_event_id` says
    which consent it came from, kept as `auth_event_id` so `connected_tenants` can ask `/connections`
    for this consent's organisations only.
    """
    urls = endpoints(settings)
    return AuthorizationServer(
        authorize_url=urls.authorize, token_url=urls.token, revoke_url=urls.revoke, scopes=SCOPES,
        client_auth="client_secret_basic", pkce=True, access_token_lifetime=timedelta(seconds=ACCESS_TTL),
        refresh_token_lifetime=REFRESH_TTL, access_token_claims={"authentication_event_id": "auth_event_id"},
    )


async def identity_get(settings: ProviderSettings, access_token: str, url: str, params: dict[str, str] | None = None,
                       tenant_id: str | None = None) -> Any:
    """A GET made before any session exists (connections, each organisation's details)."""
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    if tenant_id:
        headers["xero-tenant-id"] = tenant_id
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        try:
            response = await http.get(url, params=params or {}, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=False) from exc
    if response.status_code != 200:
        raise translate_response(response, subject="the organisations you connected")
    return loads(response.content)


async def connections(settings: ProviderSettings, access_token: str, auth_event_id: str | None) -> list[dict[str, Any]]:
    params = {"authEventId": auth_event_id} if auth_event_id else None
    rows = await identity_get(settings, access_token, endpoints(settings).connections, params)
    return [row for row in rows or [] if isinstance(row, dict)]


async def organisation(settings: ProviderSettings, access_token: str, tenant_id: str) -> dict[str, Any]:
    body = await identity_get(settings, access_token, f"{endpoints(settings).api}/Organisation", tenant_id=tenant_id)
    rows = body.get("Organisations") or [{}]
    return rows[0]


# --------------------------------------------------------------------------- the Accounting API


@dataclass(frozen=True)
class Answer:
    """A successful Accounting API answer: the body and the server's clock (for change cursors)."""

    body: dict[str, Any]
    server_time: datetime


class XeroClient:
    """One organisation's Accounting API through the session's client (token and limiter are the core's)."""

    def __init__(self, session: ProviderSession) -> None:
        self.session = session
        self.http = session.http
        if not session.tenant_id:
            raise AuthorizationError("This connection has no Xero organisation chosen yet.", code="not_connected")
        urls = endpoints(session.settings)
        self.urls = urls
        self.base = urls.api
        self.web = str(session.provider_data.get("app_url") or urls.web).rstrip("/")

    async def send(self, method: str, tail: str, *, params: dict[str, str] | None = None, body: Any = None,
                   key: str | None = None, since: datetime | None = None, subject: str = "",
                   number: str = "") -> Answer:
        headers = {"Accept": "application/json", "xero-tenant-id": self.session.tenant_id}
        content = None
        write = method != "GET"
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = idempotency_key(key)
        if since is not None:
            # Milliseconds, as the spec's example (FACTS Xero 4): whole seconds would re-read a second of changes.
            headers["If-Modified-Since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
                f"{since.microsecond // 1000:03d}"
        try:
            response = await self.http.request(method, f"{self.base}/{tail}", params=params or {}, content=content,
                                               headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=write) from exc
        if response.status_code != 200:
            raise translate_response(response, subject=subject, number=number)
        try:
            data = loads(response.content)
        except ValueError as exc:
            raise unreadable_answer(PROVIDER, write=write) from exc
        moment = ms_datetime(data.get("DateTimeUTC")) if isinstance(data, dict) else None
        return Answer(data if isinstance(data, dict) else {}, moment or datetime.now(UTC))


async def disconnect(session: ProviderSession, refresh_token: str) -> bool:
    """`DELETE /connections/{id}` for this organisation; then, if the user has no other organisation
    connected to the app, revoke the refresh token too (revocation would end every connection)."""
    urls = endpoints(session.settings)
    connection_id = session.provider_data.get("connection_id")
    confirmed = False
    headers = {"Accept": "application/json"}
    try:
        if connection_id:
            response = await session.http.delete(f"{urls.connections}/{connection_id}", headers=headers)
            confirmed = response.status_code in (200, 204, 404)
        remaining = await session.http.get(urls.connections, headers=headers)
        others = loads(remaining.content) if remaining.status_code == 200 and remaining.content else None
    except (httpx.HTTPError, ValueError):
        return confirmed
    if others == [] or not connection_id:
        revoked = await oauth.revoke_at(authorization_server(session.settings), session.settings, refresh_token)
        return revoked or confirmed
    return confirmed
