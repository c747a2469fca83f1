"""Assembly of the Xero sandbox: state, Python control API and the Litestar application.

:class:`XeroSandbox` is what tests hold: clock, organisations, OAuth and identity state, limits,
faults, idempotency answers and webhooks, with the same controls as the ``/_sandbox`` HTTP API.
:func:`create_app` wraps it in a Litestar app whose request path is::

    Xero gateway (token, xero-tenant-id, scopes, limits + headers) -> fault injection -> routes

The wiring (fault layer, control API, webhook pump) is the toolkit's :mod:`ledgerbridge_testing.sandbox.app`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.accountant import build_accountant_router
from ledgerbridge_testing.sandbox.app import SandboxApp, SandboxControls, assemble_app
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.faults import FaultRegistry, FaultRule, Scope
from ledgerbridge_testing.sandbox.limits import ConcurrencyLimiter, SlidingWindowLimiter
from ledgerbridge_testing.sandbox.oauth import InvalidToken, OAuthClient, OAuthStore, TokenPolicy
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox
from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from ledgerbridge_xero.sandbox import errors
from ledgerbridge_xero.sandbox.api_routes import build_api_router
from ledgerbridge_xero.sandbox.config import SandboxConfig
from ledgerbridge_xero.sandbox.errors import XeroApiError, unauthorized
from ledgerbridge_xero.sandbox.gateway import XeroApiGuard, XeroLimits
from ledgerbridge_xero.sandbox.idempotency import IdempotencyStore
from ledgerbridge_xero.sandbox.identity import XeroIdentity
from ledgerbridge_xero.sandbox.notifications import XERO_RETRY_SCHEDULE, XeroWebhooks
from ledgerbridge_xero.sandbox.oauth_routes import build_oauth_router
from ledgerbridge_xero.sandbox.paths import CaseInsensitivePaths
from ledgerbridge_xero.sandbox.seed import seed_all
from ledgerbridge_xero.sandbox.service import XeroService
from ledgerbridge_xero.sandbox.views import ACCOUNTANT_PATH, XeroAccountantView, build_deeplink_router

DEFAULT_SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
)


class XeroSandbox(SandboxControls):
    """One Xero sandbox instance and its Python control API."""

    def __init__(self, config: SandboxConfig | None = None, clock: SandboxClock | None = None) -> None:
        self.config = config or SandboxConfig()
        cfg = self.config
        self.clock = clock or SandboxClock(scale=cfg.time_scale, start=cfg.start_time)
        self.created: datetime = self.clock.now()
        self.faults = FaultRegistry()
        self.oauth = OAuthStore(
            self.clock,
            TokenPolicy(
                access_ttl=cfg.access_token_ttl,
                refresh_ttl=cfg.refresh_token_ttl,
                refresh_rolling=True,
                rotate_refresh_tokens=True,
                rotation_interval=0.0,
                grace_period=cfg.refresh_grace_period,
                code_ttl=cfg.auth_code_ttl,
            ),
            [
                OAuthClient(c.client_id, c.client_secret, tuple(c.redirect_uris), c.allow_loopback_redirects)
                for c in cfg.clients
            ],
        )
        self.identity = XeroIdentity(
            self.oauth,
            self.clock,
            {o.tenant_id: o.name for o in cfg.organisations},
            issuer=(cfg.public_base_url or "http://localhost").rstrip("/"),
        )
        self.limits = XeroLimits(
            per_minute=SlidingWindowLimiter("minute", cfg.requests_per_minute, 60.0, self.clock),
            per_day=SlidingWindowLimiter("day", cfg.requests_per_day, 86400.0, self.clock),
            app_per_minute=SlidingWindowLimiter("appminute", cfg.app_requests_per_minute, 60.0, self.clock),
            concurrent=ConcurrencyLimiter("concurrent", cfg.concurrent_requests),
        )
        self.idempotency = IdempotencyStore(self.clock, cfg.idempotency_retention)
        self.service = XeroService(self.clock)
        self.outbox = WebhookOutbox(self.clock, XERO_RETRY_SCHEDULE, timeout=cfg.webhook_timeout)
        self.webhooks = XeroWebhooks(
            self.outbox,
            cfg.webhook_url,
            cfg.webhook_key,
            cfg.webhook_require_intent_to_receive,
            cfg.webhook_on_payment,
            lambda: self.public_url,
            self._tenant_connected,
        )
        self.public_url = (cfg.public_base_url or "http://localhost").rstrip("/")
        seed_all(self.service, cfg.organisations)
        self.service.listeners.append(self.webhooks.record)

    # -- helpers used by the routes -------------------------------------------------------------------

    def app_name(self, client_id: str) -> str:
        for client in self.config.clients:
            if client.client_id == client_id:
                return client.app_name
        return "LedgerBridge"

    def base_url(self, request_base: str) -> str:
        """The sandbox's public URL: configured, or taken from the request."""
        return (self.config.public_base_url or request_base).rstrip("/")

    def unauthorized_for(self, exc: InvalidToken, token: str | None) -> XeroApiError:
        if exc.reason == "expired":
            return unauthorized(f"TokenExpired: token expired at {self.clock.now():%m/%d/%Y %H:%M:%S}")
        return unauthorized("AuthenticationUnsuccessful" if exc.reason == "revoked" else "TokenInvalid")

    def _tenant_connected(self, tenant_id: str) -> bool:
        return any(
            self.identity.connections(c.client_id) and self.identity.connected(c.client_id, tenant_id)
            for c in self.config.clients
        )

    # -- Python control API (mirrors /_sandbox) --------------------------------------------------------

    @property
    def tenant_ids(self) -> list[str]:
        return list(self.service.organisations)

    def connect(
        self,
        tenant_ids: tuple[str, ...] | None = None,
        client_id: str | None = None,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
    ) -> dict[str, Any]:
        """Skip the consent page: the token response a client would get after approving."""
        client = self.oauth.client(client_id or self.config.clients[0].client_id)
        if client is None:
            raise KeyError(f"unknown client {client_id}")
        tenants = tuple(tenant_ids or self.tenant_ids[:1])
        redirect = client.redirect_uris[0] if client.redirect_uris else "http://localhost/callback"
        code = self.identity.approve(client.client_id, redirect, tenants, scopes, None)
        issued = self.identity.exchange(client.client_id, code, redirect, None)
        return {
            "access_token": self.identity.access_jwt(issued),
            "refresh_token": issued.refresh_token,
            "expires_in": issued.expires_in,
            "auth_event_id": issued.grant.subject,
            "tenant_ids": list(tenants),
        }

    def revoke_all_tokens(self) -> int:
        """Every connection and grant ends (Xero's identity keeps connections beside the tokens)."""
        return self.identity.revoke_everything()

    async def intent_to_receive(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
        return await self.webhooks.intent_to_receive(client)

    def reset(self) -> None:
        """Back to the seeded organisations; tokens, connections and configuration survive."""
        self.faults.clear()
        self.limits.reset()
        self.idempotency.clear()
        listeners, self.service.listeners = self.service.listeners, []
        try:
            seed_all(self.service, self.config.organisations)
        finally:
            self.service.listeners = listeners
        self.webhooks.clear()
        self.outbox.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "provider": "xero",
            "organisations": [
                {"tenantId": o.tenant_id, "name": o.preset.name, "shortCode": o.preset.short_code}
                for o in self.service.organisations.values()
            ],
            "webhooks": {"enabled": self.webhooks.enabled, "intent_verified": self.webhooks.intent_verified},
        }

    def error_body(self, rule: FaultRule, scope: Scope) -> tuple[bytes, str]:
        """Body of an injected 5xx (problem shape, as Xero's gateway answers)."""
        body = {
            "Title": "Service Unavailable" if rule.status == 503 else "Internal Server Error",
            "Status": rule.status,
            "Detail": "Injected fault",
        }
        return jsoncodec.dumps(body), "application/json; charset=utf-8"


class XeroSandboxApp(SandboxApp):
    """The Xero sandbox's application (``app.sandbox`` is its control object)."""

    sandbox: XeroSandbox


def _intent_router(sandbox: XeroSandbox) -> Router:
    @post("/intent-to-receive", status_code=200)
    async def intent() -> Response[bytes]:
        """Run Xero's intent-to-receive check against the configured webhook URL now."""
        return Response(jsoncodec.dumps(await sandbox.intent_to_receive()), media_type="application/json")

    return Router(path="/_sandbox/webhooks", route_handlers=[intent], include_in_schema=False)


#: Xero refuses a POST or PUT over 3.5 MB (FACTS Xero 5 "Size").
MAX_BODY_BYTES = 3_500_000
API_ROOT = "/api.xro/2.0/"


def _route_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Unknown routes, unsupported methods and oversized bodies under the API root in Xero's dialect.

    Xero answers an unknown resource with its plain-text 404, a method a resource does not take with
    the 405 ``{"Message": ...}`` body of its ASP.NET front end, and a body over the limit with 413.
    Outside the API root (identity pages, the control API) the framework's answer stays.
    """
    if not request.url.path.startswith(API_ROOT):
        return Response({"status_code": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)
    if exc.status_code == 405:
        message = f"The requested resource does not support http method '{request.method}'."
        return Response(jsoncodec.dumps({"Message": message}), status_code=405, media_type=errors.JSON_TYPE)
    if exc.status_code == 413:
        return Response("Request Entity Too Large", status_code=413, media_type="text/plain")
    return Response(errors.NOT_FOUND_TEXT, status_code=404, media_type="text/plain")


def create_app(
    config: SandboxConfig | None = None, *, clock: SandboxClock | None = None, sandbox: XeroSandbox | None = None
) -> XeroSandboxApp:
    """Build the Xero sandbox application (``app.sandbox`` is its control object)."""
    sandbox = sandbox or XeroSandbox(config, clock)

    @get("/", include_in_schema=False)
    async def index() -> Response[str]:
        """Landing page with links to each organisation's accountant's view."""
        links = "".join(
            f"<li>{o.preset.name} (tenantId {o.tenant_id}, short code {o.preset.short_code}): "
            f"<a href='{ACCOUNTANT_PATH}/{o.tenant_id}'>accountant's view</a></li>"
            for o in sandbox.service.organisations.values()
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Xero sandbox</title></head>"
            f"<body style='font-family:system-ui,sans-serif;margin:2rem'><h1>Xero sandbox</h1><ul>{links}</ul>"
            "</body></html>"
        )
        return Response(page, media_type="text/html")

    handlers: list[Any] = [
        index,
        build_oauth_router(sandbox),
        build_api_router(sandbox),
        build_accountant_router(XeroAccountantView(sandbox), ACCOUNTANT_PATH),
        build_deeplink_router(sandbox),
    ]
    return assemble_app(
        XeroSandboxApp,
        sandbox,
        handlers,
        lambda inner: CaseInsensitivePaths(XeroApiGuard(inner, sandbox)),
        control_extras=[_intent_router(sandbox)],
        request_max_body_size=MAX_BODY_BYTES,
        exception_handlers={
            NotFoundException: _route_error_handler,
            MethodNotAllowedException: _route_error_handler,
            RequestEntityTooLarge: _route_error_handler,
        },
    )
