"""Provider-agnostic machinery for LedgerBridge's provider sandboxes.

The QuickBooks Online, Xero and FreshBooks sandboxes are local HTTP servers that behave like the real
services so that tests and demos never need real credentials. What they share lives here, one idea per
module:

* :mod:`.clock` - simulated time with a speed factor and manual advances;
* :mod:`.limits` - sliding-window and concurrency limiters for provider rate limits;
* :mod:`.faults` - fault-injection rules and the ASGI middleware applying them;
* :mod:`.oauth` - authorization codes, rotating refresh tokens, revocation;
* :mod:`.idtoken` - RS256 OpenID Connect ID tokens and JWKS;
* :mod:`.webhooks` - HMAC-SHA256 signatures and a retrying delivery outbox;
* :mod:`.jsoncodec` - JSON with exact Decimal money;
* :mod:`.control` - the ``/_sandbox`` HTTP control API;
* :mod:`.accountant` - the bookkeeper's HTML page and JSON actions;
* :mod:`.server` - a sandbox served for the length of a test, or behind one switch for a session.
"""

from ledgerbridge_testing.sandbox.clock import SandboxClock
from ledgerbridge_testing.sandbox.faults import FaultInjectionMiddleware, FaultKind, FaultRegistry, FaultRule
from ledgerbridge_testing.sandbox.limits import ConcurrencyLimiter, LimitExceeded, SlidingWindowLimiter
from ledgerbridge_testing.sandbox.oauth import OAuthClient, OAuthError, OAuthStore, TokenPolicy
from ledgerbridge_testing.sandbox.webhooks import WebhookOutbox, sign_hmac_sha256_base64, verify_hmac_sha256_base64

__all__ = [
    "ConcurrencyLimiter",
    "FaultInjectionMiddleware",
    "FaultKind",
    "FaultRegistry",
    "FaultRule",
    "LimitExceeded",
    "OAuthClient",
    "OAuthError",
    "OAuthStore",
    "SandboxClock",
    "SlidingWindowLimiter",
    "TokenPolicy",
    "WebhookOutbox",
    "sign_hmac_sha256_base64",
    "verify_hmac_sha256_base64",
]
