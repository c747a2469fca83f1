"""What LedgerBridge stores: every table, and the vocabularies its state columns use.

Every business record belongs to a workspace (one client business of an agency). A local record and
its counterpart in a provider are tied by exactly one `ExternalLink` per connection, which is how
records are linked and never duplicated. Jobs are `SyncRun` rows; every write sent to a provider is
an `OutboundWrite` row recorded before the call, carrying the idempotency key a retry must reuse.
Amounts are `Money` (exact `Decimal` on both engines).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from ledgerbridge.db import Money

ZERO = Decimal("0")
ONE = Decimal("1")


def utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- vocabularies


class Role(StrEnum):
    """What a person may do in a workspace; `ledgerbridge.identity.permissions` says what each allows."""

    owner = "owner"
    accountant = "accountant"
    member = "member"
    viewer = "viewer"


class Environment(StrEnum):
    sandbox = "sandbox"
    production = "production"


class ConnectionStatus(StrEnum):
    connected = "connected"
    needs_reconnect = "needs_reconnect"
    disconnected = "disconnected"


class NumberPolicy(StrEnum):
    """Who numbers exported invoices."""

    ours = "ours"  # send our invoice number
    provider = "provider"  # let the provider assign the next number


class CustomerKind(StrEnum):
    business = "business"
    individual = "individual"


class ItemKind(StrEnum):
    service = "service"
    product = "product"


class InvoiceStatus(StrEnum):
    draft = "draft"
    finalized = "finalized"
    sent = "sent"
    void = "void"


class RecordType(StrEnum):
    customer = "customer"
    item = "item"
    account = "account"
    tax_rate = "tax_rate"
    invoice = "invoice"
    payment = "payment"
    time_entry = "time_entry"


class LinkState(StrEnum):
    synced = "synced"  # remote matches what we last sent or saw
    pending = "pending"  # a write is on its way
    needs_sync = "needs_sync"  # changed locally since the last export
    uncertain = "uncertain"  # a write may or may not have been applied; settle before retrying
    error = "error"
    warning = "warning"  # remote differs from ours (e.g. amount edited in the provider)
    deleted_remote = "deleted_remote"  # deleted or voided in the provider
    archived = "archived"  # the remote record is gone; ours is kept, archived


class RevertAction(StrEnum):
    """What "revert to draft" does to an exported invoice's copy in the provider."""

    void = "void"  # keeps the number and the audit trail there
    delete = "delete"  # leaves no trace, where the provider allows deleting


class ReissueNumber(StrEnum):
    """The number of a new copy of an invoice whose withdrawn (voided) copy keeps its number there."""

    suffix = "suffix"  # our number with "-2", "-3"... (shortened to the provider's length first)
    provider = "provider"  # let the provider assign the next number


class WithdrawalState(StrEnum):
    withdrawing = "withdrawing"  # the void or delete is on its way
    withdrawn = "withdrawn"  # voided or deleted there
    failed = "failed"  # the provider refused; the message says what to do


class RunKind(StrEnum):
    import_all = "import_all"
    import_customers = "import_customers"
    import_items = "import_items"
    import_accounts = "import_accounts"
    import_tax_rates = "import_tax_rates"
    export_invoice = "export_invoice"
    export_invoices = "export_invoices"
    export_customer = "export_customer"
    export_payment = "export_payment"
    void_payment = "void_payment"  # a payment voided here, voided in the books
    export_time_entries = "export_time_entries"  # time entries synced on their own, as billable
    push_records = "push_records"  # customers and items changed here, pushed to the books automatically
    poll_status = "poll_status"
    refresh_tokens = "refresh_tokens"
    deliver_webhooks = "deliver_webhooks"  # one endpoint's pending deliveries, in order
    send_notices = "send_notices"  # one workspace's notices still to email


class RunState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


ACTIVE_RUN_STATES = (RunState.queued, RunState.running)


class WriteState(StrEnum):
    pending = "pending"  # recorded, call not yet answered
    applied = "applied"
    failed = "failed"  # the provider refused it; nothing was written there
    uncertain = "uncertain"  # no answer: may have been applied


# --------------------------------------------------------------------------- people and tenancy


class Workspace(Table):
    name = Varchar(length=200)
    slug = Varchar(length=80, unique=True)
    created_at = Timestamptz()


class User(Table, tablename="lb_user"):
    email = Varchar(length=254, unique=True)
    name = Varchar(length=200, default="")
    password_hash = Text()
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)
    # Set when someone else chose the password (an owner's reset, the CLI, `serve`'s first owner):
    # every page but changing it is refused until the person picks their own (migration 0014).
    must_change_password = Boolean(default=False)


class Membership(Table):
    user = ForeignKey(User, on_delete=OnDelete.cascade)
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    role = Varchar(length=20, choices=Role, default=Role.member)


class ApiKey(Table):
    """A key the host app uses; only its SHA-256 is stored, the prefix identifies it in lists."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    name = Varchar(length=120)
    prefix = Varchar(length=16, unique=True)
    key_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    scopes = JSON(default='["read"]')  # `ledgerbridge.identity.permissions.Scope` values


class UserSession(Table):
    """Server-side login sessions; the cookie holds only the random id."""

    session_id = Varchar(length=64, unique=True)
    data = Text(default="{}")
    expires_at = Timestamptz()


# --------------------------------------------------------------------------- connections


class Connection(Table):
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    provider = Varchar(length=40)
    environment = Varchar(length=20, choices=Environment, default=Environment.sandbox)
    tenant_id = Varchar(length=100, default="")
    tenant_name = Varchar(length=200, default="")
    status = Varchar(length=20, choices=ConnectionStatus, default=ConnectionStatus.disconnected)
    status_reason = Text(default="")
    reconnect_before = Timestamptz(null=True, default=None)
    # Tokens are Fernet-encrypted (ledgerbridge.vault); never stored or logged in clear.
    access_token_enc = Text(default="")
    refresh_token_enc = Text(default="")
    access_expires_at = Timestamptz(null=True, default=None)
    refresh_expires_at = Timestamptz(null=True, default=None)
    token_version = Integer(default=0)  # bumped on every token write: compare-and-swap
    refresh_lease_until = Timestamptz(null=True, default=None)
    # Settings the user controls.
    auto_sync_customers = Boolean(default=True)
    auto_export_on_send = Boolean(default=False)
    export_as_draft = Boolean(default=False)
    # An Account id; not a foreign key because accounts themselves belong to a connection.
    default_income_account_id = Integer(null=True, default=None)
    number_policy = Varchar(length=20, choices=NumberPolicy, default=NumberPolicy.ours)
    revert_action = Varchar(length=10, choices=RevertAction, default=RevertAction.void)
    currency = Varchar(length=3, default="")  # the company's home currency; "" when the provider did not say
    # The one connection of the workspace that keeps its books: exports and payments go only there.
    is_books = Boolean(default=False)
    reissue_number = Varchar(length=20, choices=ReissueNumber, default=ReissueNumber.suffix)
    # Incremental-read cursors per record type, owned by the provider plugin (opaque to us).
    cursors = JSON(default="{}")
    provider_data = JSON(default="{}")  # plugin-owned facts about the tenant (e.g. short codes)
    last_synced_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


# --------------------------------------------------------------------------- business records


class Account(Table):
    """An income account as the provider has it; read-only here."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, on_delete=OnDelete.cascade)
    name = Varchar(length=200)
    code = Varchar(length=40, default="")
    account_type = Varchar(length=60, default="")
    active = Boolean(default=True)
    updated_at = Timestamptz()


class TaxRate(Table):
    """A tax rate as the provider has it; read-only here."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, null=True, on_delete=OnDelete.cascade)
    name = Varchar(length=200)
    code = Varchar(length=60, default="")
    rate = Money(digits=(9, 4), default=ZERO)  # percent
    active = Boolean(default=True)
    updated_at = Timestamptz()


class TaxMapping(Table):
    """Which of a connection's tax rates one of ours exports as (migration 0008).

    A rate the connection imported itself needs no row. Without a row (or with the target gone), a
    line carrying the rate is an issue on its invoice before anything is sent (`sync.tax_mapping`).
    """

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, on_delete=OnDelete.cascade)
    tax_rate = ForeignKey(TaxRate, on_delete=OnDelete.cascade)
    books_rate = ForeignKey(TaxRate, on_delete=OnDelete.cascade)
    updated_at = Timestamptz()


class Customer(Table):
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    name = Varchar(length=255)
    company = Varchar(length=255, default="")
    given_name = Varchar(length=100, default="")
    family_name = Varchar(length=100, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=60, default="")
    address_line1 = Varchar(length=255, default="")
    address_line2 = Varchar(length=255, default="")
    city = Varchar(length=120, default="")
    region = Varchar(length=120, default="")
    postal_code = Varchar(length=30, default="")
    country = Varchar(length=60, default="")
    tax_number = Varchar(length=60, default="")
    currency = Varchar(length=3, default="USD")
    notes = Text(default="")
    kind = Varchar(length=20, choices=CustomerKind, default=CustomerKind.business)
    active = Boolean(default=True)
    archived_at = Timestamptz(null=True, default=None)
    source = Varchar(length=40, default="local")  # "local", "api" or the provider it came from
    external_ref = Varchar(length=120, null=True, default=None)  # the host app's own id
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Item(Table):
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    name = Varchar(length=200)
    description = Text(default="")
    kind = Varchar(length=20, choices=ItemKind, default=ItemKind.service)
    unit_price = Money(digits=(18, 4), default=ZERO)
    income_account = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    taxable = Boolean(default=False)
    tax_rate = ForeignKey(TaxRate, null=True, on_delete=OnDelete.set_null)
    active = Boolean(default=True)
    archived_at = Timestamptz(null=True, default=None)
    source = Varchar(length=40, default="local")
    external_ref = Varchar(length=120, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Invoice(Table):
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    number = Varchar(length=60)
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    issue_date = Date()
    due_date = Date(null=True, default=None)
    currency = Varchar(length=3, default="USD")
    status = Varchar(length=20, choices=InvoiceStatus, default=InvoiceStatus.draft)
    memo = Text(default="")
    # Computed from the lines by ledgerbridge.invoicing; stored so lists need no join.
    subtotal = Money(digits=(18, 2), default=ZERO)
    tax_total = Money(digits=(18, 2), default=ZERO)
    total = Money(digits=(18, 2), default=ZERO)
    amount_paid = Money(digits=(18, 2), default=ZERO)
    locked = Boolean(default=False)  # exported: edits go through "revert to draft"
    sent_at = Timestamptz(null=True, default=None)
    external_ref = Varchar(length=120, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # The table also has `link_count`, kept by triggers on external_link (migration 0021) and read by
    # raw SQL only: declared here, every `save()` would write a stale count back over the triggers'.


class InvoiceLine(Table):
    invoice = ForeignKey(Invoice, on_delete=OnDelete.cascade)
    position = Integer(default=0)
    item = ForeignKey(Item, null=True, on_delete=OnDelete.set_null)
    description = Text(default="")
    quantity = Money(digits=(18, 4), default=ONE)
    unit_price = Money(digits=(18, 4), default=ZERO)
    tax_rate = ForeignKey(TaxRate, null=True, on_delete=OnDelete.set_null)
    line_total = Money(digits=(18, 2), default=ZERO)
    tax_amount = Money(digits=(18, 2), default=ZERO)


class Payment(Table):
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    invoice = ForeignKey(Invoice, on_delete=OnDelete.cascade)
    paid_on = Date()
    amount = Money(digits=(18, 2))
    method = Varchar(length=40, default="")
    reference = Varchar(length=120, default="")
    source = Varchar(length=40, default="local")  # or the provider it was read back from
    created_at = Timestamptz()
    voided_at = Timestamptz(null=True, default=None)
    # The provider whose bookkeeper deleted or voided its copy there (noticed on read-back, which then
    # set `voided_at`); empty when it was voided here, or is live.
    removed_in_provider = Varchar(length=40, default="")


class TimeEntry(Table):
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    customer = ForeignKey(Customer, on_delete=OnDelete.restrict)
    item = ForeignKey(Item, null=True, on_delete=OnDelete.set_null)
    person = Varchar(length=200)
    person_email = Varchar(length=254, default="")
    worked_on = Date()
    hours = Money(digits=(10, 2))
    rate = Money(digits=(18, 4), default=ZERO)
    description = Text(default="")
    billable = Boolean(default=True)
    invoice = ForeignKey(Invoice, null=True, on_delete=OnDelete.set_null)
    external_ref = Varchar(length=120, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


# --------------------------------------------------------------------------- sync bookkeeping


class ExternalLink(Table):
    """One local record's counterpart in one connection."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, on_delete=OnDelete.cascade)
    record_type = Varchar(length=20, choices=RecordType)
    record_id = Integer()
    remote_id = Varchar(length=100, null=True, default=None)
    remote_version = Varchar(length=100, default="")  # QBO SyncToken and the like
    remote_number = Varchar(length=100, default="")  # the number the provider shows
    fingerprint = Varchar(length=64, default="")  # hash of the values last sent or seen
    state = Varchar(length=20, choices=LinkState, default=LinkState.pending)
    remote_data = JSON(default="{}")  # status, totals, balance... as the provider last reported
    message = Text(default="")
    last_synced_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class WithdrawnCopy(Table):
    """A provider's copy of a record that revert or void took back: kept for history and shown,
    while the record's `ExternalLink` is cleared so the next export creates a new copy."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, on_delete=OnDelete.cascade)
    record_type = Varchar(length=20, choices=RecordType)
    record_id = Integer()
    remote_id = Varchar(length=100)
    remote_version = Varchar(length=100, default="")
    remote_number = Varchar(length=100, default="")
    remote_data = JSON(default="{}")
    action = Varchar(length=10, choices=RevertAction, default=RevertAction.void)
    state = Varchar(length=20, choices=WithdrawalState, default=WithdrawalState.withdrawing)
    message = Text(default="")
    created_at = Timestamptz()
    withdrawn_at = Timestamptz(null=True, default=None)


class SyncRun(Table):
    """A job: written before it is queued, claimed with a lease, resumable from its checkpoint."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, null=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=40, choices=RunKind)
    trigger = Varchar(length=120, default="")  # "user:3", "api_key:lb_ab12", "schedule", "webhook"...
    params = JSON(default="{}")
    dedupe_key = Varchar(length=200, null=True, default=None)
    state = Varchar(length=20, choices=RunState, default=RunState.queued)
    seen = Integer(default=0)
    created = Integer(default=0)
    updated = Integer(default=0)
    linked = Integer(default=0)
    skipped = Integer(default=0)
    failed = Integer(default=0)
    progress_done = Integer(default=0)
    progress_total = Integer(default=0)
    checkpoint = JSON(default="{}")
    error = Text(default="")
    attempts = Integer(default=0)  # tries that ended by a crash, a lost lease or an end; waits give theirs back
    claims = Integer(default=0)  # every time a worker took the run (see `OutboundWrite.attempt`)
    lease_owner = Varchar(length=120, default="")
    lease_expires_at = Timestamptz(null=True, default=None)
    not_before = Timestamptz(null=True, default=None)  # rate-limited or backing off until
    created_at = Timestamptz()
    queued_at = Timestamptz()
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class OutboundWrite(Table):
    """A write to a provider, recorded before the call; its key makes a retry safe."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, on_delete=OnDelete.cascade)
    run = ForeignKey(SyncRun, null=True, on_delete=OnDelete.set_null)
    attempt = Integer(default=0)  # the run's claim that prepared it (see `outbound.is_retry`)
    record_type = Varchar(length=20, choices=RecordType)
    record_id = Integer()
    operation = Varchar(length=20)  # create, update, void, delete
    idempotency_key = Varchar(length=50, unique=True)
    state = Varchar(length=20, choices=WriteState, default=WriteState.pending)
    remote_id = Varchar(length=100, null=True, default=None)
    error = Text(default="")
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class RunRecord(Table):
    """What a run touched, so sync history can drill down to records."""

    run = ForeignKey(SyncRun, on_delete=OnDelete.cascade)
    record_type = Varchar(length=20, choices=RecordType)
    record_id = Integer(null=True, default=None)
    remote_id = Varchar(length=100, null=True, default=None)
    outcome = Varchar(length=20)  # created, updated, linked, skipped, failed, archived
    message = Text(default="")
    created_at = Timestamptz()


class SyncIssue(Table):
    """A problem a user must see on the record it concerns, with how to fix it."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    connection = ForeignKey(Connection, null=True, on_delete=OnDelete.cascade)
    run = ForeignKey(SyncRun, null=True, on_delete=OnDelete.set_null)
    record_type = Varchar(length=20, null=True, default=None)
    record_id = Integer(null=True, default=None)
    code = Varchar(length=60)
    message = Text()
    fix = Text(default="")
    first_seen_at = Timestamptz()
    last_seen_at = Timestamptz()
    times = Integer(default=1)
    resolved_at = Timestamptz(null=True, default=None)


class RateWindow(Table):
    """Calls made per limiter key and window: the embedded rate limiter shared by all processes."""

    key = Varchar(length=200)
    window_start = Integer()  # epoch seconds, aligned to the window
    # Stored in the `count` column; named `calls` here because a column attribute called `count`
    # would hide the `Table.count()` query.
    calls = Integer(default=0, db_column_name="count")


class WorkerHeartbeat(Table):
    """Workers say they are alive, so /healthz can tell whether anyone will run queued jobs."""

    worker_id = Varchar(length=120, unique=True)
    mode = Varchar(length=20)  # embedded or redis
    hostname = Varchar(length=200, default="")
    pid = Integer(default=0)
    seen_at = Timestamptz()


# --------------------------------------------------------------------------- the host app hears back


class DeliveryState(StrEnum):
    pending = "pending"  # waiting for its turn or its next attempt
    delivered = "delivered"  # the receiver answered 2xx
    failed = "failed"  # every scheduled attempt failed; the endpoint was disabled


class OutboxEvent(Table, tablename="outbox"):
    """An event, written in the same transaction as the change it describes (ledgerbridge.events)."""

    event_id = Varchar(length=40, unique=True)  # "msg_...": the webhook-id every delivery of it carries
    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    type = Varchar(length=60)
    version = Integer(default=1)
    data = JSON(default="{}")
    occurred_at = Timestamptz()


class WebhookEndpoint(Table):
    """Where a workspace's events are posted, signed with its secret (and the previous one in grace)."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    url = Varchar(length=2000)
    description = Varchar(length=200, default="")
    event_types = JSON(default="[]")  # empty: every event
    secret_enc = Text(default="")  # Fernet-encrypted "whsec_..."
    previous_secret_enc = Text(default="")
    previous_secret_expires_at = Timestamptz(null=True, default=None)
    enabled = Boolean(default=True)
    disabled_reason = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class WebhookDelivery(Table):
    """One event for one endpoint: delivered once, retried on the published schedule, in order."""

    endpoint = ForeignKey(WebhookEndpoint, on_delete=OnDelete.cascade)
    event = ForeignKey(OutboxEvent, on_delete=OnDelete.cascade)
    state = Varchar(length=20, choices=DeliveryState, default=DeliveryState.pending)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    claimed_until = Timestamptz(null=True, default=None)  # a worker is sending it until then
    last_status = Integer(null=True, default=None)
    last_error = Text(default="")
    delivered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class WebhookAttempt(Table):
    """The delivery log: every request sent, with what came back."""

    delivery = ForeignKey(WebhookDelivery, on_delete=OnDelete.cascade)
    number = Integer(default=1)
    status_code = Integer(null=True, default=None)
    response_excerpt = Text(default="")
    error = Text(default="")
    latency_ms = Integer(default=0)
    started_at = Timestamptz()


class Notice(Table):
    """Something a person must know (a connection to reconnect...): shown in the admin UI, and
    emailed when SMTP is set and the person has not opted out of its kind."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=40)
    subject = Varchar(length=200)
    body = Text(default="")
    link = Varchar(length=2000, default="")
    created_at = Timestamptz()
    email_due = Boolean(default=False)
    emailed_at = Timestamptz(null=True, default=None)
    email_error = Text(default="")
    dismissed_at = Timestamptz(null=True, default=None)


class NotificationOptOut(Table):
    """A person does not want emails of one kind."""

    user = ForeignKey(User, on_delete=OnDelete.cascade)
    kind = Varchar(length=40)
    created_at = Timestamptz()


class Invitation(Table):
    """An owner's offer to join a workspace with a role; only the token's SHA-256 is stored, and it
    joins whoever accepts it while signed in, so nobody is added without their consent."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    role = Varchar(length=20, choices=Role, default=Role.member)
    note = Varchar(length=200, default="")  # who it is meant for, as the owner wrote it
    token_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    accepted_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class AuditEntry(Table, tablename="audit_entry"):
    """One action on the books, connections, settings, members, roles or keys: who, what, when,
    from where, before and after. Append-only: nothing updates or deletes a row except the
    retention prune (`ledgerbridge.audit.prune`)."""

    workspace = ForeignKey(Workspace, on_delete=OnDelete.cascade)
    occurred_at = Timestamptz()
    actor_user = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    actor_api_key = ForeignKey(ApiKey, null=True, on_delete=OnDelete.set_null)
    actor = Varchar(length=260, default="")  # email or key prefix, kept when the user or key goes
    action = Varchar(length=60)
    target_type = Varchar(length=40, default="")
    target_id = Varchar(length=64, default="")
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")
    before = JSON(default="{}")
    after = JSON(default="{}")


class OidcIdentity(Table, tablename="oidc_identity"):
    """A person's account at an OpenID Connect issuer they sign in with ("Sign in with Intuit").

    The pair (issuer, subject) is unique and finds the user again at every later sign-in, even after
    their email there changed; the first link is made only by a verified email (`identity.oidc_accounts`).
    """

    user = ForeignKey(User, on_delete=OnDelete.cascade)
    issuer = Varchar(length=300)  # the ID token's `iss`
    subject = Varchar(length=255)  # its `sub`
    email = Varchar(length=254, default="")  # as the issuer last gave it
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    # What the sign-in button calls the issuer ("Intuit"), kept at each sign-in for the account page (0020).
    issuer_name = Varchar(length=200, default="")


TABLES: list[type[Table]] = [
    Workspace,
    User,
    Membership,
    ApiKey,
    UserSession,
    Connection,
    Account,
    TaxRate,
    TaxMapping,
    Customer,
    Item,
    Invoice,
    InvoiceLine,
    Payment,
    TimeEntry,
    ExternalLink,
    WithdrawnCopy,
    SyncRun,
    OutboundWrite,
    RunRecord,
    SyncIssue,
    RateWindow,
    WorkerHeartbeat,
    OutboxEvent,
    WebhookEndpoint,
    WebhookDelivery,
    WebhookAttempt,
    Notice,
    NotificationOptOut,
    Invitation,
    AuditEntry,
    OidcIdentity,
]
