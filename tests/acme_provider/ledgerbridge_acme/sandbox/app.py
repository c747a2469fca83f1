"""Assembly of the Acme Books sandbox: its state and Python controls, and the Litestar application.

`Sandbox` is what tests hold (clock, books, OAuth, limits, faults, notifications) with the same
controls as `/_sandbox`. `create_app` wraps it so a request travels::

    gateway (token, company, limits) -> fault injection -> routes

and `demo` is what the `demo_sandbox` hook hands to `ledgerbridge serve` and the end-to-end suite.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.provider import DemoSandbox
from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.accountant import build_accountant_router
from ledgerbridge_testing.sandbox.app import SandboxApp, SandboxControls, assemble_app
from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.faults import FaultRegistry, FaultRule, Scope
from ledgerbridge_testing.sandbox.limits import ConcurrencyLimiter, SlidingWindowLimiter
from ledgerbridge_testing.sandbox.oauth import OAuthClient, OAuthStore, TokenPolicy
from litestar import Response, get

from ledgerbridge_acme.sandbox.accountant_view import ACCOUNTANT_PATH, AccountantView
from ledgerbridge_acme.sandbox.api_routes import build_api_router
from ledgerbridge_acme.sandbox.books import Books
from ledgerbridge_acme.sandbox.config import SandboxConfig
from ledgerbridge_acme.sandbox.gateway import ApiGuard
from ledgerbridge_acme.sandbox.notifications import Notifier
from ledgerbridge_acme.sandbox.oauth_routes import build_oauth_router
from ledgerbridge_acme.sandbox.seed import seed


class Limits:
    def __init__(self, config: SandboxConfig, clock: SandboxClock) -> None:
        self.per_minute = SlidingWindowLimiter("minute", config.requests_per_minute, 60.0, clock)
        self.concurrent = ConcurrencyLimiter("concurrent", config.concurrent_requests)
        self.refused = 0  # 429 answers given, so tests can prove a client never met one

    def reset(self) -> None:
        self.per_minute.reset()


class Sandbox(SandboxControls):
    """One Acme Books sandbox and its Python control API (mirrors `/_sandbox`)."""

    def __init__(self, config: SandboxConfig | None = None, clock: SandboxClock | None = None) -> None:
        self.config = cfg = config or SandboxConfig()
        self.clock = clock or SandboxClock(scale=cfg.time_scale, start=cfg.start_time)
        self.faults = FaultRegistry()
        self.oauth = OAuthStore(
            self.clock,
            TokenPolicy(access_ttl=cfg.access_token_ttl, refresh_ttl=cfg.refresh_token_ttl,
                        rotate_refresh_tokens=True, grace_period=cfg.refresh_grace_period, code_ttl=cfg.auth_code_ttl),
            [OAuthClient(cfg.client_id, cfg.client_secret, cfg.redirect_uris, cfg.allow_loopback_redirects)],
        )
        self.limits = Limits(cfg, self.clock)
        self.books = Books(self.clock)
        self.webhooks = Notifier(self.clock, cfg.webhook_url, cfg.webhook_secret)
        seed(self.books)
        self.books.listeners.append(self.webhooks.record)
        self.refused_batches = 0

    def refuse_batches(self, count: int) -> None:
        """Answer the next `count` batch requests with 429, as Acme does when its batch queue is full."""
        self.refused_batches = count

    def take_batch_refusal(self) -> bool:
        if self.refused_batches > 0:
            self.refused_batches -= 1
            return True
        return False

    def reset(self) -> None:
        """Back to the seeded books; tokens survive, faults and pending notifications do not."""
        self.faults.clear()
        self.limits.reset()
        self.refused_batches = 0
        listeners, self.books.listeners = self.books.listeners, []
        try:
            seed(self.books)
        finally:
            self.books.listeners = listeners
        self.webhooks.clear()

    def describe(self) -> dict[str, Any]:
        return {"provider": "acme",
                "companies": [{"id": c.id, "name": c.name} for c in self.books.companies.values()],
                "webhooks": self.webhooks.describe()}

    def error_body(self, rule: FaultRule, scope: Scope) -> tuple[bytes, str]:
        """The body of an injected 5xx, shaped as Acme Books's own errors."""
        return jsoncodec.dumps({"error": {"code": "unavailable", "message": "Injected fault"}}), "application/json"


class SandboxApplication(SandboxApp):
    sandbox: Sandbox


def create_app(config: SandboxConfig | None = None, *, sandbox: Sandbox | None = None) -> SandboxApplication:
    """The sandbox's ASGI application (`app.sandbox` is its control object)."""
    sandbox = sandbox or Sandbox(config)

    @get("/", include_in_schema=False)
    async def index() -> Response[str]:
        """Links to each company's accountant's view."""
        links = "".join(f"<li><a href='{ACCOUNTANT_PATH}/{c.id}'>{c.name}</a> ({c.id})</li>"
                        for c in sandbox.books.companies.values())
        return Response(f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Acme Books sandbox"
                        f"</title></head><body><h1>Acme Books sandbox</h1><ul>{links}</ul></body></html>",
                        media_type="text/html")

    handlers = [index, build_oauth_router(sandbox), build_api_router(sandbox),
                build_accountant_router(AccountantView(sandbox), ACCOUNTANT_PATH)]
    return assemble_app(SandboxApplication, sandbox, handlers, lambda inner: ApiGuard(inner, sandbox))


def demo(public_url: str, webhook_url: str) -> DemoSandbox:
    """The sandbox `serve` runs at `public_url` when Acme Books has no credentials configured.

    Its app accepts LedgerBridge's callback (derived from `webhook_url`, which sits on the same server)
    and any loopback one, and announces changes to `webhook_url` every few simulated seconds.
    """
    server = webhook_url.rsplit("/webhooks/", 1)[0]
    config = SandboxConfig(public_base_url=public_url, redirect_uris=(f"{server}/oauth/callback",),
                           webhook_url=webhook_url, webhook_auto_deliver_interval=5.0)
    return DemoSandbox(app=create_app(config), client_id=config.client_id, client_secret=config.client_secret,
                       webhook_secret=config.webhook_secret,
                       description="Local Acme Books sandbox with two demo companys.")
