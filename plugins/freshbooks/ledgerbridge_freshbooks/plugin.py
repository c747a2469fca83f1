"""The FreshBooks plugin's hooks: thin wrappers over `workflows`, `client` and `webhooks`.

FreshBooks documents no batch endpoint, no idempotency key and no numeric rate limit, and classic
invoices do not map lines to income accounts (../shared/providers/FACTS.md, FreshBooks 3 to 6); the
capabilities say so, and exactly-once export relies on explicit invoice numbers and `find_invoice`.
There is no void in FreshBooks' API: `void_invoice` writes the invoice off to zero, as a bookkeeper
would. Time entries go to FreshBooks' separate time-tracking service (`time_tracking`).
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import ProviderError
from ledgerbridge.plugins import hookimpl
from ledgerbridge.provider import (
    AuthorizationServer,
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

from ledgerbridge_freshbooks import __version__, client, mapping, time_tracking, webhooks, workflows
from ledgerbridge_freshbooks.client import FbClient

CAPABILITIES = Capabilities(
    batch_size=1,
    native_idempotency=False,
    webhooks=True,
    income_accounts=False,
    tax_rates=True,
    time_activities=True,  # time entries, through the time-tracking service
    payments=True,
    void_payments=True,  # deleted (`vis_state` 1): FreshBooks has no void for payments (FACTS FreshBooks 3)
    # overpayment_credit stays False: FreshBooks refuses a payment above the amount outstanding, and its
    # credits are their own records, so the excess is refused here before anything is sent.
    void_invoices=True,
    delete_invoices=True,
    draft_export=True,
    incremental_import=True,
    multiple_tenants_per_consent=True,
    pkce=False,
    # FreshBooks publishes no figures (FACTS FreshBooks 6) but does answer 429: pace to the conservative
    # ones its sandbox enforces; `LEDGERBRIDGE_FRESHBOOKS_RATE_LIMITS` sets others.
    requests_per_minute=120,
    concurrent_requests=10,
)


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(
        tenant_noun="business",
        key="freshbooks", name="FreshBooks", version=__version__, capabilities=CAPABILITIES,
        description="FreshBooks (classic accounting API).", homepage="https://www.freshbooks.com/",
    )


# --------------------------------------------------------------------------- connecting


@hookimpl
def authorization_server(settings: ProviderSettings, environment: str) -> AuthorizationServer:
    return client.authorization_server(settings)


@hookimpl
async def connected_tenants(
    settings: ProviderSettings, environment: str, tokens: TokenSet, params: dict[str, str]
) -> list[Tenant]:
    """One tenant per business the user belongs to; its account_id scopes every accounting call."""
    me = await client.identity(settings, tokens.access_token)
    tenants = []
    for membership in me.get("business_memberships") or []:
        business = membership.get("business") or {}
        account_id = str(business.get("account_id") or "")
        if not account_id:
            continue  # a business without the accounting product
        extra: dict[str, Any] = {"account_id": account_id, "business_id": business.get("id"),
                                 "business_uuid": business.get("business_uuid"), "identity_id": me.get("id"),
                                 "role": membership.get("role")}
        if settings.base_url:
            extra["app_url"] = settings.base_url
        tenants.append(Tenant(id=account_id, name=str(business.get("name") or f"FreshBooks {account_id}"),
                              extra=extra))
    if not tenants:
        raise ProviderError("This FreshBooks user belongs to no business LedgerBridge can use.",
                            code="validation_failed", fix="Sign in with the FreshBooks user who owns the business.")
    return tenants


# --------------------------------------------------------------------------- importing


@hookimpl
async def import_customers(session: ProviderSession, cursor: str | None) -> Page[RemoteCustomer]:
    return await workflows.read_page(FbClient(session), workflows.CLIENTS, cursor, mapping.remote_customer)


@hookimpl
async def import_items(session: ProviderSession, cursor: str | None) -> Page[RemoteItem]:
    return await workflows.read_page(FbClient(session), workflows.ITEMS, cursor, mapping.remote_item)


@hookimpl
async def import_tax_rates(session: ProviderSession, cursor: str | None) -> Page[RemoteTaxRate]:
    return await workflows.import_tax_rates(FbClient(session), cursor)


# --------------------------------------------------------------------------- exporting


@hookimpl
async def export_customer(
    session: ProviderSession, customer: CustomerData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_customer(FbClient(session), customer, link)


@hookimpl
async def export_item(session: ProviderSession, item: ItemData, link: LinkRef | None, idempotency_key: str
                      ) -> ExportResult:
    return await workflows.export_item(FbClient(session), item, link)


@hookimpl
async def export_time_entry(
    session: ProviderSession, entry: TimeEntryData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await time_tracking.export_time_entry(session, entry, link)


@hookimpl
async def export_invoice(
    session: ProviderSession, invoice: InvoiceData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_invoice(FbClient(session), invoice, link, as_draft=session.options.export_as_draft)


@hookimpl
async def export_payment(
    session: ProviderSession, payment: PaymentData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    return await workflows.export_payment(FbClient(session), payment, link)


@hookimpl
async def void_payment(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_payment(FbClient(session), link)


@hookimpl
async def void_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.void_invoice(FbClient(session), link)


@hookimpl
async def delete_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    return await workflows.delete_invoice(FbClient(session), link)


@hookimpl
async def find_invoice(session: ProviderSession, number: str) -> RemoteInvoice | None:
    return await workflows.find_invoice(FbClient(session), number)


# --------------------------------------------------------------------------- reading back


@hookimpl
async def poll_invoices(
    session: ProviderSession, cursor: str | None, remote_ids: list[str] | None
) -> Page[RemoteInvoice]:
    return await workflows.poll_invoices(FbClient(session), cursor, remote_ids)


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
        # FreshBooks publishes no request limit (FACTS FreshBooks 6); the sandbox's 120 a minute is a guess for
        # tests that study throttling. Without a batch endpoint an invoice costs two to four calls, so the demo
        # allows a bulk export of hundreds to finish in minutes rather than throttling a newcomer's first try.
        requests_per_minute=1200,
    )
    return DemoSandbox(
        app=create_app(config), client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
        webhook_secret=DEMO_WEBHOOK_SECRET,
        description="Local FreshBooks sandbox: two demo businesses; sign in as Dana or Sam.",
    )
