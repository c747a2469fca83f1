"""The auth stack: resolve the caller first, then check CSRF on cookie-authenticated unsafe requests.

API-key requests need no CSRF token: they carry no ambient credential a forged page could borrow.
"""

from __future__ import annotations

from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware, MiddlewareProtocol
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from ledgerbridge.identity.api_keys import api_key_from_headers
from ledgerbridge.identity.callers import AuthOutcome, resolve_caller
from ledgerbridge.identity.errors import CsrfRefused
from ledgerbridge.identity.sessions import SESSION_COOKIE
from ledgerbridge.settings import Settings

CSRF_COOKIE = "lb_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FORM_FIELD = "_csrf_token"  # the name Litestar's CSRF middleware reads from forms
# Paths that never need a caller: resolving one would cost queries for nothing.
PUBLIC_PREFIXES = ("/static/", "/schema", "/healthz")
EXCLUDE_FROM_AUTH = "exclude_from_auth"  # handler opt, as Litestar's own auth middleware names it


def _skips_auth(scope: Scope) -> bool:
    """Static files, docs, health and handlers marked `exclude_from_auth` (webhooks) need no caller."""
    path = scope["path"]
    if path.startswith(("/static/", "/schema/")) or path in ("/schema", "/healthz"):
        return True
    handler = scope.get("route_handler")
    return bool(handler is not None and handler.opt.get(EXCLUDE_FROM_AUTH))


class AuthMiddleware(MiddlewareProtocol):
    """Puts the `Caller` (or None) in `scope["user"]` and the outcome in `scope["auth"]`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _skips_auth(scope):
            outcome = await resolve_caller(ASGIConnection(scope))
        else:
            outcome = AuthOutcome(caller=None)
        scope["user"] = outcome.caller
        scope["auth"] = outcome
        await self.app(scope, receive, send)


def _csrf_exempt(scope: Scope) -> bool:
    """API-key requests carry no cookie a forged page could ride on, and neither does an API
    request without a session cookie (it will be refused as not signed in anyway)."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    if api_key_from_headers(connection.headers) is not None:
        return True
    return scope["path"].startswith("/api/") and SESSION_COOKIE not in connection.cookies


class CsrfMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, skipped for API-key requests and answered as a typed error."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] not in self.config.safe_methods and _csrf_exempt(scope):
            await self.app(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException:
            # Errors from the handler were already answered further in; this one is ours.
            raise CsrfRefused() from None


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.session_cookie_secure,
        cookie_httponly=True,  # pages embed the token; scripts never need to read the cookie
        cookie_samesite="lax",
        # Anchored: Litestar searches these patterns anywhere in the path, so a bare "/schema" let
        # `PUT /api/v1/customers/by-ref/%2Fschema` through without a token.
        exclude=["^/static/", "^/schema(/|$)", "^/healthz$"],
    )


def middleware(settings: Settings) -> list[DefineMiddleware]:
    """The auth stack for the app: who is calling first, then the CSRF check."""
    return [DefineMiddleware(AuthMiddleware), DefineMiddleware(CsrfMiddleware, config=csrf_config(settings))]


def csrf_token_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The token to embed in a page's forms and htmx headers."""
    token = ScopeState.from_scope(connection.scope).csrf_token
    return token if isinstance(token, str) else ""

