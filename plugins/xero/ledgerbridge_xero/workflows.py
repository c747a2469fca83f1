"""What each provider hook does in Xero, step by step, on top of `client` and `mapping`.

The rules that protect a customer's books live here: never let a create update something that is
already in Xero (contacts and batches use PUT, create-only; a single invoice checks its number first);
send every write with an
`Idempotency-Key` from the core's key (a batch's key derived from its invoices' keys), so a retry after
a lost answer replays instead of writing twice; withdraw an invoice the way Xero allows for its status
(delete a draft, void an approved one); read changes with `If-Modified-Since` from Xero's own clock,
with an overlap, page by page (status polls: from the newest change seen, see `_poll_changes`).

Cursors are strings this module alone reads: `page:<n>|<since>|<started>` continues a paged read (the
next page, the modified-since of this read or empty for a full one, and Xero's time when the read
began), and `since:<iso>` asks only for what changed since then. Status polls keep
`seen:<newest UpdatedDateUTC>|<invoices seen at that instant>|<page at that instant>`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ledgerbridge.errors import ProviderError
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
)

from ledgerbridge_xero import mapping
from ledgerbridge_xero.client import (
    PAGE_SIZE,
    Answer,
    XeroClient,
    ms_datetime,
    validation_error,
    validation_messages,
)

Json = dict[str, Any]
T = TypeVar("T")
#: Re-read this much before the last read's start: Xero's modified-since is not a transaction log, and
#: a change committed while we read must not fall between two reads. Unchanged re-reads cost nothing.
OVERLAP = timedelta(minutes=1)
IDS_PER_CALL = 40  # keeps `IDs=` URLs well under common URL limits
BATCH_MAX = 50  # Xero's recommended batch size (FACTS Xero 5)
INVOICE_WRITE = {"unitdp": "4"}

#: ItemID -> the item, per organisation: invoice lines need the item's Code, and Xero items change rarely.
#: Filled by imports and item exports; a miss is read from Xero.
_ITEMS: dict[tuple[str, str], Json] = {}


def _remember_item(tenant_id: str, row: Json) -> None:
    if row.get("ItemID"):
        _ITEMS[(tenant_id, str(row["ItemID"]))] = row


def where_string(value: str) -> str:
    """A string literal for Xero's `where` (double quotes, backslash-escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- cursors


def _parse_cursor(cursor: str | None) -> tuple[int, datetime | None, datetime | None]:
    if not cursor:
        return 1, None, None
    if cursor.startswith("since:"):
        return 1, datetime.fromisoformat(cursor[6:]), None
    if cursor.startswith("page:"):
        page, since, started = cursor[5:].split("|")
        return (int(page), datetime.fromisoformat(since) if since else None,
                datetime.fromisoformat(started) if started else None)
    return 1, None, None  # an unknown cursor (older plugin): read everything again


# An import reads every contact: the largest page Xero is known to give means a tenth of the requests
# (and of the 60 a minute) the default size costs.
CONTACTS_PAGE_SIZE = 1000


def _changes_cursor(started: datetime) -> str:
    return f"since:{(started - OVERLAP).isoformat()}"


def _page_cursor(page: int, since: datetime | None, started: datetime) -> str:
    return f"page:{page}|{since.isoformat() if since else ''}|{started.isoformat()}"


async def paged(client: XeroClient, tail: str, key: str, cursor: str | None, params: dict[str, str],
                convert: Callable[[Json], T | None], page_size: int | None = None) -> Page[T]:
    """One page of a paged collection (Contacts, Invoices), full or modified-since.

    Without `page_size`, Xero's default (100), its documented size. With it, `pageSize` asks for more
    (the maximum, 1000 as commonly cited, is UNCONFIRMED: FACTS Xero 4); the pages are counted from
    the answer's `pagination`, so a provider that caps the size lower only means more pages."""
    page, since, started = _parse_cursor(cursor)
    asked = {**params, "page": str(page), **({"pageSize": str(page_size)} if page_size else {})}
    answer = await client.send("GET", tail, params=asked, since=since)
    started = started or answer.server_time
    rows = [row for row in answer.body.get(key) or [] if isinstance(row, dict)]
    records = [record for row in rows if (record := convert(row)) is not None]
    pagination = answer.body.get("pagination") or {}
    # Without pagination in the answer: a page as full as the default size may have a next one.
    count = int(pagination.get("pageCount") or (page + 1 if len(rows) >= PAGE_SIZE else page))
    if page < count:
        # Pages are numbered and counted: the one after next is known, and asked for only if it exists.
        return Page(records, next_cursor=_page_cursor(page + 1, since, started),
                    after_next=_page_cursor(page + 2, since, started) if page + 1 < count else None)
    return Page(records, cursor=_changes_cursor(started))


# --------------------------------------------------------------------------- importing


async def import_customers(client: XeroClient, cursor: str | None) -> Page[RemoteCustomer]:
    """Archived contacts come too (`includeArchived`), so the core archives its copy."""

    def convert(row: Json) -> RemoteCustomer | None:
        return mapping.remote_customer(row) if mapping.is_customer(row) else None

    return await paged(client, "Contacts", "Contacts", cursor, {"includeArchived": "true"}, convert,
                       page_size=CONTACTS_PAGE_SIZE)


async def import_items(client: XeroClient, cursor: str | None) -> Page[RemoteItem]:
    """Items are not paged; a modified-since read returns only changed ones. Purchase-only items are
    left out: an invoice line cannot use them."""
    _, since, _ = _parse_cursor(cursor)
    answer = await client.send("GET", "Items", since=since)
    records = []
    for row in answer.body.get("Items") or []:
        _remember_item(client.session.tenant_id, row)
        if row.get("IsSold", True) is not False:
            records.append(mapping.remote_item(row))
    return Page(records, cursor=_changes_cursor(answer.server_time))


async def import_accounts(client: XeroClient, cursor: str | None) -> Page[RemoteAccount]:
    answer = await client.send("GET", "Accounts", params={"where": 'Class=="REVENUE"'})
    rows = [row for row in answer.body.get("Accounts") or [] if mapping.is_income_account(row)]
    return Page([mapping.remote_account(row) for row in rows])


async def import_tax_rates(client: XeroClient, cursor: str | None) -> Page[RemoteTaxRate]:
    answer = await client.send("GET", "TaxRates")
    rows = [row for row in answer.body.get("TaxRates") or [] if mapping.is_sales_tax_rate(row)]
    return Page([mapping.remote_tax_rate(row) for row in rows])


# --------------------------------------------------------------------------- customers and items


def _first(answer: Answer, key: str) -> Json:
    rows = answer.body.get(key) or []
    if not rows or not isinstance(rows[0], dict):
        raise ProviderError(f"Xero answered without the {key[:-1].lower()} it saved.", code="validation_failed")
    return rows[0]


async def export_customer(client: XeroClient, customer: CustomerData, link: LinkRef | None, key: str) -> ExportResult:
    """Create with PUT; a name Xero already has is linked when it is plainly the same customer."""
    body = mapping.customer_body(customer)
    what = f"the customer “{customer.name}”"
    if link is not None:
        answer = await client.send("POST", f"Contacts/{link.remote_id}", body={"Contacts": [body]}, key=key,
                                   subject=what)
        row = _first(answer, "Contacts")
        return ExportResult(remote_id=str(row["ContactID"]), version=mapping.version(row), created=False,
                            record=mapping.remote_customer(row))
    try:
        row = _first(await client.send("PUT", "Contacts", body={"Contacts": [body]}, key=key, subject=what), "Contacts")
    except ProviderError as exc:
        if exc.code != "duplicate_name":
            raise
        same = await _same_customer(client, customer)
        if same is None:
            raise ProviderError(
                f"Xero already has a different contact named “{customer.name}”.", code="duplicate_name",
                fix="Rename one of them, or give this customer the same email as the Xero contact to link them.",
                status=exc.status, provider_code=exc.provider_code) from exc
        return ExportResult(remote_id=str(same["ContactID"]), version=mapping.version(same), created=False,
                            record=mapping.remote_customer(same),
                            warnings=(f"Linked to the existing Xero contact “{same.get('Name')}”.",))
    return ExportResult(remote_id=str(row["ContactID"]), version=mapping.version(row), created=True,
                        record=mapping.remote_customer(row))


async def _same_customer(client: XeroClient, customer: CustomerData) -> Json | None:
    answer = await client.send("GET", "Contacts", params={"where": f"Name=={where_string(customer.name.strip())}"})
    for row in answer.body.get("Contacts") or []:
        theirs = str(row.get("EmailAddress") or "").strip().lower()
        ours = customer.email.strip().lower()
        if not ours or not theirs or ours == theirs:
            return row
    return None


async def export_item(client: XeroClient, item: ItemData, link: LinkRef | None, key: str) -> ExportResult:
    """Items are keyed by their unique `Code`: POST /Items creates or updates the item with our code, so an
    item with our code is our item (the code is derived from our item's name)."""
    code = mapping.item_code(item.name)
    body = mapping.item_body(item, code)
    what = f"the item “{item.name}”"
    if link is not None:
        answer = await client.send("POST", f"Items/{link.remote_id}", body={"Items": [body]}, key=key, subject=what)
    else:
        answer = await client.send("POST", "Items", body={"Items": [body]}, key=key, subject=what)
    row = _first(answer, "Items")
    _remember_item(client.session.tenant_id, row)
    return ExportResult(remote_id=str(row["ItemID"]), version=mapping.version(row), number=code,
                        created=link is None, record=mapping.remote_item(row))


async def _items_of(client: XeroClient, invoices: list[InvoiceData]) -> dict[str, Json]:
    tenant = client.session.tenant_id
    wanted = {line.item_id for invoice in invoices for line in invoice.lines if line.item_id}
    missing = sorted(i for i in wanted if (tenant, i) not in _ITEMS)
    for start in range(0, len(missing), IDS_PER_CALL):
        answer = await client.send("GET", "Items", params={"IDs": ",".join(missing[start:start + IDS_PER_CALL])})
        for row in answer.body.get("Items") or []:
            _remember_item(tenant, row)
    return {i: _ITEMS[(tenant, i)] for i in wanted if (tenant, i) in _ITEMS}


# --------------------------------------------------------------------------- invoices


def _invoice_what(invoice: InvoiceData) -> str:
    return f"invoice {invoice.number}" if invoice.number else "the invoice"


def _invoice_result(client: XeroClient, row: Json, created: bool, invoice: InvoiceData | None = None) -> ExportResult:
    remote = remote_invoice(client, row)
    warnings: list[str] = []
    base = str(client.session.provider_data.get("base_currency") or "")
    if invoice is not None and base and invoice.currency and invoice.currency != base:
        warnings.append(f"Exported in {remote.currency or base}: Xero invoices take the contact's currency, and "
                        f"this invoice is in {invoice.currency}.")
    return ExportResult(remote_id=remote.remote_id, version=remote.version, number=remote.number, created=created,
                        record=remote, warnings=tuple(warnings))


def remote_invoice(client: XeroClient, row: Json) -> RemoteInvoice:
    return mapping.remote_invoice(row, web=client.web, short_code=str(client.session.provider_data.get("short_code")
                                                                          or ""))


def _status(as_draft: bool, creating: bool) -> str | None:
    """New invoices are DRAFT or AUTHORISED as the connection says. An update of a draft export keeps
    whatever Xero has (the bookkeeper may have approved it); an approved export approves a draft."""
    if as_draft:
        return "DRAFT" if creating else None
    return "AUTHORISED"


async def export_invoice(client: XeroClient, invoice: InvoiceData, link: LinkRef | None, key: str,
                         as_draft: bool) -> ExportResult:
    """Create or update one invoice.

    A create is `POST /Invoices` (Xero's create-or-update) after checking that the number is free: POST
    would otherwise update a bookkeeper's invoice that already carries our number. The check costs one
    read; the `Idempotency-Key` makes a resend after a lost answer replay instead of writing again.
    """
    problem = mapping.missing_tax_rate(invoice)
    if problem is not None:
        raise problem
    items = await _items_of(client, [invoice])
    default = client.session.options.default_income_account_id
    body = mapping.invoice_body(invoice, status=_status(as_draft, link is None), items=items, default_account=default)
    what = _invoice_what(invoice)
    if link is not None:
        answer = await client.send("POST", f"Invoices/{link.remote_id}", params=INVOICE_WRITE,
                                   body={"Invoices": [body]}, key=key, subject=what, number=invoice.number)
    else:
        if "InvoiceNumber" in body and await find_invoice(client, invoice.number) is not None:
            raise validation_error(["Invoice # must be unique."], subject=what, number=invoice.number)
        answer = await client.send("POST", "Invoices", params=INVOICE_WRITE, body={"Invoices": [body]}, key=key,
                                   subject=what, number=invoice.number)
    return _invoice_result(client, _first(answer, "Invoices"), link is None, invoice)


def batch_key(keys: list[str]) -> str:
    """One key for the whole request, the same whenever the same invoices are sent with the same keys."""
    return "batch-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()


async def export_invoices_batch(client: XeroClient, invoices: list[tuple[InvoiceData, LinkRef | None, str]],
                                as_draft: bool) -> list[BatchOutcome]:
    """New invoices in one `PUT /Invoices?summarizeErrors=false`: each element answers for itself."""
    if len(invoices) > BATCH_MAX:
        raise ProviderError(f"At most {BATCH_MAX} invoices go in one Xero request.", code="validation_failed")
    outcomes: dict[int, BatchOutcome] = {}
    sending: list[tuple[int, InvoiceData, str]] = []
    for index, (invoice, link, key) in enumerate(invoices):
        problem = mapping.missing_tax_rate(invoice)
        if problem is not None:
            outcomes[index] = BatchOutcome(invoice.local_id, error=problem)
        elif link is not None:  # an update needs its own request
            try:
                result = await export_invoice(client, invoice, link, key, as_draft)
                outcomes[index] = BatchOutcome(invoice.local_id, result=result)
            except ProviderError as exc:
                if exc.code in ("rate_limited", "daily_limit", "token_expired", "token_revoked"):
                    raise
                outcomes[index] = BatchOutcome(invoice.local_id, error=exc)
        else:
            sending.append((index, invoice, key))
    if sending:
        items = await _items_of(client, [invoice for _, invoice, _ in sending])
        default = client.session.options.default_income_account_id
        bodies = [mapping.invoice_body(invoice, status=_status(as_draft, True), items=items, default_account=default)
                  for _, invoice, _ in sending]
        answer = await client.send("PUT", "Invoices", params={**INVOICE_WRITE, "summarizeErrors": "false"},
                                   body={"Invoices": bodies}, key=batch_key([key for _, _, key in sending]),
                                   subject=f"a batch of {len(bodies)} invoices")
        rows = answer.body.get("Invoices") or []
        if len(rows) != len(sending):
            raise ProviderError("Xero answered a batch with a different number of invoices than sent.",
                                code="validation_failed")
        for (index, invoice, _), row in zip(sending, rows, strict=True):
            if row.get("HasErrors") or row.get("StatusAttributeString") == "ERROR" or not row.get("InvoiceID"):
                error = validation_error(validation_messages(row), subject=_invoice_what(invoice),
                                         number=invoice.number)
                outcomes[index] = BatchOutcome(invoice.local_id, error=error)
            else:
                outcomes[index] = BatchOutcome(invoice.local_id, result=_invoice_result(client, row, True, invoice))
    return [outcomes[index] for index in range(len(invoices))]


async def _withdraw(client: XeroClient, link: LinkRef, key: str, wanted: str) -> ExportResult:
    """Delete a DRAFT/SUBMITTED invoice, void an AUTHORISED one (Xero allows nothing else); an invoice
    already withdrawn is left as it is, so a retry is harmless."""
    subject = f"invoice {link.remote_number}" if link.remote_number else "the invoice"
    row = _first(await client.send("GET", f"Invoices/{link.remote_id}", subject=subject), "Invoices")
    status = str(row.get("Status") or "")
    if status in ("VOIDED", "DELETED"):
        return _invoice_result(client, row, False)
    if status == "PAID" or (status == "AUTHORISED" and mapping.money(row.get("AmountPaid")) > 0):
        raise ProviderError(f"Xero cannot void {subject} while payments are allocated to it.",
                            code="validation_failed",
                            fix="Remove the payments in Xero first, then try again.", status=400)
    target = "DELETED" if status in ("DRAFT", "SUBMITTED") else "VOIDED"
    answer = await client.send("POST", f"Invoices/{link.remote_id}",
                               body={"Invoices": [{"InvoiceID": link.remote_id, "Status": target}]},
                               key=key, subject=subject)
    result = _invoice_result(client, _first(answer, "Invoices"), False)
    if wanted == "DELETED" and target == "VOIDED":
        return ExportResult(remote_id=result.remote_id, version=result.version, number=result.number, created=False,
                            record=result.record, warnings=("Xero cannot delete an approved invoice; it was voided.",))
    return result


async def void_invoice(client: XeroClient, link: LinkRef, key: str) -> ExportResult:
    return await _withdraw(client, link, key, "VOIDED")


async def delete_invoice(client: XeroClient, link: LinkRef, key: str) -> ExportResult:
    return await _withdraw(client, link, key, "DELETED")


async def find_invoice(client: XeroClient, number: str) -> RemoteInvoice | None:
    """By number among every sales invoice; voided and deleted ones keep their numbers, so they count."""
    answer = await client.send("GET", "Invoices", params={"InvoiceNumbers": number, "where": 'Type=="ACCREC"',
                                                          "page": "1"})
    rows = [row for row in answer.body.get("Invoices") or [] if row.get("InvoiceNumber") == number]
    if not rows:
        return None
    rows.sort(key=lambda row: row.get("Status") in ("VOIDED", "DELETED"))
    return remote_invoice(client, rows[0])


async def poll_invoices(client: XeroClient, cursor: str | None, remote_ids: list[str] | None) -> Page[RemoteInvoice]:
    if remote_ids:
        records: list[RemoteInvoice] = []
        for start in range(0, len(remote_ids), IDS_PER_CALL):
            chunk = remote_ids[start:start + IDS_PER_CALL]
            answer = await client.send("GET", "Invoices", params={"IDs": ",".join(chunk), "page": "1",
                                                                  "pageSize": str(PAGE_SIZE)})
            records.extend(remote_invoice(client, row) for row in answer.body.get("Invoices") or [])
        return Page(records)
    return await _poll_changes(client, cursor)


# --------------------------------------------------------------------------- status polls


def _seen_key(row: Json) -> str:
    """An invoice as read: its id and a digest of what it said. Only the same invoice saying the same
    thing at the watermark's instant is "already seen" (it could change again within that instant)."""
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{row.get('InvoiceID')}:{digest}"


def _poll_cursor(mark: datetime | None, boundary: set[str], page: int) -> str:
    return f"seen:{mark.isoformat() if mark else ''}|{','.join(sorted(boundary))}|{page}"


def _parse_poll_cursor(cursor: str | None) -> tuple[datetime | None, set[str], int]:
    """(newest UpdatedDateUTC seen, the invoices seen at exactly that instant, page at that instant)."""
    if cursor and cursor.startswith("seen:"):
        mark, ids, page = cursor[5:].split("|")
        return datetime.fromisoformat(mark) if mark else None, {i for i in ids.split(",") if i}, int(page)
    if cursor and cursor.startswith("since:"):  # an earlier version's cursor, already overlapped: safe
        return datetime.fromisoformat(cursor[6:]), set(), 1
    return None, set(), 1  # none, or a paged read of an earlier version: read everything again


async def _poll_changes(client: XeroClient, cursor: str | None) -> Page[RemoteInvoice]:
    """Sales invoices changed since the newest change already seen: one request when nothing changed.

    Why this cannot miss a change without re-reading a window: the request asks for invoices
    modified since the newest `UpdatedDateUTC` seen so far, oldest first (`order=UpdatedDateUTC`),
    so every page starts where the previous one ended instead of at an offset that shifts when an
    invoice changes during the read; an invoice changed after a read gets a later `UpdatedDateUTC`
    than anything that read returned, or the same instant, which is why the watermark's own
    instant is asked for again (one millisecond earlier: Xero's modified-since is "later than") and
    the invoices already seen at that instant, saying the same (`_seen_key`), are dropped. The watermark is Xero's own
    clock, read off the records, never ours. An invoice's payments come inside the invoice, and
    paying, or deleting a payment, moves the invoice's `UpdatedDateUTC`: no request per payment.
    """
    mark, boundary, page = _parse_poll_cursor(cursor)
    since = mark - timedelta(milliseconds=1) if mark else None
    answer = await client.send("GET", "Invoices", params={"where": 'Type=="ACCREC"', "order": "UpdatedDateUTC ASC",
                                                          "page": str(page)}, since=since)
    rows = [row for row in answer.body.get("Invoices") or [] if isinstance(row, dict)]
    newest, at_newest, records = mark, set(boundary), []
    for row in rows:
        moment = ms_datetime(row.get("UpdatedDateUTC"))
        key = _seen_key(row)
        if moment is not None and mark is not None and (moment < mark or (moment == mark and key in boundary)):
            continue  # already seen: asked for again only because the watermark's instant is
        records.append(remote_invoice(client, row))
        if moment is None:
            continue
        if newest is None or moment > newest:
            newest, at_newest = moment, {key}
        elif moment == newest:
            at_newest.add(key)
    pagination = answer.body.get("pagination") or {}
    more = page < int(pagination.get("pageCount") or (page + 1 if len(rows) >= PAGE_SIZE else page))
    if not more:
        return Page(records, cursor=_poll_cursor(newest, at_newest, 1))
    # A full page: go on from its newest invoice, or to the next page when a whole page shared one instant.
    following = _poll_cursor(newest, at_newest, page + 1 if newest == mark else 1)
    return Page(records, next_cursor=following)


# --------------------------------------------------------------------------- payments


async def _payment_account(client: XeroClient) -> str:
    configured = client.session.provider_data.get("payment_account_code")
    if configured:
        return str(configured)
    answer = await client.send("GET", "Accounts", params={"where": 'Type=="BANK" AND Status=="ACTIVE"'})
    for row in answer.body.get("Accounts") or []:
        if row.get("Code"):
            return str(row["Code"])
    raise ProviderError("This Xero organisation has no bank account to record payments into.",
                        code="validation_failed", fix="Add a bank account in Xero, then export the payment again.")


async def export_payment(client: XeroClient, payment: PaymentData, link: LinkRef | None, key: str) -> ExportResult:
    """Xero payments cannot be edited, only deleted and recreated: a linked payment is left as it is."""
    if link is not None:
        return ExportResult(remote_id=link.remote_id, version=link.remote_version, created=False,
                            warnings=("Xero does not allow editing a payment; the one in Xero was left unchanged.",))
    account = await _payment_account(client)
    answer = await client.send("PUT", "Payments", body={"Payments": [mapping.payment_body(payment, account)]}, key=key,
                               subject="the payment")
    row = _first(answer, "Payments")
    return ExportResult(remote_id=str(row["PaymentID"]), version=mapping.version(row), created=True)


async def void_payment(client: XeroClient, link: LinkRef, key: str) -> ExportResult:
    """Xero takes a payment back only by deleting it: `POST /Payments/{id}` with Status DELETED (FACTS
    Xero 3), after which the invoice owes the amount again. Xero keeps a deleted payment, `DELETED`:
    one already deleted (or unknown there) is answered as done and `already_removed`, also when the
    bookkeeper deleted it between this read and the delete (Xero then refuses the second delete)."""
    subject = "the payment"
    row = await _payment_if_there(client, link, subject)
    if row is None or str(row.get("Status") or "") == "DELETED":
        return _payment_already_removed(link, row)
    try:
        answer = await client.send("POST", f"Payments/{link.remote_id}",
                                   body={"Status": "DELETED"},  # the spec's PaymentDelete: the status alone
                                   key=key, subject=subject)
    except ProviderError as exc:
        if exc.retryable:
            raise
        now = await _payment_if_there(client, link, subject)
        if now is None or str(now.get("Status") or "") == "DELETED":
            return _payment_already_removed(link, now)
        raise
    row = _first(answer, "Payments")
    return ExportResult(remote_id=link.remote_id, version=mapping.version(row), created=False,
                        warnings=("Xero has no void for payments; it was deleted there.",))


async def _payment_if_there(client: XeroClient, link: LinkRef, subject: str) -> Json | None:
    """The payment as Xero holds it (a deleted one too), or None when Xero answers 404 for it."""
    try:
        return _first(await client.send("GET", f"Payments/{link.remote_id}", subject=subject), "Payments")
    except ProviderError as exc:
        if exc.code == "remote_not_found":
            return None
        raise


def _payment_already_removed(link: LinkRef, row: Json | None) -> ExportResult:
    return ExportResult(remote_id=link.remote_id, version=mapping.version(row) if row else link.remote_version,
                        created=False, already_removed=True, warnings=("The payment was already deleted in Xero.",))


# --------------------------------------------------------------------------- links


def record_url(provider_data: dict[str, Any], web: str, record_type: str, remote_id: str) -> str | None:
    if record_type != "invoice":
        return None
    base = str(provider_data.get("app_url") or web)
    return mapping.invoice_deep_link(base, str(provider_data.get("short_code") or ""), remote_id) or None
