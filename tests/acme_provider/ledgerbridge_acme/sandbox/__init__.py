"""A local Acme Books: an HTTP server that behaves like the provider, for tests and `serve`'s demo.

It speaks the same wire as `ledgerbridge_acme.client` expects (consent page, token endpoint with rotating
refresh tokens, `company` listing, paged collections with `updated_since`), keeps its books
in memory, and offers what every LedgerBridge sandbox offers: the accountant's view
(`/accountant/<company>`) and the `/_sandbox` control API (clock, faults, tokens, webhooks).
Make it behave like Acme Books's public documentation says, one rule at a time: the end-to-end suite
trusts it.
"""

from ledgerbridge_acme.sandbox.app import Sandbox, create_app, demo
from ledgerbridge_acme.sandbox.config import SandboxConfig

__all__ = ["Sandbox", "SandboxConfig", "create_app", "demo"]
