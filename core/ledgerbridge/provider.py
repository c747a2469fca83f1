"""The vocabulary a provider plugin speaks with the core: what its hooks receive and return.

Plugins never see our database rows. They get plain, provider-neutral values (`CustomerData`,
`InvoiceData`...) with every reference already resolved to the provider's ids, and they answer with
`Remote*` values. This keeps provider knowledge in the plugin and database knowledge in the core,
and lets a third-party plugin be written and tested without LedgerBridge's tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

import httpx

from ledgerbridge.settings import ProviderSettings

T = TypeVar("T")

METERED_COST = "ledgerbridge_cost"
"""httpx request extension a plugin sets (`extensions={METERED_COST: n}`) when the provider meters one
request as `n` calls, as QuickBooks does batch items, so the shared rate limiter charges all of them."""


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do, so the core and the UI adapt without naming providers."""

    batch_size: int = 1  # records per batch write; 1 means no batch endpoint
    batch_items_metered: bool = False  # each batch item counts against the rate limit like a call
    native_idempotency: bool = False  # a repeated idempotency key replays instead of re-executing
    webhooks: bool = False
    income_accounts: bool = True  # items map to income accounts (the mapping page is shown)
    tax_rates: bool = True
    time_activities: bool = False  # time entries export as the provider's time records
    payments: bool = True
    void_payments: bool = False  # a payment voided here is voided (or deleted) there by `void_payment`
    overpayment_credit: bool = False  # a payment above the invoice's balance keeps the excess as the customer's credit
    # A payment on an invoice voided or deleted there stays in the books as the customer's unapplied credit
    # (QuickBooks), rather than going with it or having to be removed first (Xero refuses to void a paid invoice).
    payments_outlive_invoices: bool = False
    void_invoices: bool = True
    delete_invoices: bool = True
    draft_export: bool = False  # invoices can be exported as draft or approved
    incremental_import: bool = True  # imports accept a cursor and return only changes
    multiple_tenants_per_consent: bool = False  # one consent can cover several companies
    pkce: bool = False  # consent uses PKCE; a declared `AuthorizationServer.pkce` decides for the core's flow
    invoice_number_max_length: int | None = None
    payment_reference_max_length: int | None = None  # longer references are shortened as numbers are, with a warning
    requests_per_minute: int | None = None  # per tenant
    concurrent_requests: int | None = None  # per tenant
    requests_per_day: int | None = None  # per tenant
    app_requests_per_minute: int | None = None  # per app, across every tenant (Xero's 10,000)
    environments: tuple[str, ...] = ("production",)  # e.g. ("production", "sandbox") where the provider has both


@dataclass(frozen=True)
class ProviderInfo:
    """A provider plugin's identity card; `key` names it everywhere (settings, URLs, rows)."""

    key: str
    name: str
    capabilities: Capabilities
    version: str = "0"
    description: str = ""
    homepage: str = ""
    tenant_noun: str = "company"  # what the provider calls a tenant: organisation, business...


@dataclass(frozen=True)
class DemoSandbox:
    """A local stand-in for the provider that `serve` runs when no real credentials are configured.

    `app` is an ASGI application already configured to accept `client_id`/`client_secret`, to
    redirect to any local callback, and to sign webhooks with `webhook_secret`. A sandbox that also
    plays the provider's OpenID Connect issuer ("Sign in with Intuit") gives its discovery document's
    URL in `openid_configuration_url`, so `serve` can offer signing in with it too.
    """

    app: Any
    client_id: str
    client_secret: str
    webhook_secret: str = ""
    description: str = ""
    openid_configuration_url: str = ""


@dataclass(frozen=True)
class AuthorizationServer:
    """A provider's OAuth2 authorization server, declared so the core runs the whole flow itself.

    A plugin returns one from the `authorization_server` hook; the core then builds the consent URL
    (with an S256 challenge when `pkce`), exchanges the code, refreshes and revokes, and reads the token
    answer into a `TokenSet` using the lifetimes and key names below. Only what differs between real
    providers is a field here; a provider that needs more overrides the matching hook instead.
    """

    authorize_url: str
    token_url: str
    revoke_url: str | None = None  # None: the provider has no revocation endpoint
    scopes: tuple[str, ...] = ()
    client_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    pkce: bool = False
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    token_request_headers: Mapping[str, str] = field(default_factory=dict)  # sent with every token request
    revoke_body: Literal["form", "json"] = "form"  # RFC 7009 form, or `{"token": ...}` as JSON (Intuit)
    revoke_token_hint: str | None = None  # sent as `token_type_hint` when set
    access_token_lifetime: timedelta = timedelta(hours=1)  # when the answer has no `expires_in`
    refresh_token_lifetime: timedelta | None = None  # from issue; None: it does not expire by age
    refresh_expires_in_key: str | None = None  # answer key with the refresh token's lifetime in seconds
    refresh_hard_expires_in_key: str | None = None  # answer key with the seconds left before reconnecting
    extra_keys: tuple[str, ...] = ("id_token",)  # answer keys kept in `TokenSet.extra`
    access_token_claims: Mapping[str, str] = field(default_factory=dict)  # JWT claim -> `TokenSet.extra` key
    expired_grant_marker: str = ""  # text in a refused refresh's description meaning "expired", not "revoked"


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None = None
    refresh_hard_expires_at: datetime | None = None  # reconnect before this, whatever happens
    scope: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # id_token, auth event id...


@dataclass(frozen=True)
class Tenant:
    """A company/organisation/business the user authorised."""

    id: str
    name: str
    extra: dict[str, Any] = field(default_factory=dict)
    currency: str = ""  # its home currency (ISO 4217), when the provider says


@dataclass(frozen=True)
class ConnectionOptions:
    """The user's per-connection choices that change what a plugin sends."""

    export_as_draft: bool = False
    number_policy: Literal["ours", "provider"] = "ours"
    default_income_account_id: str | None = None  # the provider's id


@dataclass
class ProviderSession:
    """An authenticated conversation with one tenant.

    `http` is an httpx client that the core set up: it carries the bearer token, waits for the
    deployment-wide rate limiter before each request and counts the calls. Plugins add the
    provider's base URL and headers, nothing else.
    """

    provider: str
    connection_id: int
    tenant_id: str
    environment: str
    access_token: str
    settings: ProviderSettings
    http: httpx.AsyncClient
    options: ConnectionOptions = field(default_factory=ConnectionOptions)
    provider_data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- records sent


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class CustomerData:
    local_id: int
    name: str
    company: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    phone: str = ""
    address: Address = field(default_factory=Address)
    tax_number: str = ""
    currency: str = "USD"
    notes: str = ""
    kind: str = "business"
    active: bool = True


@dataclass(frozen=True)
class ItemData:
    local_id: int
    name: str
    description: str = ""
    kind: str = "service"
    unit_price: Decimal = Decimal("0")
    income_account_id: str | None = None  # the provider's account id
    taxable: bool = False
    tax_rate_id: str | None = None  # the provider's tax rate/code id
    active: bool = True


@dataclass(frozen=True)
class InvoiceLineData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    line_total: Decimal
    item_id: str | None = None  # the provider's item id
    item_name: str = ""
    income_account_id: str | None = None
    tax_rate_id: str | None = None
    tax_rate_name: str = ""
    tax_amount: Decimal = Decimal("0")


@dataclass(frozen=True)
class InvoiceData:
    local_id: int
    number: str  # already shortened to the provider's limit when the policy sends ours
    customer_id: str  # the provider's customer id
    issue_date: date
    due_date: date | None
    currency: str
    lines: tuple[InvoiceLineData, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    memo: str = ""
    customer_email: str = ""
    send_number: bool = True  # False: let the provider number it


#: The metadata of a field added to a record type after records of that type were already sent and
#: fingerprinted: while it holds its default, the fingerprint leaves it out, so the stored fingerprint
#: of an unchanged record still matches and its next re-export sends nothing (`sync.links.fingerprint`).
ADDED_LATER: Mapping[str, Any] = {"fingerprint": "omitted at its default"}


@dataclass(frozen=True)
class PaymentData:
    local_id: int
    invoice_id: str  # the provider's invoice id
    customer_id: str
    paid_on: date
    amount: Decimal
    currency: str = "USD"
    method: str = ""
    reference: str = ""
    # Set when less than `amount` (an overpayment, only sent where `Capabilities.overpayment_credit`): what
    # applies to the invoice; the provider keeps the rest as the customer's credit. Added after payments
    # were exported without it: left out of their fingerprint while unset (`ADDED_LATER`).
    applied_amount: Decimal | None = field(default=None, metadata=ADDED_LATER)


@dataclass(frozen=True)
class TimeEntryData:
    local_id: int
    customer_id: str
    item_id: str | None
    person: str
    person_email: str
    worked_on: date
    hours: Decimal
    rate: Decimal
    description: str = ""
    billable: bool = True
    billed: bool = False  # already billed by an invoice here: the provider must not offer it for billing again


@dataclass(frozen=True)
class LinkRef:
    """What we know of a record's counterpart: enough to update it rather than create another."""

    remote_id: str
    remote_version: str = ""
    remote_number: str = ""


# --------------------------------------------------------------------------- records read


@dataclass(frozen=True)
class RemoteRecord:
    remote_id: str
    version: str = ""
    updated_at: datetime | None = None
    deleted: bool = False  # deleted in the provider: archive ours, never drop it silently


@dataclass(frozen=True)
class RemoteCustomer(RemoteRecord):
    name: str = ""
    company: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    phone: str = ""
    address: Address = field(default_factory=Address)
    tax_number: str = ""
    currency: str = ""
    notes: str = ""
    active: bool = True


@dataclass(frozen=True)
class RemoteItem(RemoteRecord):
    name: str = ""
    description: str = ""
    kind: str = "service"
    unit_price: Decimal = Decimal("0")
    income_account_id: str | None = None
    taxable: bool = False
    tax_rate_id: str | None = None
    active: bool = True


@dataclass(frozen=True)
class RemoteAccount(RemoteRecord):
    name: str = ""
    code: str = ""
    account_type: str = ""
    active: bool = True


@dataclass(frozen=True)
class RemoteTaxRate(RemoteRecord):
    name: str = ""
    code: str = ""
    rate: Decimal = Decimal("0")
    active: bool = True


@dataclass(frozen=True)
class RemotePayment(RemoteRecord):
    paid_on: date | None = None
    amount: Decimal = Decimal("0")
    method: str = ""
    reference: str = ""


InvoiceState = Literal["draft", "open", "partially_paid", "paid", "void", "deleted"]
WebhookOperation = Literal["create", "update", "delete", "void", "merge", "verify"]


@dataclass(frozen=True)
class RemoteInvoice(RemoteRecord):
    number: str = ""
    status: InvoiceState = "open"
    raw_status: str = ""  # the provider's own words, shown beside ours
    issue_date: date | None = None
    due_date: date | None = None
    currency: str = ""
    total: Decimal = Decimal("0")
    balance: Decimal = Decimal("0")
    payments: tuple[RemotePayment, ...] = ()
    deep_link: str = ""
    share_link: str = ""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of an import or poll. `next_cursor` None means the read is complete; `cursor` is
    what to pass next time to read only what changed since.

    `after_next` (optional): the `next_cursor` the page at `next_cursor` will give if it is not the
    last, where the provider's cursors count (a position, a page number) and so are known before
    that page is read. An import then asks for both pages at once, and the provider answers the one
    after while our side decodes and maps this one; it checks the guess against the page that
    comes and throws the early answer away when they differ. Leave it None when the next page's
    cursor depends on what it holds, and when the next page is known to be the last."""

    records: list[T]
    next_cursor: str | None = None
    cursor: str | None = None
    after_next: str | None = None


@dataclass(frozen=True)
class ExportResult:
    """What the provider now holds for the record we sent."""

    remote_id: str
    version: str = ""
    number: str = ""
    created: bool = True
    record: RemoteRecord | None = None
    warnings: tuple[str, ...] = ()
    # A void or delete that found the record already voided or deleted there, and so changed nothing:
    # someone (the bookkeeper, or an earlier attempt of ours) took it away first, which the core tells apart.
    already_removed: bool = False


@dataclass(frozen=True)
class BatchOutcome:
    """One record's result inside a batch write: a result or the error that refused it."""

    local_id: int
    result: ExportResult | None = None
    error: Exception | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """Something changed in the provider; the core fetches the record rather than trusting the body."""

    tenant_id: str
    record_type: str  # customer, item, invoice, payment, account, tax_rate, time_entry
    remote_id: str
    operation: WebhookOperation
    occurred_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
