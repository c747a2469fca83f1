"""The Xero plugin's hooks.

Capabilities follow Xero's published limits (../shared/providers/FACTS.md, Xero 5 and 6): about 50
invoices per request, `Idempotency-Key`, 60 calls a minute, 5 at once and 5,000 a day per
organisation, PKCE, and several organisations per consent. The client, mapping and sandbox arrive
with the Xero issue; until then the provider is listed but cannot connect.
"""

from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import Capabilities, ProviderInfo

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
        key="xero", name="Xero", version=__version__, capabilities=CAPABILITIES,
        description="Xero accounting (Accounting API 2.0).", homepage="https://www.xero.com/",
    )
