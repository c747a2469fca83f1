"""What each provider hook does in QuickBooks Online, step by step, on top of `client` and `mapping`.

The rules that protect a customer's books live here: look a name up before creating (QBO names are
unique, and an item with our name *is* our item), never merge two different customers silently,
update with the stored SyncToken and stop on a conflict instead of overwriting, send every write
with a `requestid` derived from the core's idempotency key, and read changes through CDC with a
cursor that falls back to a full read when QBO no longer has the window.

Cursors are strings this module alone reads: `full:<position>:<since>` continues a paged read (the
1-based STARTPOSITION of the next page, and the server time the read started at), and `cdc:<since>`
asks only for what changed since that server time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ledgerbridge.errors import ProviderError, UncertainWrite
from ledgerbridge.provider import (
    BatchOutcome,
    CustomerData,
    ExportResult,
    InvoiceData,
    ItemData,
    LinkRef,
    Page,
    PaymentData,
    ProviderSession,
    RemoteInvoice,
    TimeEntryData,
)

from ledgerbridge_quickbooks import mapping
from ledgerbridge_quickbooks.client import CDC_MAX_OBJECTS, QboClient, quote, read_fault, translate_fault

Json = dict[str, Any]
REQUESTID_MAX = 50
BATCH_REQUESTID_MAX = 36
APP_URLS = {"production": "https://app.qbo.intuit.com", "sandbox": "https://app.sandbox.qbo.intuit.com"}


def derived_key(key: str, suffix: str, limit: int = REQUESTID_MAX) -> str:
    """A second requestid for a follow-up write of the same operation (stable across retries)."""
    candidate = f"{key}-{suffix}"
    if len(candidate) <= limit:
        return candidate
    return hashlib.sha256(candidate.encode()).hexdigest()[:limit]


def record_url(provider_data: dict[str, Any], environment: str, record_type: str, remote_id: str) -> str | None:
    """QBO's staff pages; against a sandbox, the sandbox's own invoice page (it serves only invoices)."""
    sandbox = str(provider_data.get("app_url") or "").rstrip("/")
    if sandbox:
        if record_type != "invoice":
            return None
        realm = provider_data.get("realm_id")
        return f"{sandbox}/app/invoice?txnId={remote_id}" + (f"&companyId={realm}" if realm else "")
    base = APP_URLS["sandbox" if environment == "sandbox" else "production"]
    pages = {"invoice": "invoice?txnId=", "payment": "recvpayment?txnId=", "customer": "customerdetail?nameId="}
    page = pages.get(record_type)
    return f"{base}/app/{page}{remote_id}" if page else None


# --------------------------------------------------------------------------- reading


def overlap(time: str) -> str:
    """The next change read's start: QBO stamps changes to the second while its clock has milliseconds,
    so a record changed later in the same second as our read would fall before the cursor. Starting a
    second early re-reads a few unchanged records (skipped by fingerprint) and misses none."""
    try:
        moment = datetime.fromisoformat(time)
    except ValueError:
        return time
    return (moment.replace(microsecond=0) - timedelta(seconds=1)).isoformat()


async def read_page(client: QboClient, entity: str, where: str, cursor: str | None,
                    convert: Callable[[Json], Any], keep: Callable[[Json], bool] = lambda row: True,
                    changes: bool = True) -> Page[Any]:
    """One page of a full read, or every change since a `cdc:` cursor (one request)."""
    if changes and cursor and cursor.startswith("cdc:"):
        found = await _changes(client, [entity], cursor[4:])
        if found is not None:
            rows, time = found
            return Page([convert(row) for row in rows[entity] if keep(row)], None, f"cdc:{overlap(time)}")
        cursor = None
    start, since = 1, ""
    if cursor and cursor.startswith("full:"):
        _, position, since = cursor.split(":", 2)
        start = int(position)
    page = await client.query_page(entity, where, start)
    since = since or page.time
    records = [convert(row) for row in page.rows if keep(row)]
    change = f"cdc:{overlap(since)}" if changes else None
    if not page.full:
        return Page(records, None, change)
    # Positions count: the page after the next one starts a page further on, if the next is full too
    # (QBO gives no total, so a reader asking for it early may once ask past the end).
    following = start + len(page.rows)
    return Page(records, f"full:{following}:{since}", change, after_next=f"full:{following + client.page_size}:{since}")


async def _changes(client: QboClient, entities: list[str], since: str) -> tuple[dict[str, list[Json]], str] | None:
    """CDC, or None when a full read is needed: QBO refused the window (older than 30 days), or the
    answer hit QBO's object cap and may be missing changes."""
    try:
        rows, time = await client.cdc(entities, since)
    except ProviderError as exc:
        if exc.code == "validation_failed":
            return None
        raise
    if sum(len(r) for r in rows.values()) >= CDC_MAX_OBJECTS:
        return None
    return rows, time


async def import_tax_rates(client: QboClient, cursor: str | None) -> Page[Any]:
    """Tax codes are not in CDC, so every read is a full one (they are few)."""
    start = int(cursor.split(":")[1]) if cursor and cursor.startswith("full:") else 1
    page = await client.query_page("TaxCode", "Active = true", start)
    usable = mapping.line_usable_codes(page.rows)
    rates: dict[str, Any] = {}
    default_rate = mapping.ZERO
    if usable:
        response, _ = await client.query("SELECT * FROM TaxRate MAXRESULTS 1000")
        rates = {str(r["Id"]): mapping.money(r.get("RateValue")) for r in response.get("TaxRate") or []}
        if any(c.get("Id") == "TAX" for c in usable):
            default_rate = await _default_sales_tax(client, rates)
    next_cursor = f"full:{start + len(page.rows)}:" if page.full else None
    return Page([mapping.remote_tax_rate(c, rates, default_rate) for c in usable], next_cursor, None)


async def _default_sales_tax(client: QboClient, rates: dict[str, Any]) -> Any:
    """What TAX charges in a US company: the company's default sales tax code's rates."""
    prefs = await client.preferences()
    ref = ((prefs.get("TaxPrefs") or {}).get("TaxGroupCodeRef") or {}).get("value")
    if not ref:
        return mapping.ZERO
    response, _ = await client.query(f"SELECT * FROM TaxCode WHERE Id = {quote(str(ref))}")
    codes = response.get("TaxCode") or []
    return sum((rates.get(rid, mapping.ZERO) for c in codes for rid in mapping.code_rate_ids(c)), mapping.ZERO)


# --------------------------------------------------------------------------- writing


async def _stale(client: QboClient, entity_url: str, remote_id: str, what: str, exc: ProviderError) -> ProviderError:
    """After a 5010: read the current version so the message says what changed, never overwrite."""
    current = await client.read(entity_url, remote_id, subject=what)
    return ProviderError(
        f"{what[0].upper()}{what[1:]} was changed in QuickBooks since LedgerBridge last read it (QuickBooks is at "
        f"version {current.get('SyncToken', '?')}). Re-sync it to see QuickBooks' version before exporting again.",
        code="stale_object", status=exc.status, provider_code=exc.provider_code,
    )


async def _update(client: QboClient, entity_url: str, link: LinkRef, body: Json, key: str, what: str,
                  *, name: str = "", number: str = "") -> Json:
    version = link.remote_version
    if not version:
        version = str((await client.read(entity_url, link.remote_id, subject=what)).get("SyncToken", "0"))
    sparse = {**body, "Id": link.remote_id, "SyncToken": version, "sparse": True}
    try:
        return await client.write(entity_url, sparse, key, subject=what, name=name, number=number)
    except ProviderError as exc:
        if exc.code == "stale_object":
            raise await _stale(client, entity_url, link.remote_id, what, exc) from exc
        raise


async def _find_customer(client: QboClient, name: str) -> Json | None:
    response, _ = await client.query(
        f"SELECT * FROM Customer WHERE DisplayName = {quote(name)} AND Active IN (true, false)")
    rows = response.get("Customer") or []
    return rows[0] if rows else None


def _same_email(row: Json, customer: CustomerData) -> bool:
    theirs = mapping.customer_email(row).strip().casefold()
    return bool(customer.email) and theirs == customer.email.strip().casefold()


async def export_customer(client: QboClient, customer: CustomerData, link: LinkRef | None, key: str) -> ExportResult:
    what = f"the customer “{customer.name}”"
    if link is not None:
        try:
            row = await _update(client, "customer", link, mapping.customer_body(customer), key, what,
                                name=customer.name)
        except ProviderError as exc:
            if exc.code != "duplicate_name":
                raise
            # Created under a disambiguated name earlier: keep that name rather than collide again.
            name = mapping.disambiguated_name(customer)
            row = await _update(client, "customer", link, mapping.customer_body(customer, name),
                                derived_key(key, "n"), what, name=name)
        return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=False,
                            record=mapping.remote_customer(row))
    existing = await _find_customer(client, customer.name)
    name = customer.name
    warnings: tuple[str, ...] = ()
    if existing is not None:
        if _same_email(existing, customer):
            return _linked(existing, f"Linked to the existing QuickBooks customer “{customer.name}” "
                                     "(same name and email) instead of creating another.")
        name = mapping.disambiguated_name(customer)
        twin = await _find_customer(client, name)
        if twin is not None:
            if _same_email(twin, customer):
                return _linked(twin, f"Linked to the existing QuickBooks customer “{name}”.")
            raise ProviderError(f"QuickBooks already has different customers named “{customer.name}” and “{name}”.",
                                code="duplicate_name")
        warnings = (f"QuickBooks already has a different customer named “{customer.name}” (another email), so "
                    f"this one was created as “{name}”. Rename it in QuickBooks if you prefer another name.",)
    row = await client.write("customer", mapping.customer_body(customer, name), key, subject=what, name=name)
    return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=True,
                        record=mapping.remote_customer(row), warnings=warnings)


def _linked(row: Json, warning: str) -> ExportResult:
    return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=False,
                        record=mapping.remote_customer(row), warnings=(warning,))


async def export_item(client: QboClient, item: ItemData, link: LinkRef | None, key: str) -> ExportResult:
    what = f"the item “{item.name}”"
    if link is not None:
        row = await _update(client, "item", link, mapping.item_body(item), key, what, name=item.name)
        return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=False,
                            record=mapping.remote_item(row))
    response, _ = await client.query(f"SELECT * FROM Item WHERE Name = {quote(item.name.replace(':', ' '))}")
    rows = response.get("Item") or []
    if rows:  # one name, one item in QBO: ours is theirs
        return ExportResult(remote_id=str(rows[0]["Id"]), version=str(rows[0].get("SyncToken", "")), created=False,
                            record=mapping.remote_item(rows[0]))
    row = await client.write("item", mapping.item_body(item), key, subject=what, name=item.name)
    return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=True,
                        record=mapping.remote_item(row))


def _invoice_result(session: ProviderSession, row: Json, created: bool) -> ExportResult:
    remote = mapping.remote_invoice(row, [], deep_link=_deep_link(session, str(row["Id"])))
    return ExportResult(remote_id=remote.remote_id, version=remote.version, number=remote.number, created=created,
                        record=remote)


def _deep_link(session: ProviderSession, remote_id: str) -> str:
    return record_url(session.provider_data, session.environment, "invoice", remote_id) or ""


def _invoice_what(invoice: InvoiceData) -> str:
    return f"invoice {invoice.number}" if invoice.number else "the invoice"


async def export_invoice(client: QboClient, invoice: InvoiceData, link: LinkRef | None, key: str) -> ExportResult:
    body = mapping.invoice_body(invoice)
    what = _invoice_what(invoice)
    if link is not None:
        row = await _update(client, "invoice", link, body, key, what, number=invoice.number)
        return _invoice_result(client.session, row, False)
    row = await client.write("invoice", body, key, subject=what, number=invoice.number)
    return _invoice_result(client.session, row, True)


def batch_requestid(keys: list[str]) -> str:
    """One requestid for a whole batch, derived from its invoices' keys in order (36 characters).

    A resumed run resends the same invoices with the same keys, so the batch id repeats and QBO
    replays the first answer instead of creating anything twice. A batch made of different invoices
    (or the same in another order) is a different request, which is right: its items differ.
    """
    return "lbb-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[: BATCH_REQUESTID_MAX - 4]


async def export_invoices_batch(client: QboClient, invoices: list[tuple[InvoiceData, LinkRef | None, str]]
                                ) -> list[BatchOutcome]:
    items = []
    for index, (invoice, link, _key) in enumerate(invoices):
        body = mapping.invoice_body(invoice)
        if link is not None:
            body = {**body, "Id": link.remote_id, "SyncToken": link.remote_version, "sparse": True}
        items.append({"bId": f"b{index}", "operation": "update" if link else "create", "Invoice": body})
    answers = await client.batch(items, batch_requestid([key for _, _, key in invoices]))
    by_bid = {str(answer.get("bId")): answer for answer in answers}
    outcomes = []
    for index, (invoice, link, _key) in enumerate(invoices):
        answer = by_bid.get(f"b{index}")
        if answer is None:
            outcomes.append(BatchOutcome(invoice.local_id, error=UncertainWrite(
                "QuickBooks' batch answer left this invoice out, so it may or may not be saved.")))
        elif "Invoice" in answer:
            outcomes.append(BatchOutcome(invoice.local_id, result=_invoice_result(
                client.session, answer["Invoice"], link is None)))
        else:
            fault = read_fault(400, answer)
            outcomes.append(BatchOutcome(invoice.local_id, error=translate_fault(
                fault, subject=_invoice_what(invoice), number=invoice.number)))
    return outcomes


async def export_payment(client: QboClient, payment: PaymentData, link: LinkRef | None, key: str) -> ExportResult:
    what = f"the payment of {payment.amount}"
    body = mapping.payment_body(payment)
    if link is not None:
        row = await _update(client, "payment", link, body, key, what)
        return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=False)
    row = await client.write("payment", body, key, subject=what)
    return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=True)


async def void_payment(client: QboClient, link: LinkRef, key: str) -> ExportResult:
    """`POST /payment?operation=update&include=void` with a sparse `{Id, SyncToken}` (FACTS QBO 4):
    the payment stays with zero amounts and its invoices owe the amount again. A payment already
    voided, or deleted in QuickBooks (610 Object Not Found), is answered as done and `already_removed`,
    also when it went between this read and the void, so a resumed run never fails on itself and a
    payment the bookkeeper removed first is what was wanted."""
    what = "the payment"
    current = await _payment_if_there(client, link, what)
    if current is None or mapping.is_voided_payment(current):
        return _payment_already_removed(link, current)
    body = {"Id": link.remote_id, "SyncToken": str(current.get("SyncToken", "0")), "sparse": True}
    try:
        row = await client.write("payment", body, key, operation="update", include="void", subject=what)
    except ProviderError as exc:
        if exc.retryable:
            raise
        now = await _payment_if_there(client, link, what)
        if now is None or mapping.is_voided_payment(now):  # removed there between the read and the void
            return _payment_already_removed(link, now)
        if exc.code == "stale_object":
            raise await _stale(client, "payment", link.remote_id, what, exc) from exc
        raise
    return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=False)


async def _payment_if_there(client: QboClient, link: LinkRef, what: str) -> dict[str, Any] | None:
    """The payment as QuickBooks holds it, or None once it is deleted there (reads of it answer 610)."""
    try:
        return await client.read("payment", link.remote_id, subject=what)
    except ProviderError as exc:
        if exc.code == "remote_not_found":
            return None
        raise


def _payment_already_removed(link: LinkRef, current: dict[str, Any] | None) -> ExportResult:
    said = "already deleted" if current is None else "already voided"
    version = str((current or {}).get("SyncToken") or link.remote_version or "")
    return ExportResult(remote_id=link.remote_id, version=version, created=False, already_removed=True,
                        warnings=(f"The payment was {said} in QuickBooks.",))


async def _time_tracking_available(client: QboClient) -> bool:
    """QBO plans without time tracking have no TimeTrackingPrefs in their preferences."""
    prefs = await client.preferences()
    return bool(prefs.get("TimeTrackingPrefs"))


async def _employee_for(client: QboClient, entry: TimeEntryData, key: str) -> str:
    given, family = mapping.split_person(entry.person)
    where = f"GivenName = {quote(given)}" + (f" AND FamilyName = {quote(family)}" if family else "")
    response, _ = await client.query(f"SELECT * FROM Employee WHERE {where}")
    for row in response.get("Employee") or []:
        if mapping.employee_matches(row, entry.person, entry.person_email):
            return str(row["Id"])
    row = await client.write("employee", mapping.employee_body(entry.person, entry.person_email),
                             derived_key(key, "e"), subject=f"the employee “{entry.person}”", name=entry.person)
    return str(row["Id"])


async def export_time_entry(client: QboClient, entry: TimeEntryData, link: LinkRef | None, key: str) -> ExportResult:
    what = f"{entry.person}'s time on {entry.worked_on.isoformat()}"
    if link is None and not await _time_tracking_available(client):
        raise ProviderError(
            "This company's QuickBooks subscription does not include time tracking, so time entries cannot be "
            "sent to it.", code="plan_limit",
            fix="Upgrade the QuickBooks plan (time tracking comes with Essentials and above), or turn off time "
                "entry export for this connection.")
    employee_id = await _employee_for(client, entry, key)
    body = mapping.time_activity_body(entry, employee_id)
    if link is not None:
        row = await _update(client, "timeactivity", link, body, key, what)
        return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=False)
    row = await client.write("timeactivity", body, key, subject=what)
    return ExportResult(remote_id=str(row["Id"]), version=str(row.get("SyncToken", "")), created=True)


async def _withdraw(client: QboClient, link: LinkRef, key: str, operation: str) -> ExportResult:
    what = f"invoice {link.remote_number}" if link.remote_number else "the invoice"
    version = link.remote_version or str(
        (await client.read("invoice", link.remote_id, subject=what)).get("SyncToken", "0"))
    try:
        row = await client.write("invoice", {"Id": link.remote_id, "SyncToken": version}, key,
                                 operation=operation, subject=what)
    except ProviderError as exc:
        if exc.code == "stale_object":
            raise await _stale(client, "invoice", link.remote_id, what, exc) from exc
        raise
    if operation == "delete":
        return ExportResult(remote_id=link.remote_id, version=version, number=link.remote_number, created=False,
                            record=RemoteInvoice(remote_id=link.remote_id, deleted=True, status="deleted",
                                                 raw_status="Deleted", number=link.remote_number))
    return _invoice_result(client.session, row, False)


async def void_invoice(client: QboClient, link: LinkRef, key: str) -> ExportResult:
    return await _withdraw(client, link, key, "void")


async def delete_invoice(client: QboClient, link: LinkRef, key: str) -> ExportResult:
    return await _withdraw(client, link, key, "delete")


# --------------------------------------------------------------------------- reading back


async def _with_payments(client: QboClient, rows: list[Json], known: list[Json] | None = None) -> list[RemoteInvoice]:
    """Invoices with the payments applied to them (one Payment query for the ids not already at hand)."""
    payments = list(known or [])
    have = {str(p.get("Id")) for p in payments}
    wanted = sorted({pid for row in rows for pid in mapping.payment_ids(row)} - have)
    for chunk in range(0, len(wanted), 500):
        ids = ", ".join(quote(pid) for pid in wanted[chunk:chunk + 500])
        response, _ = await client.query(f"SELECT * FROM Payment WHERE Id IN ({ids}) MAXRESULTS 1000")
        payments.extend(response.get("Payment") or [])
    return [mapping.remote_invoice(row, payments, _deep_link(client.session, str(row["Id"]))) for row in rows]


async def find_invoice(client: QboClient, number: str) -> RemoteInvoice | None:
    response, _ = await client.query(f"SELECT * FROM Invoice WHERE DocNumber = {quote(number)}")
    rows = response.get("Invoice") or []
    if not rows:
        return None
    return (await _with_payments(client, rows[:1]))[0]


async def poll_invoices(client: QboClient, cursor: str | None, remote_ids: list[str] | None) -> Page[RemoteInvoice]:
    if remote_ids:
        return await _poll_ids(client, cursor, remote_ids)
    if cursor and cursor.startswith("cdc:"):
        found = await _changes(client, ["Invoice", "Payment"], cursor[4:])
        if found is not None:
            rows, time = found
            invoices = rows["Invoice"]
            seen = {str(r["Id"]) for r in invoices}
            # A payment edit can leave its invoice's own record unchanged: read those invoices too.
            touched = sorted({str(link.get("TxnId")) for p in rows["Payment"] for line in p.get("Line") or []
                              for link in line.get("LinkedTxn") or [] if link.get("TxnType") == "Invoice"} - seen)
            if touched:
                ids = ", ".join(quote(i) for i in touched)
                response, _ = await client.query(f"SELECT * FROM Invoice WHERE Id IN ({ids}) MAXRESULTS 1000")
                invoices = invoices + list(response.get("Invoice") or [])
            live = [r for r in rows["Payment"] if not mapping.is_deleted(r)]
            return Page(await _with_payments(client, invoices, live), None, f"cdc:{overlap(time)}")
        cursor = None
    start, since = 1, ""
    if cursor and cursor.startswith("full:"):
        _, position, since = cursor.split(":", 2)
        start = int(position)
    page = await client.query_page("Invoice", "", start)
    since = since or page.time
    next_cursor = f"full:{start + len(page.rows)}:{since}" if page.full else None
    return Page(await _with_payments(client, page.rows), next_cursor, f"cdc:{overlap(since)}")


async def _poll_ids(client: QboClient, cursor: str | None, remote_ids: list[str]) -> Page[RemoteInvoice]:
    """The named invoices; one missing from QBO's answer was deleted there (queries hide deletions)."""
    start = int(cursor.split(":")[1]) - 1 if cursor and cursor.startswith("ids:") else 0
    chunk = remote_ids[start:start + client.page_size]
    ids = ", ".join(quote(str(i)) for i in chunk)
    response, _ = await client.query(f"SELECT * FROM Invoice WHERE Id IN ({ids}) MAXRESULTS {client.page_size}")
    rows = list(response.get("Invoice") or [])
    found = {str(r["Id"]) for r in rows}
    records = await _with_payments(client, rows)
    records += [RemoteInvoice(remote_id=str(i), deleted=True, status="deleted", raw_status="Not found (deleted)")
                for i in chunk if str(i) not in found]
    end = start + len(chunk)
    return Page(records, f"ids:{end + 1}" if end < len(remote_ids) else None, None)
