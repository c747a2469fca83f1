"""Provider sandboxes beside the server, so a newcomer can connect, import and export offline.

A provider without a configured client id cannot be connected for real, so `serve` asks its plugin
for a sandbox (`demo_sandbox` hook), serves it on its own port and points the provider's settings
at it. Nothing else changes: the same plugin code, OAuth flow and sync engine run against it as
against the real provider. Sandboxes keep their data in memory; after a restart, reconnect.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ledgerbridge.asgi_thread import ThreadServer, bind
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import DemoSandbox
from ledgerbridge.settings import PREFIX, Settings

log = logging.getLogger(__name__)

# Providers whose sandbox also plays the issuer of a "Sign in with ..." button, and that issuer's
# settings prefix: people sign in with their Intuit account where QuickBooks Online lives.
SIGN_IN_ISSUERS = {"quickbooks": "OIDC_INTUIT"}


@dataclass
class RunningSandbox:
    provider: str
    name: str
    url: str
    server: ThreadServer
    env: dict[str, str]  # the settings that point the provider at this sandbox


def _public_host(settings: Settings) -> str:
    """The host people's browsers reach us by; the sandbox's consent page must be reachable there too."""
    return urlsplit(settings.base_url).hostname or "127.0.0.1"


def _port(host: str, wanted: int) -> int:
    """The wanted port when it is free, else any free one (a second LedgerBridge on the same machine)."""
    try:
        sock = bind(host, wanted)
    except OSError:
        log.warning("port %s is taken; the sandbox gets a free port instead", wanted)
        sock = bind(host, 0)
    port = sock.getsockname()[1]
    sock.close()
    return port


def serve_sandbox(key: str, *, bind_host: str, public_host: str, port: int, base_url: str,
                  wrap: Callable[[Any], Any] | None = None) -> RunningSandbox:
    """Start provider `key`'s sandbox on `port` (0: any free one) and say how to point settings at it.

    `wrap` puts an ASGI layer in front of the sandbox (the benchmark counts requests with it).
    """
    registry = get_registry()
    port = _port(bind_host, port)
    public_url = f"http://{public_host}:{port}"
    offer: DemoSandbox = registry.call_sync(
        key, "demo_sandbox", public_url=public_url, webhook_url=f"{base_url}/webhooks/{key}"
    )
    server = ThreadServer(wrap(offer.app) if wrap else offer.app, bind_host, port)
    server.start()
    upper = key.upper()
    env = {
        f"{PREFIX}{upper}_CLIENT_ID": offer.client_id,
        f"{PREFIX}{upper}_CLIENT_SECRET": offer.client_secret,
        f"{PREFIX}{upper}_BASE_URL": public_url,
    }
    if offer.webhook_secret and not os.environ.get(f"{PREFIX}{upper}_WEBHOOK_SECRET"):
        # Only where none is configured: a real secret must never be replaced by the demo's constant.
        env[f"{PREFIX}{upper}_WEBHOOK_SECRET"] = offer.webhook_secret
    issuer = SIGN_IN_ISSUERS.get(key)
    if issuer and offer.openid_configuration_url and not os.environ.get(f"{PREFIX}{issuer}_CLIENT_ID"):
        # "Sign in with Intuit" against the sandbox too, unless a real Intuit app is configured for it.
        env[f"{PREFIX}{issuer}_CLIENT_ID"] = offer.client_id
        env[f"{PREFIX}{issuer}_CLIENT_SECRET"] = offer.client_secret
        env[f"{PREFIX}{issuer}_DISCOVERY_URL"] = offer.openid_configuration_url
    return RunningSandbox(key, registry.providers[key].name, public_url, server, env)


def start_sandboxes(settings: Settings) -> list[RunningSandbox]:
    """Start a sandbox for every provider that needs one and configure the provider to use it."""
    if settings.sandboxes == "off":
        return []
    if not settings.embedded_broker:
        # Separate worker processes would not see the settings pointing at these sandboxes.
        log.warning("provider sandboxes run only with the embedded worker (LEDGERBRIDGE_BROKER_URL unset)")
        return []
    registry = get_registry()
    bind_host = "0.0.0.0" if settings.host == "0.0.0.0" else "127.0.0.1"
    running: list[RunningSandbox] = []
    for index, key in enumerate(sorted(registry.providers)):
        if settings.provider(key).client_id or not registry.implements(key, "demo_sandbox"):
            continue  # real credentials talk to the real provider
        sandbox = serve_sandbox(key, bind_host=bind_host, public_host=_public_host(settings),
                                port=settings.sandbox_port + index, base_url=settings.base_url)
        os.environ.update(sandbox.env)
        running.append(sandbox)
    return running


def stop_sandboxes(running: list[RunningSandbox]) -> None:
    for sandbox in running:
        sandbox.server.stop()
