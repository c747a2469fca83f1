"""How one sandbox instance is set up: the registered app, token lifetimes, limits, webhooks.

The defaults are the demo's: one app whose credentials `demo_sandbox` hands to the core, accepting
any loopback redirect (the local server's port is not known in advance) plus the redirect it is told.
Lifetimes and limits are in simulated seconds of the sandbox clock, so tests can compress them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DEMO_CLIENT_ID = "ledgerbridge-demo-acme"
DEMO_CLIENT_SECRET = "ledgerbridge-demo-acme-secret"
DEMO_WEBHOOK_SECRET = "ledgerbridge-demo-acme-webhooks"


@dataclass(frozen=True)
class SandboxConfig:
    public_base_url: str = ""  # where browsers reach the sandbox (links, consent form)
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    redirect_uris: tuple[str, ...] = ()
    allow_loopback_redirects: bool = True
    time_scale: float = 1.0
    start_time: datetime | None = None
    access_token_ttl: float = 3600.0
    refresh_token_ttl: float = 100 * 86400.0
    refresh_grace_period: float = 0.0  # how long a rotated-out refresh token still works
    auth_code_ttl: float = 300.0
    requests_per_minute: int = 600  # per app and company; keep equal to client.REQUESTS_PER_MINUTE
    concurrent_requests: int = 4
    max_page_size: int = 100
    webhook_url: str = ""  # empty: changes are not announced
    webhook_secret: str = DEMO_WEBHOOK_SECRET
    webhook_auto_deliver_interval: float | None = None  # simulated seconds; None: only on /_sandbox/webhooks/flush
    enable_control_api: bool = True
