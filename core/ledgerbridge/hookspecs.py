"""Every LedgerBridge plugin hook. Each docstring is that hook's documentation.

Plugins are found through the `ledgerbridge` entry-point group and implement hooks with
`@ledgerbridge.plugins.hookimpl`. There are three kinds:

* **Provider hooks** (`provider_info`, then the connect, import, export, poll and webhook hooks).
  The core calls them on one provider's plugin only, the one whose `provider_info().key` the
  connection names, so a plugin never filters on a provider name. They may be `async def`; the
  core awaits them. A provider that lacks a capability leaves the hook out.
* **Event hooks** (`invoice_exported`, ...): called on every plugin after the fact. Return values
  are ignored; an exception is logged and does not undo the sync.
* **Application hooks** (`route_handlers`): how the admin UI, and any plugin, adds pages.

Values passed in and out are defined in `ledgerbridge.provider`. Errors are raised as
`ledgerbridge.errors` types so the user sees a stable code, a message and a fix.
"""

from __future__ import annotations

from typing import Any

import pluggy

from ledgerbridge.provider import (
    AuthorizationServer,
    BatchOutcome,
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

hookspec = pluggy.HookspecMarker("ledgerbridge")


# --------------------------------------------------------------------------- identity


@hookspec
def provider_info() -> ProviderInfo:
    """Declare that this plugin is a provider: its key, display name, version and `Capabilities`.

    Called once per plugin at start-up. Plugins that are not providers do not implement it.
    """


# --------------------------------------------------------------------------- connecting


@hookspec(firstresult=True)
def authorization_server(settings: ProviderSettings, environment: str) -> AuthorizationServer:
    """Declare the provider's OAuth2 authorization server; the core then runs the whole OAuth flow.

    Called whenever the core needs the endpoints (consent, callback, refresh, disconnect), with the
    provider's settings (a sandbox sets `settings.base_url`) and the connection's environment, so
    build the URLs from them and do no I/O. With a declaration the core builds the consent URL (S256
    PKCE when declared), exchanges the code, refreshes, revokes and reads the token answer; a plugin
    implements `authorization_url`, `exchange_code`, `refresh_token` or `revoke_token` only where its
    provider departs from what a declaration can say.
    """


@hookspec(firstresult=True)
def authorization_url(
    settings: ProviderSettings, environment: str, redirect_uri: str, state: str, code_verifier: str | None
) -> str:
    """Optional override: build the consent URL yourself instead of the core's from `authorization_server`.

    `state` is signed by the core and must be passed through untouched. `code_verifier` is set
    when PKCE is declared (`AuthorizationServer.pkce`, or `Capabilities.pkce` for a plugin without a
    declaration): send its S256 challenge. The core keeps the verifier (encrypted) until the callback
    and hands it to the code exchange.
    """


@hookspec(firstresult=True)
def exchange_code(
    settings: ProviderSettings,
    environment: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    params: dict[str, str],
) -> TokenSet:
    """Optional override: trade the consent callback's authorization code for tokens yourself.

    Without it the core posts to the declared token endpoint. `params` holds every query parameter
    of the callback (QuickBooks sends `realmId` there).
    """


@hookspec(firstresult=True)
def connected_tenants(
    settings: ProviderSettings, environment: str, tokens: TokenSet, params: dict[str, str]
) -> list[Tenant]:
    """Say which companies the consent just given covers.

    One tenant connects directly; several make the core ask the user to pick one. On reconnect
    the core refuses a tenant other than the connection's own (reason `wrong_account`).
    """


@hookspec(firstresult=True)
def refresh_token(settings: ProviderSettings, environment: str, refresh_token: str) -> TokenSet:
    """Optional override: get a fresh access token yourself; raise `AuthorizationError` when refused.

    Without it the core refreshes at the declared token endpoint. Either way the core serialises
    refreshes per connection and stores the rotated refresh token before anything else happens, so
    a rotating refresh token is never lost.
    """


@hookspec(firstresult=True)
def revoke_token(session: ProviderSession, refresh_token: str) -> bool:
    """Optional override: end the connection at the provider when the user disconnects.

    Without it the core revokes the refresh token at the declared revocation endpoint. Return True
    when the provider confirmed. Data stays on both sides: the core marks the connection
    disconnected and keeps every local record and link even if revocation fails.
    """


# --------------------------------------------------------------------------- importing


@hookspec(firstresult=True)
def import_customers(session: ProviderSession, cursor: str | None) -> Page[RemoteCustomer]:
    """Read one page of customers.

    `cursor` is None for a full read, else a value this plugin returned before: as
    `Page.next_cursor` to continue a read, or as `Page.cursor` to read only what changed since.
    Deleted customers come back with `deleted=True` so the core archives its copy. Where cursors
    count (positions, page numbers), also give `Page.after_next` (the next page's own
    `next_cursor` if it is not the last): an import then asks for two pages at once, and the
    provider answers the next while this one is decoded and mapped. The same holds for the other
    `import_*` hooks.
    """


@hookspec(firstresult=True)
def import_items(session: ProviderSession, cursor: str | None) -> Page[RemoteItem]:
    """Read one page of items/services; paging and deletions as in `import_customers`."""


@hookspec(firstresult=True)
def import_accounts(session: ProviderSession, cursor: str | None) -> Page[RemoteAccount]:
    """Read one page of income accounts (only accounts an invoice line may credit)."""


@hookspec(firstresult=True)
def import_tax_rates(session: ProviderSession, cursor: str | None) -> Page[RemoteTaxRate]:
    """Read one page of the tax rates (or tax codes) an invoice line may carry."""


# --------------------------------------------------------------------------- exporting


@hookspec(firstresult=True)
def export_customer(
    session: ProviderSession, customer: CustomerData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    """Create the customer (`link` is None) or update the linked one.

    The same `idempotency_key` is passed again if the call is retried after a crash or timeout;
    send it to the provider when it supports one (`Capabilities.native_idempotency`).
    """


@hookspec(firstresult=True)
def export_item(
    session: ProviderSession, item: ItemData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    """Create or update an item; as `export_customer`."""


@hookspec(firstresult=True)
def export_invoice(
    session: ProviderSession, invoice: InvoiceData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    """Create or update an invoice whose customer and items already exist in the provider.

    Return the provider's view of it in `ExportResult.record` (a `RemoteInvoice`) when the
    response carries it, so status and totals show without another call.
    """


@hookspec(firstresult=True)
def export_invoices_batch(
    session: ProviderSession, invoices: list[tuple[InvoiceData, LinkRef | None, str]]
) -> list[BatchOutcome]:
    """Send up to `Capabilities.batch_size` invoices in one request (invoice, link, key each).

    Return one outcome per invoice, in order: a result, or the error that refused that invoice.
    One invoice's failure must not fail the others.
    """


@hookspec(firstresult=True)
def export_payment(
    session: ProviderSession, payment: PaymentData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    """Record a payment against an exported invoice."""


@hookspec(firstresult=True)
def void_payment(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    """Take back a payment this plugin exported (`link` is its record there), so the invoice owes it again.

    Called once per payment voided here, from a run: only on a plugin that declares
    `Capabilities.void_payments`, only for a payment whose export landed, and never before that
    export settled. Void it where the provider keeps voided payments, delete it where deleting is
    its only way; either way the invoice's balance there goes back up by the amount. The same
    `idempotency_key` comes again when the run is resumed after a crash or timeout: send it where
    the provider replays keys, and answer a payment already voided or gone (deleted, not found) as
    done with `already_removed=True`, not as an error: a retry must never fail on its own first
    attempt, and a payment the bookkeeper removed there first is what the person wanted (the core then
    marks it removed in the provider). That includes a void refused because the payment went between
    the plugin's read and its write. A provider that refuses (a reconciled or
    deposited payment, say) raises `ledgerbridge.errors.NotSupported` or `ProviderError` with the
    user's message and the fix; the core puts it on the payment as an issue.
    """


@hookspec(firstresult=True)
def export_time_entry(
    session: ProviderSession, entry: TimeEntryData, link: LinkRef | None, idempotency_key: str
) -> ExportResult:
    """Export a time entry as the provider's time record (`Capabilities.time_activities`)."""


@hookspec(firstresult=True)
def void_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    """Void an exported invoice: it stays in the provider with a zero amount."""


@hookspec(firstresult=True)
def delete_invoice(session: ProviderSession, link: LinkRef, idempotency_key: str) -> ExportResult:
    """Delete an exported invoice where the provider allows it (drafts, or always)."""


@hookspec(firstresult=True)
def find_invoice(session: ProviderSession, number: str) -> RemoteInvoice | None:
    """Look an invoice up by number, or return None.

    The core calls it before retrying an export whose outcome is uncertain, on providers
    without native idempotency, so a retry never creates a second invoice.
    """


# --------------------------------------------------------------------------- reading back


@hookspec(firstresult=True)
def poll_invoices(
    session: ProviderSession, cursor: str | None, remote_ids: list[str] | None
) -> Page[RemoteInvoice]:
    """Read the current state of exported invoices: status, number, dates, total, balance, payments.

    With `remote_ids`, read those invoices (after a webhook or on demand). Otherwise read what
    changed since `cursor` (None: everything), including voided and deleted invoices.
    """


@hookspec(firstresult=True)
def record_url(
    provider_data: dict[str, Any], environment: str, record_type: str, remote_id: str
) -> str | None:
    """The address of a record in the provider's own UI ("View in QuickBooks"), or None."""


# --------------------------------------------------------------------------- webhooks


@hookspec(firstresult=True)
def verify_webhook(settings: ProviderSettings, headers: dict[str, str], body: bytes) -> bool:
    """Check a webhook's signature against the raw body. False makes the core answer 401."""


@hookspec(firstresult=True)
def parse_webhook(settings: ProviderSettings, headers: dict[str, str], body: bytes) -> list[WebhookEvent]:
    """Turn a verified webhook body into events; the core queues the reads they call for."""


# --------------------------------------------------------------------------- demo


@hookspec(firstresult=True)
def demo_sandbox(public_url: str, webhook_url: str) -> DemoSandbox:
    """A sandbox of this provider for demos and newcomers, served by `ledgerbridge serve` at `public_url`.

    Called when the provider has no client id configured and sandboxes are enabled
    (`LEDGERBRIDGE_SANDBOXES`). The core serves the returned app on its own port, points the
    provider's base URL at it and uses the returned demo credentials; `webhook_url` is where the
    sandbox should deliver its signed webhooks.
    """


# --------------------------------------------------------------------------- events


@hookspec
def invoice_exported(workspace_id: int, connection_id: int, invoice_id: int, result: ExportResult) -> None:
    """An invoice now exists (or was updated) in a provider."""


@hookspec
def invoice_status_changed(
    workspace_id: int, connection_id: int, invoice_id: int, old: str, new: str, remote: RemoteInvoice
) -> None:
    """The provider reports a new status for an exported invoice (paid, void, deleted...)."""


@hookspec
def connection_changed(workspace_id: int, connection_id: int, old: str, new: str, reason: str) -> None:
    """A connection was connected, needs reconnecting, or was disconnected."""


@hookspec
def sync_run_finished(workspace_id: int, run_id: int, kind: str, state: str, counts: dict[str, int]) -> None:
    """A sync run ended (done, failed or cancelled), with its counts."""


# --------------------------------------------------------------------------- application


@hookspec
def route_handlers() -> list[Any]:
    """Litestar route handlers or routers to mount in the server (the admin UI uses this)."""
