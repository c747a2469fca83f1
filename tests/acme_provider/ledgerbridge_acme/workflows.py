"""What each hook does in Acme Books, step by step, on top of `client` and `mapping`.

Imports read page by page and then only what changed: a cursor is a string this module alone reads.
`page:<n>|<since>|<started>` continues a read (the next page, the `updated_since` of this read or
empty for a full one, and Acme Books's clock when the read began); `since:<iso>` asks for what changed
since then. The change cursor starts a little before the read began, so a change committed while we
were reading is read again next time rather than lost; reading a record twice changes nothing.

Exports carry the core's idempotency key as Acme's `Idempotency-Key` header (a batch item carries its
own), so a retried write replays the first answer instead of creating a second record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ledgerbridge.errors import NotSupported, ProviderError
from ledgerbridge.provider import (
    BatchOutcome,
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
    TimeEntryData,
)
from ledgerbridge.settings import ProviderSettings

from ledgerbridge_acme import mapping
from ledgerbridge_acme.client import PROVIDER, WEB_URL, Answer, ApiClient, companies, endpoints, refusal

Json = dict[str, Any]
T = TypeVar("T")

#: How far before a read's start the next change read begins (see the module docstring).
OVERLAP = timedelta(minutes=1)


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
    pages = int(meta.get("pages") or page)
    if page < pages:
        return Page(records, next_cursor=page_cursor(page + 1, since, started),
                    after_next=page_cursor(page + 2, since, started) if page + 1 < pages else None)
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
    """Where a person opens the record in Acme Books: `<web>/<record type>/<id>`."""
    web = str(provider_data.get("web_url") or WEB_URL).rstrip("/")
    return f"{web}/{record_type}/{remote_id}" if remote_id else None


# --------------------------------------------------------------------------- exporting


def _result(answer: Answer, created: bool, convert: Callable[[Json], Any] | None = None) -> ExportResult:
    row = answer.body.get("data") or {}
    return ExportResult(remote_id=str(row["id"]), version=str(row.get("version") or ""),
                        number=str(row.get("number") or ""), created=created,
                        record=convert(row) if convert else None)


async def _write(client: ApiClient, collection: str, body: Json, link: LinkRef | None, key: str, subject: str,
                 convert: Callable[[Json], Any] | None = None) -> ExportResult:
    """POST a new record, or PATCH the linked one, under the core's idempotency key."""
    if link is None:
        answer = await client.send("POST", collection, body=body, subject=subject, idempotency_key=key)
    else:
        answer = await client.send("PATCH", f"{collection}/{link.remote_id}", body=body, subject=subject,
                                   idempotency_key=key)
    return _result(answer, link is None, convert)


async def export_customer(client: ApiClient, customer: CustomerData, link: LinkRef | None,
                          idempotency_key: str) -> ExportResult:
    return await _write(client, "customers", mapping.customer_body(customer), link, idempotency_key,
                        f"the customer {customer.name}")


async def export_item(client: ApiClient, item: ItemData, link: LinkRef | None, idempotency_key: str) -> ExportResult:
    return await _write(client, "items", mapping.item_body(item), link, idempotency_key, f"the item {item.name}")


async def export_invoice(client: ApiClient, invoice: InvoiceData, link: LinkRef | None,
                         idempotency_key: str) -> ExportResult:
    return await _write(client, "invoices", mapping.invoice_body(invoice), link, idempotency_key,
                        f"invoice {invoice.number}", mapping.remote_invoice)


async def export_invoices_batch(client: ApiClient, invoices: list[tuple[InvoiceData, LinkRef | None, str]]
                                ) -> list[BatchOutcome]:
    """One batch request; each invoice carries its own key, so a retried batch replays item by item."""
    entries = [{"idempotency_key": key, "id": link.remote_id if link else None,
                "invoice": mapping.invoice_body(invoice)} for invoice, link, key in invoices]
    answer = await client.send("POST", "batch", body={"invoices": entries}, subject="the batch of invoices")
    results = answer.body.get("results") or []
    outcomes = []
    for (invoice, link, _), result in zip(invoices, results, strict=True):
        if isinstance(result, dict) and isinstance(result.get("data"), dict):
            row = result["data"]
            outcomes.append(BatchOutcome(local_id=invoice.local_id, result=ExportResult(
                remote_id=str(row["id"]), version=str(row.get("version") or ""), number=str(row.get("number") or ""),
                created=link is None, record=mapping.remote_invoice(row))))
        else:
            error = result.get("error") if isinstance(result, dict) else None
            outcomes.append(BatchOutcome(local_id=invoice.local_id,
                                         error=refusal(error, f"invoice {invoice.number}")))
    return outcomes


async def export_payment(client: ApiClient, payment: PaymentData, link: LinkRef | None,
                         idempotency_key: str) -> ExportResult:
    """Acme's payments cannot be edited: a linked payment is read back as it stands."""
    if link is not None:
        return _result(await client.send("GET", f"payments/{link.remote_id}"), False)
    answer = await client.send("POST", "payments", body=mapping.payment_body(payment), subject="the payment",
                               idempotency_key=idempotency_key)
    return _result(answer, True)


async def void_payment(client: ApiClient, link: LinkRef, idempotency_key: str) -> ExportResult:
    """Acme keeps a void payment, marked void, and a deleted one, flagged `deleted`: either (or one it
    no longer has, or one removed between this read and the void) is answered as done, `already_removed`."""
    current = await _payment_if_there(client, link)
    if current is None or _removed(current):
        return _payment_already_removed(link, current)
    try:
        answer = await client.send("POST", f"payments/{link.remote_id}/void", subject="the payment",
                                   idempotency_key=idempotency_key)
    except ProviderError as exc:
        if exc.retryable:
            raise
        now = await _payment_if_there(client, link)
        if now is None or _removed(now):
            return _payment_already_removed(link, now)
        raise
    return _result(answer, False)


async def _payment_if_there(client: ApiClient, link: LinkRef) -> Answer | None:
    try:
        return await client.send("GET", f"payments/{link.remote_id}", subject="the payment")
    except ProviderError as exc:
        if exc.code == "remote_not_found":
            return None
        raise


def _removed(answer: Answer) -> bool:
    row = answer.body.get("data") or {}
    return bool(row.get("deleted")) or row.get("status") == "void"


def _payment_already_removed(link: LinkRef, answer: Answer | None) -> ExportResult:
    if answer is None:
        return ExportResult(remote_id=link.remote_id, version=link.remote_version, created=False, already_removed=True)
    return replace(_result(answer, False), already_removed=True)


async def export_time_entry(client: ApiClient, entry: TimeEntryData, link: LinkRef | None,
                            idempotency_key: str) -> ExportResult:
    return await _write(client, "time_entries", mapping.time_entry_body(entry), link, idempotency_key,
                        f"the time entry of {entry.person}")


async def void_invoice(client: ApiClient, link: LinkRef, idempotency_key: str) -> ExportResult:
    """Acme keeps a void invoice, at zero."""
    answer = await client.send("POST", f"invoices/{link.remote_id}/void", subject="the invoice",
                               idempotency_key=idempotency_key)
    return _result(answer, False, mapping.remote_invoice)


async def delete_invoice(client: ApiClient, link: LinkRef, idempotency_key: str) -> ExportResult:
    answer = await client.send("DELETE", f"invoices/{link.remote_id}", subject="the invoice",
                               idempotency_key=idempotency_key)
    return _result(answer, False, mapping.remote_invoice)


async def find_invoice(client: ApiClient, number: str) -> RemoteInvoice | None:
    answer = await client.send("GET", "invoices", params={"number": number})
    rows = [row for row in answer.body.get("data") or [] if isinstance(row, dict) and not row.get("deleted")]
    return mapping.remote_invoice(rows[0]) if rows else None


async def poll_invoices(client: ApiClient, cursor: str | None, remote_ids: list[str] | None) -> Page[RemoteInvoice]:
    """The named invoices, or every invoice changed since the cursor (deleted ones included)."""
    filters = {"ids": ",".join(remote_ids)} if remote_ids else None
    return await paged(client, "invoices", cursor, mapping.remote_invoice, filters)
