"""The Acme Books plugin's hooks: each a line or two over `client`, `workflows` and `webhooks`.

Generated from the LedgerBridge provider template and completed: Acme Books is the provider of
LedgerBridge's own tests, with every capability the engine has (batches of 10, native idempotency,
webhooks, income accounts, tax rates, time entries, void and delete) so the conformance suite runs
every case against it. There is no OAuth code here: the plugin declares
Acme Books's authorization server (`client.authorization_server`) and the core performs the flow.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import (
    AuthorizationServer,
    BatchOutcome,
    Capabilities,
    CustomerData,
    DemoSandbox,
    ExportResult,
    InvoiceData,
    ItemData,
    LinkRef,
    Page,
    PaymentData,
    ProviderInfo,
    ProviderSession,
    RemoteAccount,
    RemoteCustomer,
    RemoteInvoice,
    RemoteItem,
    RemoteTaxRate,
    Tenant,
    TimeEntryData,
    TokenSet,
    WebhookEvent,
)
from ledgerbridge.settings import ProviderSettings

from ledgerbridge_acme import __version__, client, sandbox, webhooks, workflows
from ledgerbridge_acme.client import ApiClient

#: What Acme Books can do. The core and the admin UI adapt to these; nothing else names a provider.
CAPABILITIES = Capabilities(
    batch_size=10,  # invoices per write request; above 1 bulk exports call `export_invoices_batch`
    batch_items_metered=False,  # each batch item counts as a call: the shared limiter charges every item
    native_idempotency=True,  # a repeated key replays the first answer; False: the core calls `find_invoice`
    #                            before retrying a create whose answer was lost, so a retry never duplicates
    webhooks=True,  # "Instant updates" on Integrations; `verify_webhook`/`parse_webhook` queue the reads
    income_accounts=True,  # `import_accounts` runs and items must map to an income account before export
    tax_rates=True,  # `import_tax_rates` runs and lines carry the provider's tax rate ids
    time_activities=True,  # time entries export through `export_time_entry`
    payments=True,  # payments recorded here are sent with `export_payment`
    void_payments=True,  # ... and voided with `void_payment`
    void_invoices=True,  # "revert to draft" voids the provider's copy (`void_invoice`)
    delete_invoices=True,  # ... or deletes it (`delete_invoice`)
    draft_export=False,  # the connection offers "export as draft" (`session.options.export_as_draft`)
    incremental_import=True,  # imports get back the change cursor of the previous read
    multiple_tenants_per_consent=False,  # True: the core asks the user to pick among `connected_tenants`
    pkce=False,  # True: `authorization_url` and `exchange_code` get a PKCE verifier
    invoice_number_max_length=21,  # longer numbers are shortened by the core before export
    requests_per_minute=client.REQUESTS_PER_MINUTE,  # the shared limiter keeps every worker under these,
    concurrent_requests=client.CONCURRENT_REQUESTS,  # per company
    requests_per_day=None,  # also checked before a bulk export is queued
)


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(key="acme", name="Acme Books", version=__version__, capabilities=CAPABILITIES,
                        description="Acme Books, the test provider", tenant_noun="company")


# --------------------------------------------------------------------------- connecting


@hookimpl
def authorization_server(settings: ProviderSettings, environment: str) -> AuthorizationServer:
    """The core runs consent, code exchange, refresh and revocation from this declaration."""
    return client.authorization_server(settings)


@hookimpl
async def connected_tenants(
    settings: ProviderSettings, environment: str, tokens: TokenSet, params: dict[str, str]
) -> list[Tenant]:
    return await workflows.connected_tenants(settings, tokens.access_token)


# --------------------------------------------------------------------------- importing


@hookimpl
async def import_customers(session: ProviderSession, cursor: str | None) -> Page[RemoteCustomer]:
    return await workflows.import_customers(ApiClient(session), cursor)


@hookimpl
async def import_items(session: ProviderSession, cursor: str | None) -> Page[RemoteItem]:
    return await workflows.import_items(ApiClient(session), cursor)


@hookimpl
async def import_accounts(session: ProviderSession, cursor: str | None) -> Page[RemoteAccount]:
    return await workflows.import_accounts(ApiClient(session), cursor)


@hookimpl
async def import_tax_rates(session: ProviderSession, cursor: str | None) -> Page[RemoteTaxRate]:
    return await workflows.import_tax_rates(ApiClient(session), cursor)


# --------------------------------------------------------------------------- exporting (to write: workflows.py)


@hookimpl
async def export_customer(
    session: ProviderSession, customer: CustomerData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_customer(ApiClient(session), customer, link, idempotency_key)


@hookimpl
async def export_item(
    session: ProviderSession, item: ItemData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_item(ApiClient(session), item, link, idempotency_key)


@hookimpl
async def export_invoice(
    session: ProviderSession, invoice: InvoiceData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_invoice(ApiClient(session), invoice, link, idempotency_key)


@hookimpl
async def export_invoices_batch(
    session: ProviderSession, invoices: list[tuple[InvoiceData, LinkRef | None, str]]
) -> list[BatchOutcome]:
    return await workflows.export_invoices_batch(ApiClient(session), invoices)


@hookimpl
async def export_time_entry(
    session: ProviderSession, entry: TimeEntryData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_time_entry(ApiClient(session), entry, link, idempotency_key)


@hookimpl
async def export_payment(
    session: ProviderSession, payment: PaymentData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_payment(ApiClient(session), payment, link, idempotency_key)


@hookimpl
async def void_payment(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_payment(ApiClient(session), link, idempotency_key)


@hookimpl
async def void_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_invoice(ApiClient(session), link, idempotency_key)


@hookimpl
async def delete_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.delete_invoice(ApiClient(session), link, idempotency_key)


@hookimpl
async def find_invoice(session: ProviderSession, number: str) -> RemoteInvoice | None:
    return await workflows.find_invoice(ApiClient(session), number)


# --------------------------------------------------------------------------- reading back


@hookimpl
async def poll_invoices(
    session: ProviderSession, cursor: str | None, remote_ids: list[str] | None
) -> Page[RemoteInvoice]:
    return await workflows.poll_invoices(ApiClient(session), cursor, remote_ids)


@hookimpl
def record_url(provider_data: dict[str, Any], environment: str, record_type: str, remote_id: str) -> str | None:
    return workflows.record_url(provider_data, record_type, remote_id)


# --------------------------------------------------------------------------- webhooks


@hookimpl
def verify_webhook(settings: ProviderSettings, headers: dict[str, str], body: bytes) -> bool:
    return webhooks.verify(settings.webhook_secret, headers, body)


@hookimpl
def parse_webhook(settings: ProviderSettings, headers: dict[str, str], body: bytes) -> list[WebhookEvent]:
    return webhooks.parse(body)


# --------------------------------------------------------------------------- demo


@hookimpl
def demo_sandbox(public_url: str, webhook_url: str) -> DemoSandbox:
    return sandbox.demo(public_url, webhook_url)
