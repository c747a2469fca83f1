"""Configuration of the FreshBooks sandbox.

Defaults are FreshBooks' documented values (FACTS.md "FreshBooks 1" to "FreshBooks 9"): 12-hour access
tokens, single-use refresh tokens with no grace period, pages capped at 100. Where a number is not
published (rate limits) the default is a conservative guess, and every value is a field so tests can
shorten lifetimes or tighten limits through the same code path the demo uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

DEMO_CLIENT_ID = "ledgerbridge-demo-client"
DEMO_CLIENT_SECRET = "ledgerbridge-demo-secret"
DEMO_REDIRECT_URIS = (
    "http://localhost:8000/oauth/freshbooks/callback",
    "http://127.0.0.1:8000/oauth/freshbooks/callback",
)

#: Scopes FreshBooks offers that LedgerBridge may ask for (FACTS FreshBooks 1 "Scopes").
KNOWN_SCOPES = (
    "user:profile:read",
    "user:clients:read",
    "user:clients:write",
    "user:invoices:read",
    "user:invoices:write",
    "user:payments:read",
    "user:payments:write",
    "user:billable_items:read",
    "user:billable_items:write",
    "user:taxes:read",
    "user:taxes:write",
    "user:business:read",
)
PROFILE_SCOPE = "user:profile:read"


@dataclass(frozen=True)
class OAuthClientConfig:
    """A registered FreshBooks app: credentials and allowed redirect URIs."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...] = ()
    allow_loopback_redirects: bool = False


@dataclass(frozen=True)
class ClientPreset:
    """A seeded FreshBooks client (customer)."""

    organization: str
    fname: str = ""
    lname: str = ""
    email: str = ""


@dataclass(frozen=True)
class BusinessPreset:
    """A demo business with the three ids FreshBooks scopes its APIs by, and its seed data."""

    account_id: str
    business_id: int
    business_uuid: str
    name: str
    currency_code: str = "USD"
    country: str = "United States"
    invoice_prefix: str = "INV-"
    clients: tuple[ClientPreset, ...] = (
        ClientPreset("Amy's Bird Sanctuary", "Amy", "Lauterbach", "amy@birds.example"),
        ClientPreset("Bill's Windsurf Shop", "Bill", "Lucchini", "bill@windsurf.example"),
        ClientPreset("Cool Cars", "Grace", "Pariente", "grace@coolcars.example"),
    )
    items: tuple[tuple[str, Decimal], ...] = (
        ("Design", Decimal("75.00")),
        ("Installation", Decimal("50.00")),
        ("Hours", Decimal("0.00")),
    )
    taxes: tuple[tuple[str, Decimal], ...] = (("Sales Tax", Decimal("8.25")), ("City Tax", Decimal("1.5")))


@dataclass(frozen=True)
class IdentityPreset:
    """A FreshBooks user and the businesses (by account id) they belong to."""

    identity_id: int
    first_name: str
    last_name: str
    email: str
    account_ids: tuple[str, ...]


DEFAULT_BUSINESSES: tuple[BusinessPreset, ...] = (
    BusinessPreset(
        account_id="LBD7x2",
        business_id=7001,
        business_uuid="1b6e0c56-6f1a-4a0e-9d34-3c1e0f5a7001",
        name="Demo Design Studio",
    ),
    BusinessPreset(
        account_id="LBK9q4",
        business_id=7002,
        business_uuid="1b6e0c56-6f1a-4a0e-9d34-3c1e0f5a7002",
        name="Demo Consulting (CAD)",
        currency_code="CAD",
        country="Canada",
        invoice_prefix="",
        clients=(
            ClientPreset("Diego Rodriguez Ltd", "Diego", "Rodriguez", "diego@example.ca"),
            ClientPreset("Geeta Kalapatapu Inc", "Geeta", "Kalapatapu", "geeta@example.ca"),
        ),
        items=(("Consulting", Decimal("120.00")), ("Training", Decimal("95.00"))),
        taxes=(("HST", Decimal("13")),),
    ),
)

DEFAULT_IDENTITIES: tuple[IdentityPreset, ...] = (
    IdentityPreset(4101, "Dana", "Demo", "dana@demo.example", ("LBD7x2", "LBK9q4")),
    IdentityPreset(4102, "Sam", "Solo", "sam@demo.example", ("LBK9q4",)),
)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that can be tuned on a FreshBooks sandbox instance.

    Times are in simulated seconds (see ``time_scale``). ``error_format`` picks which of FreshBooks' two
    accounting error bodies 4xx answers use: ``current`` (default) answers as the API does today, the
    google.rpc form for a missing record, route or method and the classic ``{"response":{"errors":[...]}}``
    form for validation and conflicts; ``classic`` and ``rpc`` force one form for every 4xx. The 401 of the
    accounting API always uses the newer form, as recorded by the Java SDK fixtures.
    ``auto_number_race_window`` is how long a create without ``invoice_number`` holds
    the number it read before storing it: concurrent creates inside that window collide (409) as they do
    on FreshBooks.
    """

    clients: tuple[OAuthClientConfig, ...] = (
        OAuthClientConfig(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REDIRECT_URIS, allow_loopback_redirects=True),
    )
    businesses: tuple[BusinessPreset, ...] = DEFAULT_BUSINESSES
    identities: tuple[IdentityPreset, ...] = DEFAULT_IDENTITIES
    # OAuth (FACTS FreshBooks 1)
    access_token_ttl: float = 12 * 3600.0
    refresh_token_ttl: float = 100 * 365 * 86400.0  # "no expiry"
    refresh_grace_period: float = 0.0
    auth_code_ttl: float = 300.0
    one_refresh_token_per_user: bool = True
    # Limits (FACTS FreshBooks 6: no published numbers)
    requests_per_minute: int = 120
    concurrent_requests: int = 10
    send_retry_after: bool = False
    # Listing (FACTS FreshBooks 4)
    default_per_page: int = 15
    max_per_page: int = 100
    # Errors (FACTS FreshBooks 7)
    error_format: Literal["current", "classic", "rpc"] = "current"
    # Invoices (FACTS FreshBooks 3)
    auto_number_race_window: float = 0.2
    # Time
    time_scale: float = 1.0
    start_time: datetime | None = None
    # Webhooks (FACTS FreshBooks 8)
    webhook_auto_deliver_interval: float | None = None
    webhook_timeout: float = 3.0
    webhook_retry_schedule: tuple[float, ...] = (60.0, 300.0, 1800.0, 7200.0)
    #: Demo only: callbacks registered and verified at start for every business, signed with this secret.
    preregistered_webhook_url: str | None = None
    preregistered_webhook_verifier: str | None = None
    # Misc
    public_base_url: str | None = None
    enable_control_api: bool = True
    extra_scopes: tuple[str, ...] = field(default=())
