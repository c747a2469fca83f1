"""Configuration of the Xero sandbox.

Defaults are Xero's documented production values (FACTS.md "Xero 1" to "Xero 9"); tests shorten
lifetimes, lower limits and compress time through the same fields, so demo and tests share one path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

DEMO_CLIENT_ID = "ledgerbridge-demo-client"
DEMO_CLIENT_SECRET = "ledgerbridge-demo-secret"
DEMO_REDIRECT_URIS = (
    "http://localhost:8000/oauth/callback",
    "http://127.0.0.1:8000/oauth/callback",
)

#: Scopes Xero offers (FACTS Xero 1 "Scopes"), broad and granular.
KNOWN_SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.transactions",
        "accounting.transactions.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.reports.read",
        "accounting.journals.read",
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.payments",
        "accounting.payments.read",
    }
)


@dataclass(frozen=True)
class OAuthClientConfig:
    """A registered Xero app: credentials, redirect URIs and webhook signing key."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()
    allow_loopback_redirects: bool = False
    app_name: str = "LedgerBridge"


@dataclass(frozen=True)
class OrganisationPreset:
    """A demo organisation (tenant) and its seed data."""

    tenant_id: str
    name: str
    short_code: str
    country: str = "NZ"
    base_currency: str = "NZD"
    version: str = "NZ"
    timezone: str = "NEWZEALANDSTANDARDTIME"
    gst_percent: Decimal = Decimal("15")
    first_invoice_number: int = 1
    tax_number: str = "101-2-303"
    street: str = "23 Main Street"
    city: str = "Wellington"
    postal_code: str = "6011"
    country_name: str = "New Zealand"
    phone: str = "04 123 4567"
    customers: tuple[str, ...] = ("Bayside Club", "City Agency", "Ridgeway University")
    items: tuple[tuple[str, str, Decimal], ...] = (
        ("DEV", "Development work", Decimal("120.00")),
        ("DESIGN", "Design", Decimal("95.00")),
        ("SUPPORT", "Support plan", Decimal("49.00")),
    )


DEFAULT_ORGANISATIONS: tuple[OrganisationPreset, ...] = (
    OrganisationPreset(
        tenant_id="7c3e5b0d-5e4e-4b8a-9a77-2b7f0f6b1a01",
        name="Demo Company (NZ)",
        short_code="!mBdtL",
    ),
    OrganisationPreset(
        tenant_id="3f2a9c14-8d1b-4f0e-b6c5-91d2e4a7c302",
        name="Demo Company (UK)",
        short_code="!kZ7Qp",
        country="GB",
        base_currency="GBP",
        version="UK",
        timezone="GMTSTANDARDTIME",
        gst_percent=Decimal("20"),
        first_invoice_number=100,
        tax_number="GB 123 4567 89",
        street="1 Oxford Street",
        city="London",
        postal_code="W1D 1AN",
        country_name="United Kingdom",
        phone="020 7946 0000",
        customers=("Hamilton Smith Ltd", "Marine Systems", "Young Bros Transport"),
        items=(("CONSULT", "Consulting", Decimal("150.00")), ("TRAIN", "Training day", Decimal("600.00"))),
    ),
)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that can be tuned on a Xero sandbox instance (times in simulated seconds)."""

    clients: tuple[OAuthClientConfig, ...] = (
        OAuthClientConfig(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URIS, allow_loopback_redirects=True),
    )
    organisations: tuple[OrganisationPreset, ...] = DEFAULT_ORGANISATIONS
    # OAuth (FACTS Xero 1)
    access_token_ttl: float = 1800.0
    refresh_token_ttl: float = 60 * 86400.0
    refresh_grace_period: float = 1800.0
    auth_code_ttl: float = 300.0
    # Rate limits (FACTS Xero 6)
    requests_per_minute: int = 60
    requests_per_day: int = 5000
    concurrent_requests: int = 5
    app_requests_per_minute: int = 10000
    # API rules (FACTS Xero 4, 5)
    page_size: int = 100
    max_page_size: int = 1000
    idempotency_key_max_length: int = 128
    idempotency_retention: float = 86400.0
    # Time
    time_scale: float = 1.0
    start_time: datetime | None = None
    # Webhooks (FACTS Xero 8)
    webhook_url: str | None = None
    webhook_key: str | None = None
    webhook_require_intent_to_receive: bool = True
    webhook_on_payment: bool = True
    webhook_auto_deliver_interval: float | None = None
    webhook_timeout: float = 5.0
    # Misc
    public_base_url: str | None = None
    enable_control_api: bool = True
    extra_scopes: tuple[str, ...] = field(default=())
