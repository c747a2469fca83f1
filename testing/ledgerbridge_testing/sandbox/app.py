"""How a provider sandbox becomes one Litestar application, and the controls every sandbox offers.

Every sandbox answers requests along the same path::

    provider gateway (auth, tenant, limits) -> fault injection -> Litestar routes

The gateway and fault layers are plain ASGI, not Litestar middleware, so a throttled or dropped request
behaves as it would on the wire. Around the routes each sandbox also mounts the ``/_sandbox`` control
API (unless disabled) and, when configured, a lifespan task delivering webhooks periodically. Only the
gateway, the routes and the error bodies are the provider's own; this module wires the rest so the
three sandboxes cannot drift apart.

:class:`SandboxControls` holds the Python twins of the control API (arm a fault, move time, end
tokens, flush webhooks) that tests call on the sandbox object directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol, TypeVar

import httpx
from litestar import Litestar

from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.control import ControlHooks, build_control_router
from ledgerbridge_testing.sandbox.faults import (
    ASGIApp,
    FaultInjectionMiddleware,
    FaultKind,
    FaultRegistry,
    FaultRule,
    Receive,
    Scope,
    Send,
)
from ledgerbridge_testing.sandbox.oauth import OAuthStore

logger = logging.getLogger(__name__)


class Outbox(Protocol):
    """A sandbox's webhook sender as the control API sees it."""

    async def flush(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]: ...

    def describe(self) -> Any: ...


class Sandbox(Protocol):
    """What a provider sandbox object offers the shared wiring."""

    config: Any
    clock: SandboxClock
    faults: FaultRegistry
    oauth: OAuthStore
    webhooks: Any

    def error_body(self, rule: FaultRule, scope: Scope) -> tuple[bytes, str]: ...

    def revoke_all_tokens(self) -> int: ...

    async def flush_webhooks(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]: ...

    def reset(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


class SandboxControls:
    """The Python control API every sandbox shares (mirrors ``/_sandbox``); a sandbox sets the attributes."""

    clock: SandboxClock
    faults: FaultRegistry
    oauth: OAuthStore
    webhooks: Outbox

    def add_fault(
        self,
        kind: FaultKind | str,
        path_prefix: str = "/",
        count: int = 1,
        status: int | None = None,
        delay: float = 0.0,
        method: str | None = None,
    ) -> FaultRule:
        """Arm a fault (see :mod:`ledgerbridge_testing.sandbox.faults`)."""
        return self.faults.add(kind, path_prefix, count, status, delay, method)

    def revoke_all_tokens(self) -> int:
        """Every connection ends; API calls get 401 and refreshes get invalid_grant."""
        return self.oauth.revoke_all()

    def expire_access_tokens(self) -> int:
        """Access tokens expire now; refresh tokens keep working."""
        return self.oauth.expire_access_tokens()

    def advance(self, seconds: float) -> None:
        """Move simulated time forward."""
        self.clock.advance(seconds)

    async def flush_webhooks(self, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
        """Deliver pending notifications now."""
        return await self.webhooks.flush(client)


class SandboxApp(Litestar):
    """A Litestar app with a provider's gateway and the fault layer in front of its router."""

    sandbox: Any

    def install_gateway(self, sandbox: Sandbox, gateway: Callable[[ASGIApp], ASGIApp]) -> None:
        """Wire the ASGI layers that must see requests before Litestar does; ``gateway`` wraps the fault layer."""
        self.sandbox = sandbox
        inner = FaultInjectionMiddleware(
            self._litestar_entry,
            sandbox.faults,
            sandbox.clock,
            sandbox.error_body,
            revoke_tokens=sandbox.revoke_all_tokens,
        )
        self._gateway = gateway(inner)

    async def _litestar_entry(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:  # type: ignore[override]
        gateway = getattr(self, "_gateway", None)
        if scope["type"] == "http" and gateway is not None:
            await gateway(scope, receive, send)
        else:
            await self._litestar_entry(scope, receive, send)


def webhook_pump(sandbox: Sandbox) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan delivering webhooks every ``webhook_auto_deliver_interval`` simulated seconds, if set."""

    @contextlib.asynccontextmanager
    async def pump_while_running(app: Litestar) -> AsyncIterator[None]:
        interval = sandbox.config.webhook_auto_deliver_interval
        if not interval:
            yield
            return

        async def pump() -> None:
            while True:
                await sandbox.clock.sleep(interval)
                try:
                    await sandbox.flush_webhooks()
                except Exception:  # delivery problems must not stop the pump
                    logger.exception("webhook delivery failed")

        task = asyncio.create_task(pump())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return pump_while_running


AppT = TypeVar("AppT", bound=SandboxApp)


def assemble_app(
    app_type: type[AppT],
    sandbox: Sandbox,
    handlers: Sequence[Any],
    gateway: Callable[[ASGIApp], ASGIApp],
    *,
    control_extras: Sequence[Any] = (),
    **litestar_options: Any,
) -> AppT:
    """The sandbox's application: its routes, the control API (plus ``control_extras``) unless disabled,
    the webhook pump, and ``gateway`` -> fault injection in front of it all."""
    route_handlers = list(handlers)
    if sandbox.config.enable_control_api:
        hooks = ControlHooks(
            flush_webhooks=sandbox.flush_webhooks,
            webhook_state=sandbox.webhooks.describe,
            reset=sandbox.reset,
            describe=sandbox.describe,
        )
        route_handlers.append(build_control_router(sandbox.clock, sandbox.faults, sandbox.oauth, hooks))
        route_handlers.extend(control_extras)
    app = app_type(
        route_handlers=route_handlers, lifespan=[webhook_pump(sandbox)], openapi_config=None, **litestar_options
    )
    app.install_gateway(sandbox, gateway)
    return app
