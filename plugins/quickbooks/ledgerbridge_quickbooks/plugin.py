"""The QuickBooks Online plugin's hooks.

Capabilities follow Intuit's published limits (../shared/providers/FACTS.md, QBO 5 and 6): batches
of at most 30 operations, `requestid` idempotency, 500 requests a minute and 10 at once per
company, DocNumber at most 21 characters. The client, mapping and sandbox arrive with the
QuickBooks Online issue; until then the provider is listed but cannot connect.
"""

from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import Capabilities, ProviderInfo

from ledgerbridge_quickbooks import __version__

CAPABILITIES = Capabilities(
    batch_size=30,
    native_idempotency=True,
    webhooks=True,
    income_accounts=True,
    tax_rates=True,
    time_activities=True,
    payments=True,
    void_invoices=True,
    delete_invoices=True,
    draft_export=False,
    incremental_import=True,
    multiple_tenants_per_consent=False,
    pkce=False,
    invoice_number_max_length=21,
    requests_per_minute=500,
    concurrent_requests=10,
)


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(
        key="quickbooks", name="QuickBooks Online", version=__version__, capabilities=CAPABILITIES,
        description="Intuit QuickBooks Online (not QuickBooks Desktop).",
        homepage="https://quickbooks.intuit.com/online/",
    )
