"""Assembly of the FreshBooks sandbox: state, Python control API and the Litestar application.

:class:`FbSandbox` is the object tests hold: clock, businesses, OAuth store, limits, fault registry and
webhook outbox, with the same controls as the ``/_sandbox`` HTTP API. :func:`create_app` wraps it in a
Litestar app whose request path is ``gateway (auth, membership, scopes, 429) -> fault injection ->
routes``; both layers are plain ASGI so rejected or dropped requests behave as they would on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.accountant import build_accountant_router
from ledgerbridge_testing.sandbox.app import SandboxApp, SandboxControls, assemble_app
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.faults import FaultRegistry, FaultRule, Scope
from ledgerbridge_testing.sandbox.limits import ConcurrencyLimiter, SlidingWindowLimiter
from ledgerbridge_testing.sandbox.oauth import IssuedTokens, OAuthClient, OAuthStore, TokenPolicy
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox
from litestar import Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from ledgerbridge_freshbooks.sandbox.api_routes import build_api_router
from ledgerbridge_freshbooks.sandbox.config import KNOWN_SCOPES, SandboxConfig
from ledgerbridge_freshbooks.sandbox.errors import ERRNO_NOT_FOUND, FbError
from ledgerbridge_freshbooks.sandbox.guard import FbApiGuard, error_body, service_of
from ledgerbridge_freshbooks.sandbox.notifications import FbWebhooks
from ledgerbridge_freshbooks.sandbox.oauth_routes import build_oauth_router, identity_document
from ledgerbridge_freshbooks.sandbox.service import FbService
from ledgerbridge_freshbooks.sandbox.store import SandboxState
from ledgerbridge_freshbooks.sandbox.time_routes import build_time_router
from ledgerbridge_freshbooks.sandbox.views import ACCOUNTANT_PATH, FbAccountantView, build_pages_router


@dataclass
class FbLimits:
    """Per app and user throttling (FreshBooks publishes no numbers: see the README)."""

    per_minute: SlidingWindowLimiter
    concurrent: ConcurrencyLimiter

    def reset(self) -> None:
        self.per_minute.reset()


class FbSandbox(SandboxControls):
    """One FreshBooks sandbox instance and its Python control API."""

    def __init__(self, config: SandboxConfig | None = None, clock: SandboxClock | None = None) -> None:
        self.config = config or SandboxConfig()
        cfg = self.config
        self.clock = clock or SandboxClock(scale=cfg.time_scale, start=cfg.start_time)
        self.started_at = self.clock.now()
        self.faults = FaultRegistry()
        self.oauth = OAuthStore(
            self.clock,
            TokenPolicy(
                access_ttl=cfg.access_token_ttl, refresh_ttl=cfg.refresh_token_ttl, refresh_rolling=True,
                rotate_refresh_tokens=True, rotation_interval=0.0, grace_period=cfg.refresh_grace_period,
                code_ttl=cfg.auth_code_ttl, hard_ttl=cfg.refresh_token_ttl,
            ),
            [OAuthClient(c.client_id, c.client_secret, tuple(c.redirect_uris), c.allow_loopback_redirects)
             for c in cfg.clients],
        )
        self.limits = FbLimits(
            per_minute=SlidingWindowLimiter("requests/minute", cfg.requests_per_minute, 60.0, self.clock),
            concurrent=ConcurrencyLimiter("concurrent", cfg.concurrent_requests),
        )
        self.state = SandboxState()
        self.service = FbService(self.state, self.clock)
        self.outbox = WebhookOutbox(self.clock, retry_schedule=cfg.webhook_retry_schedule,
                                    timeout=cfg.webhook_timeout, hold_after_failure=False)
        self.webhooks = FbWebhooks(self.clock, self.outbox)
        self._seed()
        self.service.listeners.append(self.webhooks.record)

    def _seed(self) -> None:
        self.service.seed(self.config.businesses, self.config.identities)
        url, verifier = self.config.preregistered_webhook_url, self.config.preregistered_webhook_verifier
        if url and verifier:
            for business in self.state.businesses.values():
                for noun in ("client", "invoice", "item", "payment", "tax"):
                    for verb in ("create", "update", "delete"):
                        self.webhooks.register(business, self.config.clients[0].client_id, f"{noun}.{verb}", url,
                                               verifier=verifier)

    # -- OAuth helpers shared by the routes and connect() ------------------------------------------------

    def issue_code(self, client_id: str, redirect_uri: str, identity_id: int, scopes: Iterable[str]) -> str:
        """An authorization code for a user (the subject of a FreshBooks grant is the identity)."""
        return self.oauth.issue_code(client_id, redirect_uri, str(identity_id), scopes)

    def exchange_code(self, client: OAuthClient, code: str | None, redirect_uri: str | None) -> IssuedTokens:
        """Code exchange; with ``one_refresh_token_per_user`` older connections of that user and app end."""
        issued = self.oauth.exchange_code(client, code, redirect_uri)
        if self.config.one_refresh_token_per_user:
            for grant in self.oauth.grants():
                if (grant.client_id == client.client_id and grant.subject == issued.grant.subject
                        and grant.grant_id != issued.grant.grant_id):
                    grant.revoked = True
        return issued

    # -- Python control API (mirrors /_sandbox) ------------------------------------------------------------

    @property
    def account_ids(self) -> list[str]:
        """Account ids of the demo businesses, in configuration order."""
        return list(self.state.businesses)

    def connect(self, identity_id: int | None = None, client_id: str | None = None,
                scopes: tuple[str, ...] = KNOWN_SCOPES) -> IssuedTokens:
        """Skip the consent page: tokens for a user as if they approved (tests and demos)."""
        client = self.oauth.client(client_id or self.config.clients[0].client_id)
        if client is None:
            raise KeyError(f"unknown client {client_id}")
        identity = identity_id or next(iter(self.state.identities))
        redirect = client.redirect_uris[0] if client.redirect_uris else "http://localhost/callback"
        code = self.issue_code(client.client_id, redirect, identity, scopes)
        return self.exchange_code(client, code, redirect)

    def identity_document(self, identity_id: int) -> dict[str, Any]:
        """``users/me`` of a user."""
        return identity_document(self, identity_id)

    def reset(self) -> None:
        """Back to the seeded businesses; tokens and configuration survive."""
        self.faults.clear()
        self.limits.reset()
        self.outbox.clear()
        self.service.listeners.remove(self.webhooks.record)
        try:
            self._seed()
        finally:
            self.service.listeners.append(self.webhooks.record)

    def describe(self) -> dict[str, Any]:
        """Summary for the control API's index."""
        return {
            "provider": "freshbooks",
            "businesses": [{"account_id": b.account_id, "business_id": b.preset.business_id,
                            "business_uuid": b.preset.business_uuid, "name": b.preset.name}
                           for b in self.state.businesses.values()],
            "identities": [{"identity_id": i.identity_id, "email": i.email, "account_ids": list(i.account_ids)}
                           for i in self.state.identities.values()],
        }

    def web_url(self, request: Request[Any, Any, Any] | None = None) -> str:
        """Where this sandbox's web pages are reachable (configured, or taken from the request)."""
        if self.config.public_base_url:
            return self.config.public_base_url.rstrip("/")
        return str(request.base_url).rstrip("/") if request is not None else ""

    def error_body(self, rule: FaultRule, scope: Scope) -> tuple[bytes, str]:
        """Body of an injected 5xx in the shape of the service the path belongs to."""
        error = FbError(rule.status, rule.status, "The service is temporarily unavailable.", "", "", "")
        service = service_of(scope.get("path", "")) or "accounting"
        return jsoncodec.dumps(error_body(service, error, "classic")), "application/json"


class FbSandboxApp(SandboxApp):
    """The FreshBooks sandbox's application (``app.sandbox`` is its control object)."""

    sandbox: FbSandbox


#: FreshBooks publishes no body limit; the sandbox refuses bodies over 10 MB (FreshBooks' upload limit).
MAX_BODY_BYTES = 10_000_000


def _route_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Unknown routes, methods a resource does not take and oversized bodies in FreshBooks' dialect.

    Under a FreshBooks API root the answer is that service's error shape (accounting, events, business
    services); elsewhere (consent pages, the control API) the framework's answer stays.
    """
    path = request.url.path
    service = service_of(path)
    if service is None or service == "identity":
        return Response({"status_code": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)
    messages = {
        404: "Requested resource could not be found.",
        405: f"The method {request.method} is not allowed for this resource.",
        413: "Request entity too large.",
    }
    message = messages.get(exc.status_code, str(exc.detail))
    error = FbError(exc.status_code, ERRNO_NOT_FOUND if exc.status_code == 404 else exc.status_code, message,
                    "", "", path.rsplit("/", 1)[-1])
    style = request.app.sandbox.config.error_format
    return Response(jsoncodec.dumps(error_body(service, error, style)), status_code=exc.status_code,
                    media_type="application/json")


def create_app(
    config: SandboxConfig | None = None, *, clock: SandboxClock | None = None, sandbox: FbSandbox | None = None
) -> FbSandboxApp:
    """Build the FreshBooks sandbox application (``app.sandbox`` is its control object)."""
    sandbox = sandbox or FbSandbox(config, clock)
    handlers: list[Any] = [
        build_pages_router(sandbox),
        build_oauth_router(sandbox),
        build_api_router(sandbox),
        build_time_router(sandbox),
        build_accountant_router(FbAccountantView(sandbox), ACCOUNTANT_PATH),
    ]
    return assemble_app(
        FbSandboxApp,
        sandbox,
        handlers,
        lambda inner: FbApiGuard(inner, sandbox),
        request_max_body_size=MAX_BODY_BYTES,
        exception_handlers={
            NotFoundException: _route_error_handler,
            MethodNotAllowedException: _route_error_handler,
            RequestEntityTooLarge: _route_error_handler,
        },
    )
