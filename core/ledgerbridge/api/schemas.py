"""The API's request and response types, as msgspec Structs (Litestar's native types).

Money goes out as strings ("12.50") and comes in as a string or a JSON number; either way it is
parsed straight to `Decimal` (see `ledgerbridge.api.decoding`), so no amount ever passes through a
float. Partial updates use `UNSET` so "leave as is" and "set to null" stay different things.
Lists use offset pagination: `limit` and `offset` in the query, `total` in the answer.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from litestar.openapi.datastructures import ResponseSpec
from msgspec import UNSET, Meta, Struct, UnsetType

from ledgerbridge.invoicing import SyncBadge
from ledgerbridge.tables import CustomerKind, InvoiceStatus, ItemKind, NumberPolicy, RevertAction, Role

MoneyIn = Annotated[
    Decimal,
    Meta(
        description="A decimal amount, as a string (preferred) or a JSON number; parsed exactly, never via float.",
        examples=["12.50"],
    ),
]
MoneyOut = Annotated[str, Meta(description="A decimal amount as a string.", examples=["12.50"])]
Name = Annotated[str, Meta(min_length=1, max_length=255)]
Text120 = Annotated[str, Meta(max_length=120)]
Text254 = Annotated[str, Meta(max_length=254)]
Text255 = Annotated[str, Meta(max_length=255)]
Currency = Annotated[str, Meta(pattern="^[A-Z]{3}$", description="ISO 4217 code", examples=["USD"])]
ExternalRef = Annotated[
    str,
    Meta(min_length=1, max_length=120, description="The host app's own id for this record."),
]
Id = Annotated[int, Meta(ge=1)]


# --------------------------------------------------------------------------- errors


class FieldErrorOut(Struct):
    field: str
    message: str


class ErrorOut(Struct):
    """Every error: a stable `code` to branch on, a `message` for people and how to `fix` it."""

    code: str
    message: str
    fix: str
    fields: list[FieldErrorOut] | None = None


_ERROR_DESCRIPTIONS = {
    400: "The request is invalid; `message` names the field.",
    401: "Not signed in, or the API key is missing, unknown or revoked.",
    403: "Signed in but not allowed (owners only, or a CSRF token is missing).",
    404: "No such record in this workspace.",
    409: "The record's state does not allow this (e.g. a draft cannot be exported).",
    429: "Too many attempts; retry after the time in the message.",
}


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the errors a handler can answer, so clients see them documented."""
    wanted = sorted({400, 401, *codes})
    return {code: ResponseSpec(data_container=ErrorOut, description=_ERROR_DESCRIPTIONS[code]) for code in wanted}


# --------------------------------------------------------------------------- sign-in and workspaces


class LoginIn(Struct):
    email: Text254
    password: Annotated[str, Meta(max_length=1000)]


class WorkspaceChoiceOut(Struct):
    id: int
    name: str
    role: Role


class MeOut(Struct):
    via: Literal["session", "api_key"]
    workspace_id: int | None
    workspace_name: str
    role: Role | None
    user_id: int | None = None
    email: str = ""
    name: str = ""
    api_key_prefix: str | None = None
    workspaces: list[WorkspaceChoiceOut] = []
    csrf_token: str = ""


class CsrfOut(Struct):
    csrf_token: str
    header: str
    form_field: str


class SwitchWorkspaceIn(Struct):
    workspace_id: Id


class WorkspaceOut(Struct):
    id: int
    name: str
    slug: str


class MemberIn(Struct):
    email: Text254
    role: Role = Role.member
    name: Annotated[str, Meta(max_length=200)] = ""
    password: Annotated[str, Meta(max_length=1000)] | None = None


class MemberPatch(Struct):
    role: Role


class MemberOut(Struct):
    user_id: int
    email: str
    name: str
    role: Role


class MemberList(Struct):
    items: list[MemberOut]


class ApiKeyIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=120)]


class ApiKeyOut(Struct):
    id: int
    name: str
    prefix: Annotated[str, Meta(description="The key's visible start, e.g. lb_1a2b3c4d.")]
    created_by: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(Struct):
    api_key: ApiKeyOut
    key: Annotated[str, Meta(description="The full key. Shown this once; only its hash is stored.")]


class ApiKeyList(Struct):
    items: list[ApiKeyOut]


# --------------------------------------------------------------------------- shared pieces


class LinkOut(Struct):
    """A record's counterpart in one connection."""

    connection_id: int
    provider: str
    remote_id: str | None
    remote_number: str
    state: str
    remote_data: dict[str, Any]
    message: str
    last_synced_at: datetime | None


class IssueOut(Struct):
    id: int
    connection_id: int | None
    run_id: int | None
    record_type: str | None
    record_id: int | None
    code: str
    message: str
    fix: str
    first_seen_at: datetime
    last_seen_at: datetime
    times: int
    resolved_at: datetime | None


class RunCountsOut(Struct):
    seen: int
    created: int
    updated: int
    linked: int
    skipped: int
    failed: int


class SyncRunOut(Struct):
    id: int
    connection_id: int | None
    kind: str
    trigger: str
    params: dict[str, Any]
    state: str
    counts: RunCountsOut
    progress_done: int
    progress_total: int
    error: str
    attempts: int
    created_at: datetime
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    not_before: datetime | None


# --------------------------------------------------------------------------- customers


class CustomerIn(Struct):
    name: Name
    company: Text255 = ""
    given_name: Annotated[str, Meta(max_length=100)] = ""
    family_name: Annotated[str, Meta(max_length=100)] = ""
    email: Text254 = ""
    phone: Annotated[str, Meta(max_length=60)] = ""
    address_line1: Text255 = ""
    address_line2: Text255 = ""
    city: Text120 = ""
    region: Text120 = ""
    postal_code: Annotated[str, Meta(max_length=30)] = ""
    country: Annotated[str, Meta(max_length=60)] = ""
    tax_number: Annotated[str, Meta(max_length=60)] = ""
    currency: Currency = "USD"
    notes: Annotated[str, Meta(max_length=10000)] = ""
    kind: CustomerKind = CustomerKind.business
    active: bool = True
    external_ref: ExternalRef | None = None


class CustomerPatch(Struct):
    name: Name | UnsetType = UNSET
    company: Text255 | UnsetType = UNSET
    given_name: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    family_name: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    email: Text254 | UnsetType = UNSET
    phone: Annotated[str, Meta(max_length=60)] | UnsetType = UNSET
    address_line1: Text255 | UnsetType = UNSET
    address_line2: Text255 | UnsetType = UNSET
    city: Text120 | UnsetType = UNSET
    region: Text120 | UnsetType = UNSET
    postal_code: Annotated[str, Meta(max_length=30)] | UnsetType = UNSET
    country: Annotated[str, Meta(max_length=60)] | UnsetType = UNSET
    tax_number: Annotated[str, Meta(max_length=60)] | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    notes: Annotated[str, Meta(max_length=10000)] | UnsetType = UNSET
    kind: CustomerKind | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class CustomerOut(Struct):
    id: int
    name: str
    company: str
    given_name: str
    family_name: str
    email: str
    phone: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    tax_number: str
    currency: str
    notes: str
    kind: str
    active: bool
    source: str
    external_ref: str | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    links: list[LinkOut]


class CustomerPage(Struct):
    items: list[CustomerOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- items


class ItemIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=4000)] = ""
    kind: ItemKind = ItemKind.service
    unit_price: MoneyIn = Decimal("0")
    income_account_id: Id | None = None
    taxable: bool = False
    tax_rate_id: Id | None = None
    active: bool = True
    external_ref: ExternalRef | None = None


class ItemPatch(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    kind: ItemKind | UnsetType = UNSET
    unit_price: MoneyIn | UnsetType = UNSET
    income_account_id: Id | UnsetType | None = UNSET
    taxable: bool | UnsetType = UNSET
    tax_rate_id: Id | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class ItemOut(Struct):
    id: int
    name: str
    description: str
    kind: str
    unit_price: MoneyOut
    income_account_id: int | None
    taxable: bool
    tax_rate_id: int | None
    active: bool
    source: str
    external_ref: str | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    links: list[LinkOut]


class ItemPage(Struct):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- invoices


class LineIn(Struct):
    """A line. With an `item_id`, omitted description, price and tax rate come from the item."""

    item_id: Id | None = None
    description: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    quantity: MoneyIn = Decimal("1")
    unit_price: MoneyIn | UnsetType = UNSET
    tax_rate_id: Id | UnsetType | None = UNSET


class InvoiceIn(Struct):
    customer_id: Id
    number: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    issue_date: date | None = None
    due_date: date | None = None
    currency: Currency | UnsetType = UNSET
    memo: Annotated[str, Meta(max_length=4000)] = ""
    lines: Annotated[list[LineIn], Meta(max_length=500)] = []
    external_ref: ExternalRef | None = None


class InvoicePatch(Struct):
    """Fields to change; `lines`, when given, replaces all lines."""

    customer_id: Id | UnsetType = UNSET
    number: Annotated[str, Meta(min_length=1, max_length=60)] | UnsetType = UNSET
    issue_date: date | UnsetType = UNSET
    due_date: date | UnsetType | None = UNSET
    currency: Currency | UnsetType = UNSET
    memo: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    lines: Annotated[list[LineIn], Meta(max_length=500)] | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class LineOut(Struct):
    id: int
    position: int
    item_id: int | None
    description: str
    quantity: MoneyOut
    unit_price: MoneyOut
    tax_rate_id: int | None
    tax_percent: MoneyOut | None
    line_total: MoneyOut
    tax_amount: MoneyOut


class PaymentOut(Struct):
    id: int
    invoice_id: int
    paid_on: date
    amount: MoneyOut
    method: str
    reference: str
    source: str
    created_at: datetime


class InvoiceOut(Struct):
    id: int
    number: str
    customer_id: int
    customer_name: str
    issue_date: date
    due_date: date | None
    currency: str
    status: InvoiceStatus
    memo: str
    subtotal: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    amount_paid: MoneyOut
    balance: MoneyOut
    locked: bool
    sent_at: datetime | None
    external_ref: str | None
    sync: SyncBadge
    lines: list[LineOut]
    payments: list[PaymentOut]
    links: list[LinkOut]
    issues: list[IssueOut]
    created_at: datetime
    updated_at: datetime


class InvoicePage(Struct):
    items: list[InvoiceOut]
    total: int
    limit: int
    offset: int


class ExportIn(Struct):
    connection_id: Annotated[
        int | None, Meta(description="Export to this connection only; default: every connected one.")
    ] = None


class BulkExportIn(Struct):
    invoice_ids: Annotated[list[Id], Meta(min_length=1, max_length=1000)]
    connection_id: int | None = None


class InvoiceActionOut(Struct):
    """The invoice after an action, and the sync runs the action queued."""

    invoice: InvoiceOut
    runs: list[SyncRunOut]


class BulkExportOut(Struct):
    runs: list[SyncRunOut]


class FromTimeEntriesIn(Struct):
    time_entry_ids: Annotated[list[Id], Meta(min_length=1, max_length=500)]
    number: Annotated[str, Meta(min_length=1, max_length=60)] | None = None
    issue_date: date | None = None
    due_date: date | None = None
    memo: Annotated[str, Meta(max_length=4000)] = ""


# --------------------------------------------------------------------------- payments


class PaymentIn(Struct):
    invoice_id: Id
    amount: MoneyIn
    paid_on: date | None = None
    method: Annotated[str, Meta(max_length=40)] = ""
    reference: Text120 = ""


class PaymentPage(Struct):
    items: list[PaymentOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- time entries


class TimeEntryIn(Struct):
    customer_id: Id
    person: Annotated[str, Meta(min_length=1, max_length=200)]
    worked_on: date
    hours: MoneyIn
    item_id: Id | None = None
    person_email: Text254 = ""
    rate: MoneyIn = Decimal("0")
    description: Annotated[str, Meta(max_length=4000)] = ""
    billable: bool = True
    external_ref: ExternalRef | None = None


class TimeEntryPatch(Struct):
    customer_id: Id | UnsetType = UNSET
    person: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    worked_on: date | UnsetType = UNSET
    hours: MoneyIn | UnsetType = UNSET
    item_id: Id | UnsetType | None = UNSET
    person_email: Text254 | UnsetType = UNSET
    rate: MoneyIn | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET
    billable: bool | UnsetType = UNSET
    external_ref: ExternalRef | UnsetType | None = UNSET


class TimeEntryOut(Struct):
    id: int
    customer_id: int
    item_id: int | None
    person: str
    person_email: str
    worked_on: date
    hours: MoneyOut
    rate: MoneyOut
    amount: MoneyOut
    description: str
    billable: bool
    invoice_id: int | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime


class TimeEntryPage(Struct):
    items: list[TimeEntryOut]
    total: int
    limit: int
    offset: int


# --------------------------------------------------------------------------- connections


SyncWhat = Literal["customers", "items", "accounts", "tax_rates", "invoices"]


class ConnectionOut(Struct):
    id: int
    provider: str
    provider_name: str
    environment: str
    tenant_id: str
    tenant_name: str
    status: str
    status_reason: str
    reconnect_before: datetime | None
    auto_sync_customers: bool
    auto_export_on_send: bool
    export_as_draft: bool
    default_income_account_id: int | None
    number_policy: NumberPolicy
    revert_action: RevertAction
    currency: Annotated[str, Meta(description="The company's home currency; empty when the provider did not say.")]
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConnectionList(Struct):
    items: list[ConnectionOut]


class ConnectionPatch(Struct):
    auto_sync_customers: bool | UnsetType = UNSET
    auto_export_on_send: bool | UnsetType = UNSET
    export_as_draft: bool | UnsetType = UNSET
    default_income_account_id: Id | UnsetType | None = UNSET
    number_policy: NumberPolicy | UnsetType = UNSET
    revert_action: RevertAction | UnsetType = UNSET


class AuthorizeIn(Struct):
    provider: Annotated[str, Meta(description="A provider key from GET /api/v1/providers, e.g. quickbooks.")]
    environment: str | None = None
    connection_id: Annotated[Id | None, Meta(description="Set to reconnect this connection.")] = None
    return_to: Annotated[
        str, Meta(description="A path on this server the person is sent back to after consent.")
    ] = "/integrations"


class AuthorizeOut(Struct):
    url: Annotated[str, Meta(description="Send the person's browser here; they come back signed in to us.")]


class SyncRequestIn(Struct):
    what: Annotated[
        list[SyncWhat],
        Meta(description="What to read from the provider; empty means everything (one import_all run)."),
    ] = []


class SyncRunList(Struct):
    runs: list[SyncRunOut]


# --------------------------------------------------------------------------- sync runs and issues


class RunRecordOut(Struct):
    id: int
    record_type: str
    record_id: int | None
    remote_id: str | None
    outcome: str
    message: str
    created_at: datetime


class SyncRunDetailOut(Struct):
    run: SyncRunOut
    records: list[RunRecordOut]
    records_total: int
    issues: list[IssueOut]


class SyncRunPage(Struct):
    items: list[SyncRunOut]
    total: int
    limit: int
    offset: int


class IssuePage(Struct):
    items: list[IssueOut]
    total: int
    limit: int
    offset: int


class IssueGroupOut(Struct):
    code: str
    message: str
    fix: str
    count: int
    issues: list[IssueOut]


class IssueGroupsOut(Struct):
    groups: list[IssueGroupOut]
    total: int


class IssueRetryOut(Struct):
    issue: IssueOut
    run: SyncRunOut


# --------------------------------------------------------------------------- accounts and tax rates


class AccountOut(Struct):
    id: int
    connection_id: int
    name: str
    code: str
    account_type: str
    active: bool
    updated_at: datetime


class AccountPage(Struct):
    items: list[AccountOut]
    total: int
    limit: int
    offset: int


class TaxRateOut(Struct):
    id: int
    connection_id: int | None
    name: str
    code: str
    rate: Annotated[str, Meta(description="Percent, as a decimal string.", examples=["20.0000"])]
    active: bool
    updated_at: datetime


class TaxRatePage(Struct):
    items: list[TaxRateOut]
    total: int
    limit: int
    offset: int


def given_fields(data: Struct) -> dict[str, Any]:
    """The fields a request actually sent (`UNSET` ones left out), for partial updates."""
    return {name: value for name in data.__struct_fields__ if (value := getattr(data, name)) is not UNSET}
