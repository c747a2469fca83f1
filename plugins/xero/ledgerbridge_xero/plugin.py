"""The Xero plugin's hooks: thin wrappers over `workflows`, `client` and `webhooks`.

Capabilities follow Xero's published limits (../shared/providers/FACTS.md, Xero 5 and 6): about 50
invoices per request, `Idempotency-Key` on every write, 60 calls a minute, 5 at once and 5,000 a day
per organisation, PKCE, several organisations per consent, and invoices exported as DRAFT or
AUTHORISED. The sandbox (``ledgerbridge_xero.sandbox``) is offered to ``serve`` as the demo backend.

OAuth is the core's: the plugin declares Xero's authorization server and overrides one step only,
`revoke_token`, because Xero's revocation ends every organisation the user connected, not just this one.
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
    TokenSet,
    WebhookEvent,
)
from ledgerbridge.settings import ProviderSettings

from ledgerbridge_xero import __version__, client, webhooks, workflows
from ledgerbridge_xero.client import XeroClient

CAPABILITIES = Capabilities(
    batch_size=workflows.BATCH_MAX,
    native_idempotency=True,
    webhooks=True,
    income_accounts=True,
    tax_rates=True,
    time_activities=False,
    payments=True,
    void_payments=True,  # deleted, Xero's only way to take a payment back (FACTS Xero 3)
    # overpayment_credit stays False: Xero refuses a payment above the amount due; an overpayment is its own
    # object (Overpayments), which LedgerBridge does not create, so the excess is refused here first.
    void_invoices=True,
    delete_invoices=True,
    draft_export=True,
    incremental_import=True,
    multiple_tenants_per_consent=True,
    pkce=True,
    invoice_number_max_length=255,
    payment_reference_max_length=255,
    requests_per_minute=60,
    concurrent_requests=5,
    requests_per_day=5000,
    app_requests_per_minute=10000,  # across every organisation the app is connected to (FACTS Xero 6)
)


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(
        tenant_noun="organisation",
        key="xero",
        name="Xero",
        version=__version__,
        capabilities=CAPABILITIES,
        description="Xero accounting (Accounting API 2.0).",
        homepage="https://www.xero.com/",
    )


# --------------------------------------------------------------------------- connecting


@hookimpl
def authorization_server(settings: ProviderSettings, environment: str) -> AuthorizationServer:
    return client.authorization_server(settings)


@hookimpl
async def connected_tenants(
    settings: ProviderSettings, environment: str, tokens: TokenSet, params: dict[str, str]
) -> list[Tenant]:
    """The organisations of this consent only (`authEventId`), each with its short code and base currency
    (deep links and currency checks need them)."""
    rows = await client.connections(settings, tokens.access_token, tokens.extra.get("auth_event_id"))
    tenants = []
    for row in rows:
        if str(row.get("tenantType") or "ORGANISATION") != "ORGANISATION" or not row.get("tenantId"):
            continue
        tenant_id = str(row["tenantId"])
        org = await client.organisation(settings, tokens.access_token, tenant_id)
        extra: dict[str, Any] = {"connection_id": row.get("id"), "short_code": org.get("ShortCode") or "",
                                 "base_currency": org.get("BaseCurrency") or "", "country": org.get("CountryCode")}
        if settings.base_url:
            extra["app_url"] = settings.base_url.rstrip("/")
        tenants.append(Tenant(id=tenant_id, name=str(row.get("tenantName") or org.get("Name") or tenant_id),
                              extra=extra, currency=str(org.get("BaseCurrency") or "")))
    if not tenants:
        raise ProviderError("The Xero consent covered no organisation.", code="not_connected",
                            fix="Connect again and tick at least one organisation.")
    return tenants


@hookimpl
async def revoke_token(session: ProviderSession, refresh_token: str) -> bool:
    """Overrides the core's revocation: Xero's revokes every organisation of the user, so disconnect this
    organisation only, and revoke the token (through the core) when no other organisation remains."""
    return await client.disconnect(session, refresh_token)


# --------------------------------------------------------------------------- importing


@hookimpl
async def import_customers(session: ProviderSession, cursor: str | None) -> Page[RemoteCustomer]:
    return await workflows.import_customers(XeroClient(session), cursor)


@hookimpl
async def import_items(session: ProviderSession, cursor: str | None) -> Page[RemoteItem]:
    return await workflows.import_items(XeroClient(session), cursor)


@hookimpl
async def import_accounts(session: ProviderSession, cursor: str | None) -> Page[RemoteAccount]:
    return await workflows.import_accounts(XeroClient(session), cursor)


@hookimpl
async def import_tax_rates(session: ProviderSession, cursor: str | None) -> Page[RemoteTaxRate]:
    return await workflows.import_tax_rates(XeroClient(session), cursor)


# --------------------------------------------------------------------------- exporting


@hookimpl
async def export_customer(
    session: ProviderSession, customer: CustomerData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_customer(XeroClient(session), customer, link, idempotency_key)


@hookimpl
async def export_item(
    session: ProviderSession, item: ItemData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_item(XeroClient(session), item, link, idempotency_key)


@hookimpl
async def export_invoice(
    session: ProviderSession, invoice: InvoiceData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_invoice(XeroClient(session), invoice, link, idempotency_key,
                                          as_draft=session.options.export_as_draft)


@hookimpl
async def export_invoices_batch(
    session: ProviderSession, invoices: list[tuple[InvoiceData, LinkRef | None, str]]
) -> list[BatchOutcome]:
    return await workflows.export_invoices_batch(XeroClient(session), invoices,
                                                 as_draft=session.options.export_as_draft)


@hookimpl
async def export_payment(
    session: ProviderSession, payment: PaymentData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_payment(XeroClient(session), payment, link, idempotency_key)


@hookimpl
async def void_payment(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_payment(XeroClient(session), link, idempotency_key)


@hookimpl
async def void_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_invoice(XeroClient(session), link, idempotency_key)


@hookimpl
async def delete_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.delete_invoice(XeroClient(session), link, idempotency_key)


@hookimpl
async def find_invoice(session: ProviderSession, number: str) -> RemoteInvoice | None:
    return await workflows.find_invoice(XeroClient(session), number)


# --------------------------------------------------------------------------- reading back


@hookimpl
async def poll_invoices(
    session: ProviderSession, cursor: str | None, remote_ids: list[str] | None
) -> Page[RemoteInvoice]:
    return await workflows.poll_invoices(XeroClient(session), cursor, remote_ids)


@hookimpl
def record_url(provider_data: dict[str, Any], environment: str, record_type: str, remote_id: str) -> str | None:
    return workflows.record_url(provider_data, client.WEB_URL, record_type, remote_id)


# --------------------------------------------------------------------------- webhooks


@hookimpl
def verify_webhook(settings: ProviderSettings, headers: dict[str, str], body: bytes) -> bool:
    return webhooks.verify(settings.webhook_secret, headers, body)


@hookimpl
def parse_webhook(settings: ProviderSettings, headers: dict[str, str], body: bytes) -> list[WebhookEvent]:
    return webhooks.parse(body)


# --------------------------------------------------------------------------- demo


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
