"""The HTTP conversation with Acme Books: where to send, which headers, and what its answers mean.

Everything that knows Acme Books's wire lives here, so `workflows` reads like the provider's manual and
`mapping` stays pure. Hooks build an `ApiClient` on the session the core handed them: the core's
httpx client already carries the bearer token and waits for the shared rate limiter, so this module
only adds the base URL and headers, and turns every answer that is not a success into a
`ledgerbridge.errors` type (the user then sees a message and a fix on the record, and the core knows
whether to retry, back off or ask for a reconnect).

Acme Books is the provider of LedgerBridge's own tests: its hosts are `.invalid` names, so only its
sandbox ever answers. When
`LEDGERBRIDGE_ACME_BASE_URL` is set (tests, `serve`'s demo) every path goes to that one
sandbox host instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import msgspec
from ledgerbridge.errors import (
    AccessTokenExpired,
    AuthorizationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from ledgerbridge.provider import AuthorizationServer, ProviderSession
from ledgerbridge.providerhttp import retry_after_seconds, transport_error, unreadable_answer
from ledgerbridge.settings import ProviderSettings

PROVIDER = "Acme Books"  # as error messages name it
API_HOST = "https://api.acme.invalid"
AUTH_HOST = "https://login.acme.invalid"
WEB_URL = "https://acme.invalid"  # where people open records in Acme Books's own UI
API_PATH = "/api/v1"
PAGE_SIZE = 100
#: Acme Books's published limits per company; `plugin.CAPABILITIES` hands them to the core's limiter.
REQUESTS_PER_MINUTE = 600
CONCURRENT_REQUESTS = 4
#: Acme's native idempotency: a write repeated with this header's value replays the first answer.
IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)

_ENCODER = msgspec.json.Encoder(decimal_format="number")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    revoke: str
    api: str
    web: str


def endpoints(settings: ProviderSettings) -> Endpoints:
    """The real hosts, or the same paths on one sandbox host when `settings.base_url` is set."""
    if settings.base_url:
        base = settings.base_url.rstrip("/")
        return Endpoints(f"{base}/oauth/authorize", f"{base}/oauth/token", f"{base}/oauth/revoke",
                         f"{base}{API_PATH}", base)
    return Endpoints(f"{AUTH_HOST}/oauth/authorize", f"{AUTH_HOST}/oauth/token", f"{AUTH_HOST}/oauth/revoke",
                     f"{API_HOST}{API_PATH}", WEB_URL)


def dumps(value: Any) -> bytes:
    """JSON with Decimals written as exact numbers (httpx's `json=` cannot encode a Decimal)."""
    return _ENCODER.encode(value)


def loads(data: bytes | str) -> Any:
    """JSON with every non-integer number as an exact Decimal: money must never pass through a float."""
    return json.loads(data, parse_float=Decimal)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- errors


def _error_body(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of Acme Books's `{"error": {"code": ..., "message": ...}}` body, or empty strings."""
    try:
        body = loads(response.content) if response.content else None
    except ValueError:
        return "", response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    if isinstance(error, str):
        return error, str(body.get("error_description") or "")
    return "", ""


def refusal(error: Any, subject: str = "") -> ProviderError:
    """The error of one refused item of a batch answer (`{"error": {"code", "message"}}`)."""
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    said = str(error.get("message") or "") if isinstance(error, dict) else ""
    if code == "duplicate_number":
        return ProviderError(f"{PROVIDER} already has an invoice with this number: {said}", code="duplicate_number",
                             provider_code=code)
    return ProviderError(f"{PROVIDER} refused {subject or 'the record'}: {said or code}.", code="validation_failed",
                         provider_code=code or None)


def translate_response(response: httpx.Response, *, subject: str = "") -> ProviderError:
    """The `ledgerbridge.errors` type a Acme Books error answer stands for."""
    status = response.status_code
    code, said = _error_body(response)
    what = subject or "the record"
    kw: dict[str, Any] = {"status": status, "provider_code": code or None}
    if status == 429:
        wait = retry_after_seconds(response.headers.get("retry-after"))
        return RateLimited(f"{PROVIDER} asked us to slow down; retrying in {int(wait)} s.", retry_after=wait, **kw)
    if status == 401:
        return AccessTokenExpired(f"{PROVIDER} no longer accepts the access token.", **kw)
    if status == 403:
        return AuthorizationError(f"{PROVIDER} refused access to this company: the app was disconnected "
                                  "from it, or the user lost access.", code="token_revoked", **kw)
    if status >= 500:
        return ProviderUnavailable(f"{PROVIDER} reported an error on its side (HTTP {status}).", **kw)
    if status == 404:
        return ProviderError(f"{PROVIDER} no longer has {what}.", code="remote_not_found", **kw)
    if code == "duplicate_number":
        return ProviderError(f"{PROVIDER} already has an invoice with this number: {said}", code="duplicate_number",
                             **kw)
    if status == 409:
        return ProviderError(f"{PROVIDER} refused {what}: {said or 'it changed since we read it'}.",
                             code="stale_object", **kw)
    return ProviderError(f"{PROVIDER} refused {what}: {said or f'HTTP {status}'}.", code="validation_failed", **kw)


# --------------------------------------------------------------------------- OAuth
# The plugin's only OAuth code is this declaration: the core builds the consent URL, exchanges the
# code, refreshes and revokes with it (`ledgerbridge.oauth`). Override a hook only where Acme Books
# departs from RFC 6749 in a way `AuthorizationServer` cannot say, and write why in `plugin.py`.

SCOPES = ("accounting",)


def authorization_server(settings: ProviderSettings) -> AuthorizationServer:
    """Acme Books's OAuth2 server: the URLs of `endpoints`, HTTP Basic client authentication, no PKCE.

    The token answer carries `refresh_expires_in`, so the core knows when a refresh token ages out
    and can ask for a reconnect before it does.
    """
    urls = endpoints(settings)
    return AuthorizationServer(
        authorize_url=urls.authorize, token_url=urls.token, revoke_url=urls.revoke, scopes=SCOPES,
        client_auth="client_secret_basic", pkce=False, access_token_lifetime=timedelta(hours=1),
        refresh_expires_in_key="refresh_expires_in",
    )


async def companies(settings: ProviderSettings, access_token: str) -> list[dict[str, Any]]:
    """The companys a fresh token covers (asked before any session exists)."""
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        try:
            response = await http.get(f"{endpoints(settings).api}/companies", headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=False) from exc
    if response.status_code != 200:
        raise translate_response(response, subject="the companys you connected")
    try:
        rows = loads(response.content).get("data") or []
    except (ValueError, AttributeError) as exc:
        raise unreadable_answer(PROVIDER, write=False) from exc
    return [row for row in rows if isinstance(row, dict) and row.get("id")]


@dataclass(frozen=True)
class Answer:
    """A successful answer: its body, and Acme Books's clock when it answered (for change cursors)."""

    body: dict[str, Any]
    server_time: datetime


class ApiClient:
    """One company's API through the session's client (token and limiter are the core's)."""

    def __init__(self, session: ProviderSession) -> None:
        if not session.tenant_id:
            raise AuthorizationError(f"This connection has no {PROVIDER} company chosen yet.",
                                     code="not_connected")
        self.session = session
        self.base = f"{endpoints(session.settings).api}/companies/{session.tenant_id}"

    async def send(self, method: str, tail: str, *, params: dict[str, str] | None = None, body: Any = None,
                   subject: str = "", idempotency_key: str = "") -> Answer:
        write = method != "GET"
        headers = {"Accept": "application/json"}
        if idempotency_key:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        content = None
        if body is not None:
            content, headers["Content-Type"] = dumps(body), "application/json"
        try:
            response = await self.session.http.request(method, f"{self.base}/{tail}", params=params or {},
                                                       content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=write) from exc
        if response.status_code not in (200, 201):
            raise translate_response(response, subject=subject)
        try:
            data = loads(response.content)
        except ValueError as exc:
            raise unreadable_answer(PROVIDER, write=write) from exc
        if not isinstance(data, dict):
            raise unreadable_answer(PROVIDER, write=write)
        meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
        return Answer(data, parse_time(meta.get("server_time")) or datetime.now(UTC))

    async def list_page(self, collection: str, page: int, since: datetime | None,
                        filters: dict[str, str] | None = None) -> Answer:
        """One page of a collection, everything or only what changed since `since`."""
        params = {"page": str(page), "per_page": str(PAGE_SIZE), **(filters or {})}
        if since is not None:
            params["updated_since"] = since.astimezone(UTC).isoformat()
        return await self.send("GET", collection, params=params)
