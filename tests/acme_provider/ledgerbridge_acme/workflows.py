"""What each hook does in Acme Books, step by step, on top of `client` and `mapping`.

Imports read page by page and then only what changed: a cursor is a string this module alone reads.
`page:<n>|<since>|<started>` continues a read (the next page, the `updated_since` of this read or
empty for a full one, and Acme Books's clock when the read began); `since:<iso>` asks for what changed
since then. The change cursor starts a little before the read began, so a change committed while we
were reading is read again next time rather than lost; reading a record twice changes nothing.

The export and read-back steps are not written yet: each raises `NotSupported` naming what to build
(README.md, "What to fill in next"). The end-to-end suite (`tests/e2e`) shows them failing with that
message until they exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ledgerbridge.errors import NotSupported
from ledgerbridge.provider import (
    CustomerData,
    ExportResult,
    InvoiceData,
    ItemData,
    LinkRef,
    Page,
    PaymentData,
    RemoteAccount,
    RemoteCustomer,
    RemoteInvoice,
    RemoteItem,
    RemoteTaxRate,
    Tenant,
)
from ledgerbridge.settings import ProviderSettings

from ledgerbridge_acme import mapping
from ledgerbridge_acme.client import PROVIDER, WEB_URL, ApiClient, companies, endpoints

Json = dict[str, Any]
T = TypeVar("T")

#: How far before a read's start the next change read begins (see the module docstring).
OVERLAP = timedelta(minutes=1)


def not_written(hook: str, what: str) -> NotSupported:
    """The author's to-do list, as the error a run shows until the hook is written."""
    return NotSupported(
        f"{PROVIDER}: {hook} is not written yet.",
        fix=f"Write {hook} in {__name__}: {what} (README.md, 'What to fill in next').",
    )


# --------------------------------------------------------------------------- cursors


def parse_cursor(cursor: str | None) -> tuple[int, datetime | None, datetime | None]:
    """(page, since, started) of a cursor; anything unknown reads everything again."""
    if cursor and cursor.startswith("since:"):
        return 1, datetime.fromisoformat(cursor[6:]), None
    if cursor and cursor.startswith("page:"):
        page, since, started = cursor[5:].split("|")
        return (int(page), datetime.fromisoformat(since) if since else None,
                datetime.fromisoformat(started) if started else None)
    return 1, None, None


def page_cursor(page: int, since: datetime | None, started: datetime) -> str:
    return f"page:{page}|{since.isoformat() if since else ''}|{started.isoformat()}"


def changes_cursor(started: datetime) -> str:
    return f"since:{(started - OVERLAP).isoformat()}"


async def paged(client: ApiClient, collection: str, cursor: str | None, convert: Callable[[Json], T],
                filters: dict[str, str] | None = None) -> Page[T]:
    """One page of a collection: the next page's cursor while there is one, then the change cursor."""
    page, since, started = parse_cursor(cursor)
    answer = await client.list_page(collection, page, since, filters)
    started = started or answer.server_time
    rows = [row for row in answer.body.get("data") or [] if isinstance(row, dict)]
    meta = answer.body.get("meta") or {}
    records = [convert(row) for row in rows]
    if page < int(meta.get("pages") or page):
        return Page(records, next_cursor=page_cursor(page + 1, since, started))
    return Page(records, cursor=changes_cursor(started))


# --------------------------------------------------------------------------- connecting


async def connected_tenants(settings: ProviderSettings, access_token: str) -> list[Tenant]:
    """The companys of this consent, with what `record_url` needs later."""
    rows = await companies(settings, access_token)
    if not rows:
        raise NotSupported(f"The {PROVIDER} consent covered no company.",
                           fix="Connect again and choose a company.")
    web = endpoints(settings).web
    return [Tenant(id=str(row["id"]), name=str(row.get("name") or row["id"]), currency=str(row.get("currency") or ""),
                   extra={"company_id": str(row["id"]), "web_url": web}) for row in rows]


# --------------------------------------------------------------------------- importing


async def import_customers(client: ApiClient, cursor: str | None) -> Page[RemoteCustomer]:
    """Inactive customers come too: the core archives its copy instead of keeping a stale one."""
    return await paged(client, "customers", cursor, mapping.remote_customer)


async def import_items(client: ApiClient, cursor: str | None) -> Page[RemoteItem]:
    return await paged(client, "items", cursor, mapping.remote_item)


async def import_accounts(client: ApiClient, cursor: str | None) -> Page[RemoteAccount]:
    """Income accounts only: an invoice line can credit nothing else."""
    return await paged(client, "accounts", cursor, mapping.remote_account,
                       {"type": ",".join(mapping.INCOME_ACCOUNT_TYPES)})


async def import_tax_rates(client: ApiClient, cursor: str | None) -> Page[RemoteTaxRate]:
    return await paged(client, "tax_rates", cursor, mapping.remote_tax_rate)


def record_url(provider_data: dict[str, Any], record_type: str, remote_id: str) -> str | None:
    """Where a person opens the record in Acme Books (the sandbox serves the same path)."""
    web = str(provider_data.get("web_url") or WEB_URL).rstrip("/")
    return f"{web}/companies/{provider_data.get('company_id', '')}/{record_type}s/{remote_id}" if remote_id else None


# --------------------------------------------------------------------------- exporting: to write


async def export_customer(client: ApiClient, customer: CustomerData, link: LinkRef | None,
                          idempotency_key: str) -> ExportResult:
    raise not_written("export_customer", "POST customers (`mapping.customer_body`) when `link` is None, else "
                      "PATCH customers/<link.remote_id>; without native idempotency, look the customer up by "
                      "email first so a retried create cannot make a second one")


async def export_item(client: ApiClient, item: ItemData, link: LinkRef | None, idempotency_key: str) -> ExportResult:
    raise not_written("export_item", "POST or PATCH items (`mapping.item_body`), looking the item up by name "
                      "before a create")


async def export_invoice(client: ApiClient, invoice: InvoiceData, link: LinkRef | None,
                         idempotency_key: str) -> ExportResult:
    raise not_written("export_invoice", "create the invoice (or update the linked one) with its lines, and return "
                      "the provider's copy as ExportResult.record; add invoices to the sandbox first")


async def export_payment(client: ApiClient, payment: PaymentData, link: LinkRef | None,
                         idempotency_key: str) -> ExportResult:
    raise not_written("export_payment", "record a payment against the exported invoice")


async def void_invoice(client: ApiClient, link: LinkRef, idempotency_key: str) -> ExportResult:
    raise not_written("void_invoice", "void the invoice so it stays with a zero amount")


async def delete_invoice(client: ApiClient, link: LinkRef, idempotency_key: str) -> ExportResult:
    raise not_written("delete_invoice", "delete the invoice where the provider allows it")


async def find_invoice(client: ApiClient, number: str) -> RemoteInvoice | None:
    raise not_written("find_invoice", "look an invoice up by number (the core asks before retrying an "
                      "uncertain create)")


async def poll_invoices(client: ApiClient, cursor: str | None, remote_ids: list[str] | None) -> Page[RemoteInvoice]:
    raise not_written("poll_invoices", "read the exported invoices' status, totals, balance and payments, "
                      "by id or changed since `cursor`")
