"""The Xero plugin's hooks.

Capabilities follow Xero's published limits (../shared/providers/FACTS.md, Xero 5 and 6): about 50
invoices per request, `Idempotency-Key`, 60 calls a minute, 5 at once and 5,000 a day per
organisation, PKCE, and several organisations per consent. The sandbox (``ledgerbridge_xero.sandbox``) is
offered to ``serve`` as the demo backend; the client and mapping are still to come.
"""

from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import Capabilities, DemoSandbox, ProviderInfo

from ledgerbridge_xero import __version__

CAPABILITIES = Capabilities(
    batch_size=50,
    native_idempotency=True,
    webhooks=True,
    income_accounts=True,
    tax_rates=True,
    time_activities=False,
    payments=True,
    void_invoices=True,
    delete_invoices=True,
    draft_export=True,
    incremental_import=True,
    multiple_tenants_per_consent=True,
    pkce=True,
    invoice_number_max_length=255,
    requests_per_minute=60,
    concurrent_requests=5,
    requests_per_day=5000,
)


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(
        key="xero",
        name="Xero",
        version=__version__,
        capabilities=CAPABILITIES,
        description="Xero accounting (Accounting API 2.0).",
        homepage="https://www.xero.com/",
    )


DEMO_WEBHOOK_KEY = "ledgerbridge-demo-xero-webhook-key"


@hookimpl
def demo_sandbox(public_url: str, webhook_url: str) -> DemoSandbox:
    """The Xero sandbox, reachable at ``public_url``, delivering signed webhooks to ``webhook_url``."""
    from ledgerbridge_xero.sandbox import SandboxConfig, create_app
    from ledgerbridge_xero.sandbox.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    config = SandboxConfig(
        public_base_url=public_url,
        webhook_url=webhook_url,
        webhook_key=DEMO_WEBHOOK_KEY,
        webhook_auto_deliver_interval=5.0,
    )
    return DemoSandbox(
        app=create_app(config),
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        webhook_secret=DEMO_WEBHOOK_KEY,
        description="Local Xero sandbox with two demo organisations (NZ and UK).",
    )
