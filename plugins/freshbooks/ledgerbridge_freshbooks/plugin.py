"""The FreshBooks plugin's hooks.

FreshBooks documents no batch endpoint, no idempotency key and no numeric rate limit, and classic
invoices do not map lines to income accounts (../shared/providers/FACTS.md, FreshBooks 3 to 6); the
capabilities say so, and exactly-once export relies on explicit invoice numbers and `find_invoice`.
The local sandbox (``ledgerbridge_freshbooks.sandbox``) backs the demo through ``demo_sandbox``; the
client and mapping are still to come, so the provider cannot connect to real FreshBooks yet.
"""

from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import Capabilities, DemoSandbox, ProviderInfo

from ledgerbridge_freshbooks import __version__

CAPABILITIES = Capabilities(
    batch_size=1,
    native_idempotency=False,
    webhooks=True,
    income_accounts=False,
    tax_rates=True,
    time_activities=True,
    payments=True,
    void_invoices=False,
    delete_invoices=True,
    draft_export=True,
    incremental_import=True,
    multiple_tenants_per_consent=True,
    pkce=False,
)


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(
        key="freshbooks", name="FreshBooks", version=__version__, capabilities=CAPABILITIES,
        description="FreshBooks (classic accounting API).", homepage="https://www.freshbooks.com/",
    )


#: Signing secret of the demo sandbox's pre-registered webhook callbacks (a verifier, in FreshBooks terms).
DEMO_WEBHOOK_SECRET = "ledgerbridge-demo-webhook-verifier"


@hookimpl
def demo_sandbox(public_url: str, webhook_url: str) -> DemoSandbox:
    """The FreshBooks sandbox, with verified callbacks to LedgerBridge so webhooks flow without a handshake."""
    from ledgerbridge_freshbooks.sandbox import SandboxConfig, create_app
    from ledgerbridge_freshbooks.sandbox.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    config = SandboxConfig(
        public_base_url=public_url,
        preregistered_webhook_url=webhook_url,
        preregistered_webhook_verifier=DEMO_WEBHOOK_SECRET,
        webhook_auto_deliver_interval=5.0,
    )
    return DemoSandbox(
        app=create_app(config), client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
        webhook_secret=DEMO_WEBHOOK_SECRET,
        description="Local FreshBooks sandbox: two demo businesses; sign in as Dana or Sam.",
    )
