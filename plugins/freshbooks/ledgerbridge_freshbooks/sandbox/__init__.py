"""A local FreshBooks look-alike for tests and demos.

``create_app(config)`` returns a Litestar app that speaks FreshBooks' OAuth2, identity, accounting,
ledger-account and webhook-callback APIs with in-memory demo businesses, plus an accountant's view,
FreshBooks-style web links and the shared ``/_sandbox`` controls. ``app.sandbox`` is the
:class:`FbSandbox` control object. Run it standalone with
``python -m ledgerbridge_freshbooks.sandbox --port 8703``.
"""

from ledgerbridge_freshbooks.sandbox.app import FbSandbox, FbSandboxApp, create_app
from ledgerbridge_freshbooks.sandbox.config import BusinessPreset, IdentityPreset, OAuthClientConfig, SandboxConfig

__all__ = ["BusinessPreset", "FbSandbox", "FbSandboxApp", "IdentityPreset", "OAuthClientConfig", "SandboxConfig",
           "create_app"]
