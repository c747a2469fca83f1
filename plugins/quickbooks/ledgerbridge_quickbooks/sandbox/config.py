"""Configuration of the QuickBooks Online sandbox.

Defaults are QBO's documented production values (FACTS.md "QBO 1" to "QBO 9"); tests shorten lifetimes
and compress time through the same fields, so there is one code path for demo and test use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

DEMO_CLIENT_ID = "ledgerbridge-demo-client"
DEMO_CLIENT_SECRET = "ledgerbridge-demo-secret"
DEMO_WEBHOOK_VERIFIER_TOKEN = "ledgerbridge-demo-verifier-token"
DEMO_REDIRECT_URIS = (
    "http://localhost:8000/oauth/quickbooks/callback",
    "http://127.0.0.1:8000/oauth/quickbooks/callback",
)

#: The scope every accounting call needs (FACTS QBO 1 "Scopes").
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
PAYMENT_SCOPE = "com.intuit.quickbooks.payment"
OPENID_SCOPES = ("openid", "profile", "email", "phone", "address")


@dataclass(frozen=True)
class OAuthClientConfig:
    """A registered Intuit app: credentials and allowed redirect URIs."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()
    allow_loopback_redirects: bool = False


@dataclass(frozen=True)
class CompanyPreset:
    """A demo company (realm) and the seed data it starts with.

    ``warn_duplicate_doc_number`` models QBO's "warn if duplicate invoice number" setting. Its default is
    UNCONFIRMED, so the sandbox defaults to the stricter reading: on (error 6140).
    """

    realm_id: str
    company_name: str
    custom_txn_numbers: bool = False
    warn_duplicate_doc_number: bool = True
    country: str = "US"
    timezone: str = "America/Los_Angeles"
    sales_tax_name: str = "California"
    sales_tax_agency: str = "California Department of Tax and Fee Administration"
    sales_tax_percent: Decimal = Decimal("8.25")
    first_invoice_number: int = 1001
    customers: tuple[str, ...] = ("Amy's Bird Sanctuary", "Bill's Windsurf Shop", "Cool Cars")
    service_items: tuple[tuple[str, Decimal], ...] = (
        ("Services", Decimal("0")),
        ("Hours", Decimal("0")),
        ("Design", Decimal("75")),
        ("Installation", Decimal("50")),
    )
    employees: tuple[tuple[str, str], ...] = (("Emily", "Platt"), ("John", "Johnson"))
    time_tracking: bool = True  # False: a plan without time tracking (no TimeTrackingPrefs, TimeActivity refused)


DEFAULT_COMPANIES: tuple[CompanyPreset, ...] = (
    CompanyPreset(realm_id="9341453170013431", company_name="Sandbox Company US 1"),
    CompanyPreset(
        realm_id="9341453170013432",
        company_name="Sandbox Company US 2 (custom numbers)",
        custom_txn_numbers=True,
        warn_duplicate_doc_number=False,
        customers=("Diego Rodriguez", "Dukes Basketball Camp", "Geeta Kalapatapu"),
        service_items=(("Services", Decimal("0")), ("Consulting", Decimal("120")), ("Training", Decimal("95"))),
        employees=(("Kari", "Steblay"),),
    ),
)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that can be tuned on a QBO sandbox instance.

    Times are in *simulated* seconds (see ``time_scale``). ``requests_per_second`` is off by default:
    Intuit's own sandbox environment adds 10 req/s per realm (FACTS QBO 6), production does not, and
    this sandbox emulates production unless told otherwise. ``send_retry_after`` is off because whether
    QBO sends ``Retry-After`` on 429 is UNCONFIRMED and clients must cope without it.
    """

    clients: tuple[OAuthClientConfig, ...] = (
        OAuthClientConfig(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URIS, allow_loopback_redirects=True),
    )
    companies: tuple[CompanyPreset, ...] = DEFAULT_COMPANIES
    # OAuth lifetimes (FACTS QBO 1)
    access_token_ttl: float = 3600.0
    refresh_token_ttl: float = 100 * 86400.0
    refresh_token_hard_ttl: float = 5 * 365 * 86400.0
    refresh_rotation_interval: float = 0.0
    refresh_grace_period: float = 0.0
    auth_code_ttl: float = 300.0
    # Rate limits (FACTS QBO 6)
    requests_per_minute: int = 500
    concurrent_requests: int = 10
    batch_requests_per_minute: int = 120
    requests_per_second: int | None = None
    meter_batch_items: bool = True
    send_retry_after: bool = False
    # API rules (FACTS QBO 4, 5)
    max_batch_items: int = 30
    cdc_max_lookback_days: int = 30
    cdc_max_objects: int = 1000
    requestid_max_length: int = 50
    batch_requestid_max_length: int = 36
    batch_bid_max_length_with_requestid: int = 10
    # Time
    time_scale: float = 1.0
    start_time: datetime | None = None
    # Webhooks (FACTS QBO 8)
    webhook_url: str | None = None
    webhook_verifier_token: str | None = None
    webhook_format: Literal["legacy", "cloudevents"] = "legacy"
    webhook_max_events_per_post: int = 100
    webhook_auto_deliver_interval: float | None = None
    webhook_timeout: float = 3.0
    # Misc
    public_base_url: str | None = None
    enable_control_api: bool = True
    extra_scopes: tuple[str, ...] = field(default=())
