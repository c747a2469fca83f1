"""A local Xero look-alike for tests and demos.

``create_app(config)`` returns a Litestar app that speaks Xero's OAuth2 (PKCE, several organisations
per consent, rotating refresh tokens with a grace period), ``/connections`` and the Accounting API 2.0
for contacts, items, accounts, tax rates, invoices, payments and the organisation, with Xero's paging,
``If-Modified-Since``, ``summarizeErrors``, ``Idempotency-Key``, rate limits and signed webhooks.
``app.sandbox`` is the :class:`XeroSandbox` control object. Standalone:
``python -m ledgerbridge_xero.sandbox --port 8702``.
"""

from ledgerbridge_xero.sandbox.app import XeroSandbox, XeroSandboxApp, create_app
from ledgerbridge_xero.sandbox.config import OAuthClientConfig, OrganisationPreset, SandboxConfig

__all__ = ["OAuthClientConfig", "OrganisationPreset", "SandboxConfig", "XeroSandbox", "XeroSandboxApp", "create_app"]
