"""Assembly of the QBO sandbox: state, Python control API and the Litestar application.

:class:`QboSandbox` is the object tests hold: it owns the clock, companies, OAuth store, limits,
fault registry and webhook outbox, and offers the same controls as the ``/_sandbox`` HTTP API
(advance time, arm faults, revoke every token, flush webhooks, reset). :func:`create_app` wraps it in a
Litestar app whose request path is::

    intuit_tid stamping -> QBO gateway (auth, 429s) -> fault injection -> Litestar routes

The wiring (fault layer, control API, webhook pump) is the toolkit's :mod:`ledgerbridge_testing.sandbox.app`;
nothing runs in the background unless ``webhook_auto_deliver_interval`` is set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.accountant import build_accountant_router
from ledgerbridge_testing.sandbox.app import SandboxApp, SandboxControls, assemble_app
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.faults import FaultRegistry, FaultRule, Scope
from ledgerbridge_testing.sandbox.idtoken import IdTokenSigner
from ledgerbridge_testing.sandbox.limits import ConcurrencyLimiter, SlidingWindowLimiter
from ledgerbridge_testing.sandbox.oauth import IssuedTokens, OAuthClient, OAuthStore, TokenPolicy
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox
from litestar import Request, Response, get
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from ledgerbridge_quickbooks.sandbox.api_routes import build_api_router
from ledgerbridge_quickbooks.sandbox.config import ACCOUNTING_SCOPE, SandboxConfig
from ledgerbridge_quickbooks.sandbox.errors import QboFault, internal_error, unsupported_operation
from ledgerbridge_quickbooks.sandbox.guard import QboApiGuard, TransactionIdMiddleware
from ledgerbridge_quickbooks.sandbox.notifications import QboWebhooks
from ledgerbridge_quickbooks.sandbox.oauth_routes import build_oauth_router
from ledgerbridge_quickbooks.sandbox.schema import load_model
from ledgerbridge_quickbooks.sandbox.seed import seed_all
from ledgerbridge_quickbooks.sandbox.service import QboService
from ledgerbridge_quickbooks.sandbox.store import Company, SandboxState, company_timezone, format_response_time
from ledgerbridge_quickbooks.sandbox.views import ACCOUNTANT_PATH, QboAccountantView, build_deeplink_router


@dataclass
class QboLimits:
    """The per app+realm limits of FACTS.md QBO 6."""

    per_minute: SlidingWindowLimiter
    batch_per_minute: SlidingWindowLimiter
    per_second: SlidingWindowLimiter | None
    concurrent: ConcurrencyLimiter

    def reset(self) -> None:
        """Forget the history of all windows."""
        self.per_minute.reset()
        self.batch_per_minute.reset()
        if self.per_second is not None:
            self.per_second.reset()


class QboSandbox(SandboxControls):
    """One QBO sandbox instance and its Python control API."""

    def __init__(self, config: SandboxConfig | None = None, clock: SandboxClock | None = None) -> None:
        self.config = config or SandboxConfig()
        cfg = self.config
        self.clock = clock or SandboxClock(scale=cfg.time_scale, start=cfg.start_time)
        self.faults = FaultRegistry()
        self.oauth = OAuthStore(
            self.clock,
            TokenPolicy(
                access_ttl=cfg.access_token_ttl,
                refresh_ttl=cfg.refresh_token_ttl,
                refresh_rolling=True,
                rotate_refresh_tokens=True,
                rotation_interval=cfg.refresh_rotation_interval,
                grace_period=cfg.refresh_grace_period,
                code_ttl=cfg.auth_code_ttl,
                hard_ttl=cfg.refresh_token_hard_ttl,
            ),
            [
                OAuthClient(c.client_id, c.client_secret, tuple(c.redirect_uris), c.allow_loopback_redirects)
                for c in cfg.clients
            ],
        )
        self.limits = QboLimits(
            per_minute=SlidingWindowLimiter("requests/minute", cfg.requests_per_minute, 60.0, self.clock),
            batch_per_minute=SlidingWindowLimiter("batch/minute", cfg.batch_requests_per_minute, 60.0, self.clock),
            per_second=(
                SlidingWindowLimiter("requests/second", cfg.requests_per_second, 1.0, self.clock)
                if cfg.requests_per_second
                else None
            ),
            concurrent=ConcurrencyLimiter("concurrent", cfg.concurrent_requests),
        )
        self.state = SandboxState(self.clock)
        self.service = QboService(self.state, self.clock, load_model())
        self.outbox = WebhookOutbox(self.clock, timeout=cfg.webhook_timeout)
        self.webhooks = QboWebhooks(
            self.outbox,
            cfg.webhook_url,
            cfg.webhook_verifier_token,
            cfg.webhook_format,
            cfg.webhook_max_events_per_post,
        )
        self._signer: IdTokenSigner | None = None
        # Test controls for "Sign in with Intuit": claims to set (None: remove) on every ID token issued,
        # and a function applied to each signed token (to tamper with it after signing).
        self.id_token_overrides: dict[str, Any] = {}
        self.id_token_tamper: Callable[[str], str] | None = None
        seed_all(self.service, cfg.companies)
        self.service.listeners.append(self.webhooks.record)

    # -- lazily created pieces -------------------------------------------------------------------------

    @property
    def signer(self) -> IdTokenSigner:
        """RSA key for ID tokens, generated on first use (key generation is not free)."""
        if self._signer is None:
            self._signer = IdTokenSigner()
        return self._signer

    # -- Python control API (mirrors /_sandbox) --------------------------------------------------------

    def company(self, realm_id: str) -> Company:
        """A company's state (raises UnknownCompany)."""
        return self.service.company(realm_id)

    @property
    def realm_ids(self) -> list[str]:
        """Realm ids of the demo companies, in configuration order."""
        return list(self.state.companies)

    def connect(
        self, realm_id: str | None = None, client_id: str | None = None, scopes: tuple[str, ...] = (ACCOUNTING_SCOPE,)
    ) -> IssuedTokens:
        """Skip the consent page: issue tokens as if the user approved (tests and demos)."""
        client = self.oauth.client(client_id or self.config.clients[0].client_id)
        if client is None:
            raise KeyError(f"unknown client {client_id}")
        realm = realm_id or self.realm_ids[0]
        redirect = client.redirect_uris[0] if client.redirect_uris else "http://localhost/callback"
        code = self.oauth.issue_code(client.client_id, redirect, realm, scopes)
        return self.oauth.exchange_code(client, code, redirect)

    def reset(self) -> None:
        """Back to the seeded companies; tokens and configuration survive."""
        self.faults.clear()
        self.limits.reset()
        self.id_token_overrides = {}
        self.id_token_tamper = None
        self.service.listeners.remove(self.webhooks.record)
        try:
            seed_all(self.service, self.config.companies)
        finally:
            self.service.listeners.append(self.webhooks.record)
        self.webhooks.clear()
        self.outbox.clear()

    def describe(self) -> dict[str, Any]:
        """Summary for the control API's index."""
        return {
            "provider": "quickbooks",
            "companies": [
                {"realmId": c.realm_id, "name": c.preset.company_name} for c in self.state.companies.values()
            ],
            "webhooks": {"enabled": self.webhooks.enabled, "format": self.webhooks.payload_format},
        }

    def error_body(self, rule: FaultRule, scope: Scope) -> tuple[bytes, str]:
        """Body of an injected 5xx: QBO's SystemFault envelope."""
        fault = internal_error("Injected fault: the service is temporarily unavailable.", status=rule.status)
        tz = company_timezone("America/Los_Angeles")
        body = {"Fault": fault.fault_body(), "time": format_response_time(self.clock.now(), tz)}
        return jsoncodec.dumps(body), "application/json;charset=UTF-8"


class QboSandboxApp(SandboxApp):
    """The QBO sandbox's application (``app.sandbox`` is its control object)."""

    sandbox: QboSandbox


def _qbo_fault_handler(request: Request[Any, Any, Any], exc: QboFault) -> Response[bytes]:
    """Faults raised outside a route's own handling still get QBO's envelope."""
    tz = company_timezone("America/Los_Angeles")
    body = {"Fault": exc.fault_body(), "time": format_response_time(request.app.sandbox.clock.now(), tz)}
    return Response(jsoncodec.dumps(body), status_code=exc.status, media_type="application/json;charset=UTF-8")


API_PREFIX = "/v3/"


def _route_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Unknown routes, unsupported methods and oversized bodies under ``/v3`` answer in QBO's dialect.

    QBO never shows a web framework's error page under its API root: an unknown entity or sub-resource
    and a method the entity does not take are "Unsupported Operation" (code 500, HTTP 400), a body over
    the size limit is a 413 ``SystemFault``. Outside the API root (OAuth pages, the control API) the
    framework's own answer stays.
    """
    if not request.url.path.startswith(API_PREFIX):
        return Response({"status_code": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)
    if exc.status_code == 413:
        fault = QboFault(
            "10000",
            "An application error has occurred while processing your request",
            "Request entity too large",
            status=413,
            fault_type="SystemFault",
        )
    else:
        fault = unsupported_operation(f"{request.method} {request.url.path}")
    return _qbo_fault_handler(request, fault)


def create_app(
    config: SandboxConfig | None = None, *, clock: SandboxClock | None = None, sandbox: QboSandbox | None = None
) -> QboSandboxApp:
    """Build the QBO sandbox application (a Litestar app; ``app.sandbox`` is its control object)."""
    sandbox = sandbox or QboSandbox(config, clock)

    @get("/", include_in_schema=False)
    async def index() -> Response[str]:
        """Landing page with links to each company's accountant's view."""
        links = "".join(
            f"<li>{c.preset.company_name} (realmId {c.realm_id}): "
            f"<a href='{ACCOUNTANT_PATH}/{c.realm_id}'>accountant's view</a></li>"
            for c in sandbox.state.companies.values()
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>QBO sandbox</title></head>"
            "<body style='font-family:system-ui,sans-serif;margin:2rem'><h1>QuickBooks Online sandbox</h1>"
            f"<ul>{links}</ul><p>OpenID discovery: "
            "<a href='/.well-known/openid_sandbox_configuration'>/.well-known/openid_sandbox_configuration</a>"
            "</p></body></html>"
        )
        return Response(page, media_type="text/html")

    handlers: list[Any] = [
        index,
        build_oauth_router(sandbox),
        build_api_router(sandbox),
        build_accountant_router(QboAccountantView(sandbox), ACCOUNTANT_PATH),
        build_deeplink_router(sandbox),
    ]
    app = assemble_app(
        QboSandboxApp,
        sandbox,
        handlers,
        lambda inner: TransactionIdMiddleware(QboApiGuard(inner, sandbox)),
        exception_handlers={
            QboFault: _qbo_fault_handler,
            NotFoundException: _route_error_handler,
            MethodNotAllowedException: _route_error_handler,
            413: _route_error_handler,
        },
    )
    app.state.qbo_sandbox = sandbox
    return app
