"""The FreshBooks plugin's hooks.

FreshBooks documents no batch endpoint, no idempotency key and no numeric rate limit, and classic
invoices do not map lines to income accounts (../shared/providers/FACTS.md, FreshBooks 3 to 6); the
capabilities say so, and exactly-once export relies on explicit invoice numbers and `find_invoice`.
The client, mapping and sandbox arrive with the FreshBooks issue; until then the provider is
listed but cannot connect.
"""

from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import Capabilities, ProviderInfo

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
