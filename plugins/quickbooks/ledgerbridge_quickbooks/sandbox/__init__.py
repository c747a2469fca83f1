"""A local QuickBooks Online look-alike for tests and demos.

``create_app(config)`` returns a Litestar app that speaks QBO's OAuth2 and v3 accounting API (queries,
CDC, batch, requestid idempotency, SyncToken concurrency, throttling, webhooks) with in-memory demo
companies, plus an accountant's view and fault-injection controls. ``app.sandbox`` is the
:class:`QboSandbox` control object. Run it standalone with
``python -m ledgerbridge_quickbooks.sandbox --port 8701``.
"""

from ledgerbridge_quickbooks.sandbox.app import QboSandbox, QboSandboxApp, create_app
from ledgerbridge_quickbooks.sandbox.config import CompanyPreset, OAuthClientConfig, SandboxConfig

__all__ = ["CompanyPreset", "OAuthClientConfig", "QboSandbox", "QboSandboxApp", "SandboxConfig", "create_app"]
