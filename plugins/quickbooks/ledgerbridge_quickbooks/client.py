"""The HTTP conversation with QuickBooks Online: where to send, what to add, and what failures mean.

Everything that knows Intuit's wire lives here: the real endpoints (or a sandbox's, when
`settings.base_url` is set), the authorization server the core's OAuth flow uses, `minorversion` on
every API call, `requestid` on every write, query paging, change data capture, batch, and the
translation of QBO's faults and of transport failures into `ledgerbridge.errors` types. Hooks build a
`QboClient` on the session the core handed them, so the bearer token and the shared rate limiter stay
the core's business (FACTS.md QBO 1-7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypedDict, Unpack

import httpx
import msgspec
from ledgerbridge.errors import (
    AccessTokenExpired,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from ledgerbridge.provider import METERED_COST, AuthorizationServer, ProviderSession
from ledgerbridge.providerhttp import read_json, retry_after_seconds, transport_error, unreadable_answer
from ledgerbridge.settings import ProviderSettings

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
PRODUCTION_API = "https://quickbooks.api.intuit.com"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
MINOR_VERSION = "75"  # the minimum Intuit honours since 2025-08-01 (FACTS QBO 2)
PAGE_SIZE = 1000  # MAXRESULTS ceiling (FACTS QBO 4)
CDC_MAX_OBJECTS = 1000  # a CDC answer this large may be cut short: read everything instead
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
PROVIDER = "QuickBooks"  # as the error messages name it

_ENCODER = msgspec.json.Encoder(decimal_format="number")


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    revoke: str
    api: str


def endpoints(settings: ProviderSettings, environment: str) -> Endpoints:
    """Intuit's URLs for the environment, or the same paths on a sandbox when `base_url` is set."""
    if settings.base_url:
        base = settings.base_url.rstrip("/")
        return Endpoints(f"{base}/connect/oauth2", f"{base}/oauth2/v1/tokens/bearer",
                         f"{base}/v2/oauth2/tokens/revoke", base)
    api = SANDBOX_API if environment == "sandbox" else PRODUCTION_API
    return Endpoints(AUTHORIZE_URL, TOKEN_URL, REVOKE_URL, api)


def dumps(value: Any) -> bytes:
    """JSON with Decimals written as exact numbers (QBO amounts are JSON numbers, never strings)."""
    return _ENCODER.encode(value)


def loads(data: bytes | str) -> Any:
    return read_json(data)


def quote(value: str) -> str:
    """A string literal for QBO's query language (single quotes, backslash-escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Fault:
    """The first error of a QBO fault envelope (either spelling of its keys)."""

    status: int
    code: str
    message: str
    detail: str
    element: str = ""


def read_fault(status: int, body: Any) -> Fault:
    envelope = None
    if isinstance(body, dict):
        envelope = body.get("Fault") or body.get("fault")
    errors: list[Any] = []
    if isinstance(envelope, dict):
        errors = envelope.get("Error") or envelope.get("error") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}

    def pick(*keys: str) -> str:
        for key in keys:
            if first.get(key):
                return str(first[key])
        return ""

    return Fault(status, pick("code"), pick("Message", "message"), pick("Detail", "detail"),
                 pick("element"))


def _detail_text(fault: Fault) -> str:
    """QBO's Detail without its "Title : " prefix, which repeats the message."""
    text = fault.detail or fault.message
    if " : " in text:
        text = text.split(" : ", 1)[1]
    return text.strip()


def translate_fault(fault: Fault, *, retry_after: str | None = None, subject: str = "",
                    name: str = "", number: str = "") -> ProviderError:
    """The `ledgerbridge.errors` type a QBO fault stands for, worded for the person who has to act."""
    kw: dict[str, Any] = {"status": fault.status, "provider_code": fault.code or None}
    what = subject or "the record"
    if fault.status == 429 or fault.code == "3001":
        return RateLimited("QuickBooks asked us to slow down for this company.",
                           retry_after=retry_after_seconds(retry_after), **kw)
    if fault.status == 401:
        if "ApplicationAuthentication" in fault.message:
            return ProviderError(
                "QuickBooks refused this app for the company: the app's keys belong to the other environment "
                "(sandbox vs production).", code="environment_mismatch", **kw)
        return AccessTokenExpired("QuickBooks no longer accepts the access token.", **kw)
    if fault.status == 403 or fault.code in ("120", "3100"):
        return ProviderError(
            "QuickBooks refused access to this company with these credentials. The connection may point at "
            "the wrong environment (sandbox vs production) or at a company the app was not authorised for.",
            code="environment_mismatch", **kw)
    if fault.status >= 500:
        return ProviderUnavailable("QuickBooks reported an error on its side.", **kw)
    if fault.code == "6240":
        label = f"“{name}”" if name else "this name"
        return ProviderError(
            f"QuickBooks already has a customer, vendor, employee or item named {label}.",
            code="duplicate_name", **kw)
    if fault.code == "6140":
        label = f" {number}" if number else ""
        return ProviderError(f"QuickBooks already has an invoice numbered{label}.", code="duplicate_number", **kw)
    if fault.code == "5010":
        return ProviderError(f"Someone changed {what} in QuickBooks since LedgerBridge last read it.",
                             code="stale_object", **kw)
    if fault.code == "610":
        return ProviderError(f"QuickBooks no longer has {what}, or it was made inactive: {_detail_text(fault)}",
                             code="remote_not_found", **kw)
    return ProviderError(f"QuickBooks refused {what}: {_detail_text(fault)}", code="validation_failed", **kw)


class FaultContext(TypedDict, total=False):
    """What a call is about, passed through to `translate_fault` so a refusal names the record."""

    subject: str
    name: str
    number: str


def translate_response(response: httpx.Response, **context: Unpack[FaultContext]) -> ProviderError:
    try:
        body = loads(response.content) if response.content else None
    except ValueError:
        body = None
    return translate_fault(read_fault(response.status_code, body), retry_after=response.headers.get("retry-after"),
                           **context)


# --------------------------------------------------------------------------- OAuth


def authorization_server(settings: ProviderSettings, environment: str) -> AuthorizationServer:
    """Intuit's OAuth2 server as the core's flow needs it (FACTS.md QBO 1).

    Basic client auth; no PKCE (no Intuit SDK sends it); revocation takes JSON `{"token": ...}`, not
    the RFC 7009 form; every token request asks for the refresh token's hard expiry, which the answer
    then carries next to the rolling 100-day lifetime; an `invalid_grant` whose description speaks of
    expiry means the refresh token expired rather than was revoked.
    """
    urls = endpoints(settings, environment)
    return AuthorizationServer(
        authorize_url=urls.authorize, token_url=urls.token, revoke_url=urls.revoke, scopes=(ACCOUNTING_SCOPE,),
        client_auth="client_secret_basic", pkce=False, token_request_headers={HARD_EXPIRY_HEADER: "true"},
        revoke_body="json", access_token_lifetime=timedelta(hours=1),
        refresh_expires_in_key="x_refresh_token_expires_in",
        refresh_hard_expires_in_key="x_refresh_token_hard_expires_in", expired_grant_marker="expir",
    )


async def company_name(settings: ProviderSettings, environment: str, access_token: str, realm_id: str) -> dict:
    """CompanyInfo of a freshly authorised realm (there is no session yet, so a client of its own)."""
    return (await _fresh_read(settings, environment, access_token, realm_id, f"companyinfo/{realm_id}",
                              "the company's details")).get("CompanyInfo", {})


async def home_currency(settings: ProviderSettings, environment: str, access_token: str, realm_id: str) -> str:
    """The realm's home currency, from its Preferences (CompanyInfo does not carry it)."""
    data = await _fresh_read(settings, environment, access_token, realm_id, "preferences", "the company's preferences")
    prefs = (data.get("Preferences") or {}).get("CurrencyPrefs") or {}
    return str((prefs.get("HomeCurrency") or {}).get("value") or "")


async def _fresh_read(settings: ProviderSettings, environment: str, access_token: str, realm_id: str, tail: str,
                      subject: str) -> dict:
    url = f"{endpoints(settings, environment).api}/v3/company/{realm_id}/{tail}"
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        try:
            response = await http.get(url, params={"minorversion": MINOR_VERSION},
                                      headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=False) from exc
    if response.status_code != 200:
        raise translate_response(response, subject=subject)
    return loads(response.content)


# --------------------------------------------------------------------------- the API


@dataclass(frozen=True)
class QueryPage:
    rows: list[dict[str, Any]]
    time: str  # the server's clock when it answered: the next change cursor starts there
    full: bool  # as many rows as asked for: there may be more


class QboClient:
    """One company's accounting API, spoken through the session's rate-limited httpx client."""

    def __init__(self, session: ProviderSession, page_size: int = PAGE_SIZE) -> None:
        self.session = session
        self.http = session.http
        self.realm = session.tenant_id
        self.page_size = page_size
        self.base = f"{endpoints(session.settings, session.environment).api}/v3/company/{session.tenant_id}"

    async def _send(self, method: str, tail: str, *, params: dict[str, str] | None = None, body: Any = None,
                    write: bool = False, cost: int = 1, **context: Unpack[FaultContext]) -> dict[str, Any]:
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        headers = {"Accept": "application/json"}
        content = None
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            response = await self.http.request(method, f"{self.base}/{tail}", params=query, content=content,
                                               headers=headers, timeout=TIMEOUT,
                                               extensions={METERED_COST: cost} if cost > 1 else None)
        except httpx.HTTPError as exc:
            raise transport_error(PROVIDER, exc, write=write) from exc
        if response.status_code != 200:
            raise translate_response(response, **context)
        try:
            return loads(response.content)
        except ValueError as exc:
            raise unreadable_answer(PROVIDER, write=write) from exc

    async def read(self, entity_url: str, entity_id: str, **context: Unpack[FaultContext]) -> dict[str, Any]:
        data = await self._send("GET", f"{entity_url}/{entity_id}", **context)
        return next(v for k, v in data.items() if k != "time")

    async def preferences(self) -> dict[str, Any]:
        data = await self._send("GET", "preferences", subject="the company's preferences")
        return data.get("Preferences") or {}

    async def query(self, text: str) -> tuple[dict[str, Any], str]:
        """One query; returns the `QueryResponse` object and the server's `time`."""
        data = await self._send("GET", "query", params={"query": text})
        return data.get("QueryResponse") or {}, str(data.get("time", ""))

    async def query_page(self, entity: str, where: str, start: int) -> QueryPage:
        """Rows `start`..`start+page_size-1` (1-based) of `SELECT * FROM entity WHERE ...` in Id order."""
        text = f"SELECT * FROM {entity}{' WHERE ' + where if where else ''} ORDERBY Id " \
               f"STARTPOSITION {start} MAXRESULTS {self.page_size}"
        response, time = await self.query(text)
        rows = list(response.get(entity) or [])
        return QueryPage(rows, time, len(rows) >= self.page_size)

    async def cdc(self, entities: list[str], since: str) -> tuple[dict[str, list[dict[str, Any]]], str]:
        """Changes since `since` by entity; raises `ProviderError` for a window QBO refuses."""
        data = await self._send("GET", "cdc", params={"entities": ",".join(entities), "changedSince": since})
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in entities}
        for block in data.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for name in entities:
                    found[name].extend(response.get(name) or [])
        return found, str(data.get("time", ""))

    async def write(self, entity_url: str, body: dict[str, Any], requestid: str, *, operation: str | None = None,
                    include: str | None = None, **context: Unpack[FaultContext]) -> dict[str, Any]:
        """POST a create/update/delete/void with `requestid`, so a retry replays instead of repeating."""
        params = {"requestid": requestid}
        if operation:
            params["operation"] = operation
        if include:
            params["include"] = include
        data = await self._send("POST", entity_url, params=params, body=body, write=True, **context)
        return next(v for k, v in data.items() if k != "time")

    async def batch(self, items: list[dict[str, Any]], requestid: str) -> list[dict[str, Any]]:
        # Intuit counts the batch request itself (FACTS QBO 6) and meters every item as a call (QBO 5),
        # so the limiter charges them all: 31 calls for a batch of 30.
        data = await self._send("POST", "batch", params={"requestid": requestid},
                                body={"BatchItemRequest": items}, write=True, cost=len(items) + 1)
        return list(data.get("BatchItemResponse") or [])
