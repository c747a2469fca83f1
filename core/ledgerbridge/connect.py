"""The browser's side of connecting a provider: start, callback, company choice.

The OAuth logic lives in `ledgerbridge.oauth`; these routes only move a signed-in person between
our pages and the provider's consent page. They answer with redirects back to the page the person
started from (`return_to`, carried in the signed state), adding `connection=<id>` on success,
`choose_tenant=1` when the consent covered several companies, or `connect_error` and `message`
on failure, so any UI (ours, or a host app's) can show the outcome without parsing anything else.
API clients get the consent URL as JSON from `POST /api/v1/connections/authorize`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from ledgerbridge import oauth
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.callers import Caller, caller_of
from ledgerbridge.identity.errors import NotSignedIn
from ledgerbridge.identity.permissions import Permission, needs, require
from ledgerbridge.plugins import get_registry
from ledgerbridge.tables import Connection

DEFAULT_RETURN = "/integrations"
DEFAULT_ENVIRONMENT = "production"


def local_path(target: str | None, default: str = DEFAULT_RETURN) -> str:
    """Only paths on this server: a crafted link must not bounce the user to another site.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so `/\t/evil.example`
    or `/\\evil.example` would leave the site; any control character or backslash is refused outright.
    """
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def with_query(path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{path}{'&' if '?' in path else '?'}{query}" if query else path


def _see_other(path: str) -> Redirect:
    return Redirect(path, status_code=HTTP_303_SEE_OTHER)


def _person(request: Request[Any, Any, Any]) -> Caller:
    me = caller_of(request)
    if me is None or me.user_id is None:
        raise NotSignedIn("Sign in to connect an integration.", fix="Sign in, then connect again.")
    if me.workspace_id is None:
        raise LedgerBridgeError("You are not a member of any workspace.", code="forbidden",
                                fix="Ask an owner to add you to their workspace.")
    return me


async def connection_in_workspace(connection_id: int, workspace_id: int) -> Connection:
    row = await Connection.objects().where(
        (Connection.id == connection_id) & (Connection.workspace == workspace_id)
    ).first()
    if row is None:
        raise LedgerBridgeError("No such connection in this workspace.", code="not_found",
                                fix="Open Integrations and pick the connection again.")
    return row


async def consent_url(
    me: Caller, provider: str, *, environment: str | None, connection_id: int | None, return_to: str
) -> str:
    """Validate a connect request and build the provider's consent URL for it."""
    require(me, Permission.connections_manage)
    if provider not in get_registry().providers:
        raise LedgerBridgeError(f"No provider plugin named “{provider}” is installed.", code="not_found",
                                fix="Run `ledgerbridge plugins` to see the installed providers.")
    if connection_id is not None:
        existing = await connection_in_workspace(connection_id, me.workspace_id or 0)
        provider, environment = existing.provider, existing.environment
    return await oauth.begin_connect(
        provider, workspace_id=me.workspace_id or 0, user_id=me.user_id or 0,
        environment=environment or DEFAULT_ENVIRONMENT, connection_id=connection_id, return_to=return_to,
    )


def _int_or_none(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


@post("/connect/{provider:str}", status_code=HTTP_303_SEE_OTHER, opt=needs(Permission.connections_manage))
async def start_connect(request: Request[Any, Any, Any], provider: FromPath[str]) -> Response[Any]:
    """A form post from the integrations page (CSRF-checked like every form)."""
    me = _person(request)
    form = await request.form()
    return_to = local_path(str(form.get("return_to", "")))
    url = await consent_url(
        me, provider, environment=str(form.get("environment", "") or "") or None,
        connection_id=_int_or_none(form.get("connection_id")), return_to=return_to,
    )
    return _see_other(url)


@get("/oauth/callback")
async def oauth_callback(request: Request[Any, Any, Any]) -> Response[Any]:
    """Where every provider sends the person back after consent (or refusal)."""
    me = _person(request)
    params = {key: str(value) for key, value in request.query_params.items()}
    try:
        return_to = local_path(oauth.read_state(params.get("state", "")).get("r"))
    except LedgerBridgeError:
        return_to = DEFAULT_RETURN
    try:
        outcome = await oauth.complete_connect(params, user_id=me.user_id or 0)
    except LedgerBridgeError as exc:
        return _see_other(with_query(return_to, connect_error=exc.code, message=f"{exc.message} {exc.fix}"))
    choose = 1 if len(outcome.tenants) > 1 else None
    return _see_other(with_query(return_to, connection=outcome.connection.id, choose_tenant=choose))


@post("/connect/tenant", status_code=HTTP_303_SEE_OTHER, opt=needs(Permission.connections_manage))
async def choose_tenant(request: Request[Any, Any, Any]) -> Response[Any]:
    """The company picker's submit, after a consent that covered several companies."""
    me = _person(request)
    form = await request.form()
    return_to = local_path(str(form.get("return_to", "")))
    connection_id = _int_or_none(form.get("connection_id"))
    try:
        if connection_id is None:
            raise LedgerBridgeError("No connection was given.", code="not_found")
        await connection_in_workspace(connection_id, me.workspace_id or 0)
        await oauth.choose_tenant(connection_id, str(form.get("tenant_id", "")), user_id=me.user_id or 0)
    except LedgerBridgeError as exc:
        return _see_other(with_query(return_to, connection=connection_id, connect_error=exc.code,
                                     message=f"{exc.message} {exc.fix}"))
    return _see_other(with_query(return_to, connection=connection_id))


def route_handlers() -> list[Any]:
    return [Router("/", route_handlers=[start_connect, oauth_callback, choose_tenant], include_in_schema=False)]
