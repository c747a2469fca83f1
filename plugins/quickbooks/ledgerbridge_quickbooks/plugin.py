"""The QuickBooks Online plugin's hooks: thin wrappers over `workflows`, `client` and `webhooks`.

Capabilities follow Intuit's published limits (../shared/providers/FACTS.md, QBO 5 and 6): batches
of at most 30 operations, `requestid` idempotency, 500 requests a minute and 10 at once per
company, DocNumber at most 21 characters.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import ProviderError
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

from ledgerbridge_quickbooks import __version__, client, mapping, webhooks, workflows
from ledgerbridge_quickbooks.client import QboClient

CAPABILITIES = Capabilities(
    batch_size=30,
    batch_items_metered=True,
    environments=("production", "sandbox"),
    native_idempotency=True,
    webhooks=True,
    income_accounts=True,
    tax_rates=True,
    time_activities=True,
    payments=True,
    void_payments=True,  # operation=update&include=void (FACTS QBO 4)
    overpayment_credit=True,  # a payment above the invoice's balance keeps the rest as UnappliedAmt (FACTS QBO 4)
    # Voiding or deleting an invoice leaves its payments on the books, unapplied (Intuit's help: "the payment
    # stays on your books ... but no longer has an offsetting invoice"; a payment may apply to none, FACTS QBO 3).
    payments_outlive_invoices=True,
    void_invoices=True,
    delete_invoices=True,
    draft_export=False,
    incremental_import=True,
    multiple_tenants_per_consent=False,
    pkce=False,
    invoice_number_max_length=21,
    payment_reference_max_length=21,  # PaymentRefNum (FACTS.md)
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


# --------------------------------------------------------------------------- connecting


@hookimpl
def authorization_server(settings: ProviderSettings, environment: str) -> AuthorizationServer:
    return client.authorization_server(settings, environment)


@hookimpl
async def connected_tenants(
    settings: ProviderSettings, environment: str, tokens: TokenSet, params: dict[str, str]
) -> list[Tenant]:
    realm = params.get("realmId", "")
    if not realm:
        raise ProviderError("QuickBooks did not say which company was connected (no realmId in its answer).",
                            code="validation_failed", fix="Connect again and choose a company.")
    info = await client.company_name(settings, environment, tokens.access_token, realm)
    country = str(info.get("Country", ""))
    # Outside the US, QuickBooks companies charge VAT/GST per line: every line needs its tax code.
    extra: dict[str, Any] = {"realm_id": realm, "country": country,
                             "tax_code_per_line": country.upper() not in ("", "US", "USA")}
    if settings.base_url:
        extra["app_url"] = settings.base_url
    currency = await client.home_currency(settings, environment, tokens.access_token, realm)
    return [Tenant(id=realm, name=str(info.get("CompanyName") or f"QuickBooks company {realm}"), extra=extra,
                   currency=currency)]


# --------------------------------------------------------------------------- importing


@hookimpl
async def import_customers(session: ProviderSession, cursor: str | None) -> Page[RemoteCustomer]:
    return await workflows.read_page(QboClient(session), "Customer", "Active IN (true, false)", cursor,
                                     mapping.remote_customer)


@hookimpl
async def import_items(session: ProviderSession, cursor: str | None) -> Page[RemoteItem]:
    return await workflows.read_page(QboClient(session), "Item", "Active IN (true, false)", cursor,
                                     mapping.remote_item)


@hookimpl
async def import_accounts(session: ProviderSession, cursor: str | None) -> Page[RemoteAccount]:
    return await workflows.read_page(
        QboClient(session), "Account", "AccountType IN ('Income', 'Other Income') AND Active IN (true, false)",
        cursor, mapping.remote_account, keep=mapping.is_income_account,
    )


@hookimpl
async def import_tax_rates(session: ProviderSession, cursor: str | None) -> Page[RemoteTaxRate]:
    return await workflows.import_tax_rates(QboClient(session), cursor)


# --------------------------------------------------------------------------- exporting


@hookimpl
async def export_customer(
    session: ProviderSession, customer: CustomerData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_customer(QboClient(session), customer, link, idempotency_key)


@hookimpl
async def export_item(session: ProviderSession, item: ItemData, link: LinkRef | None, idempotency_key: str
                      ) -> ExportResult:
    return await workflows.export_item(QboClient(session), item, link, idempotency_key)


@hookimpl
async def export_invoice(
    session: ProviderSession, invoice: InvoiceData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_invoice(QboClient(session), invoice, link, idempotency_key)


@hookimpl
async def export_invoices_batch(
    session: ProviderSession, invoices: list[tuple[InvoiceData, LinkRef | None, str]]
) -> list[BatchOutcome]:
    """One `/batch` call of up to 30 invoices, retry-safe through one derived `requestid`.

    The batch's requestid is a hash of its invoices' idempotency keys in order (see
    `workflows.batch_requestid`), so resending the same invoices replays QBO's first answer; each
    item's `bId` is its position. Per-invoice faults come back as that invoice's error; a failure
    of the request itself (timeout, 401, 429) is raised for the whole batch.
    """
    return await workflows.export_invoices_batch(QboClient(session), invoices)


@hookimpl
async def export_payment(
    session: ProviderSession, payment: PaymentData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_payment(QboClient(session), payment, link, idempotency_key)


@hookimpl
async def void_payment(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_payment(QboClient(session), link, idempotency_key)


@hookimpl
async def export_time_entry(
    session: ProviderSession, entry: TimeEntryData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_time_entry(QboClient(session), entry, link, idempotency_key)


@hookimpl
async def void_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_invoice(QboClient(session), link, idempotency_key)


@hookimpl
async def delete_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.delete_invoice(QboClient(session), link, idempotency_key)


@hookimpl
async def find_invoice(session: ProviderSession, number: str) -> RemoteInvoice | None:
    return await workflows.find_invoice(QboClient(session), number)


# --------------------------------------------------------------------------- reading back


@hookimpl
async def poll_invoices(
    session: ProviderSession, cursor: str | None, remote_ids: list[str] | None
) -> Page[RemoteInvoice]:
    return await workflows.poll_invoices(QboClient(session), cursor, remote_ids)


@hookimpl
def record_url(provider_data: dict[str, Any], environment: str, record_type: str, remote_id: str) -> str | None:
    return workflows.record_url(provider_data, environment, record_type, remote_id)


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
    from ledgerbridge_quickbooks.sandbox import SandboxConfig, create_app
    from ledgerbridge_quickbooks.sandbox.config import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_WEBHOOK_VERIFIER_TOKEN,
    )

    config = SandboxConfig(public_base_url=public_url, webhook_url=webhook_url,
                           webhook_verifier_token=DEMO_WEBHOOK_VERIFIER_TOKEN, webhook_auto_deliver_interval=5.0)
    return DemoSandbox(app=create_app(config), client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                       webhook_secret=DEMO_WEBHOOK_VERIFIER_TOKEN,
                       description="A local QuickBooks Online look-alike with two demo companies.",
                       openid_configuration_url=f"{public_url}/.well-known/openid_configuration")
