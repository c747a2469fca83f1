"""Multi-step FreshBooks work: paged change reads, exports, lookups and status polls.

Change tracking (FACTS.md FreshBooks 4): lists hide soft-deleted records unless `search[vis_state]=1`
asks for them, and `search[updated_min]` has day granularity in US/Eastern. So a read "since" a moment
asks from the day before that moment (an overlap that survives time-zone doubt), reads live records,
then deleted ones, and the next cursor is the latest `updated` seen. Re-reading a day is harmless: the
core compares before it writes.

Exactly once without idempotency keys (FACTS FreshBooks 5): invoices always carry our number when the
policy sends it, and `find_invoice` looks the number up among live, archived and deleted invoices, so
an invoice whose create answer was lost is found before any retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from ledgerbridge.errors import ProviderError, UncertainWrite
from ledgerbridge.provider import (
    CustomerData,
    ExportResult,
    InvoiceData,
    ItemData,
    LinkRef,
    Page,
    PaymentData,
    RemoteInvoice,
    RemotePayment,
)

from ledgerbridge_freshbooks import mapping
from ledgerbridge_freshbooks.client import PER_PAGE, ErrorContext, FbClient

T = TypeVar("T")

CLIENTS = ("users/clients", "clients", "client")
ITEMS = ("items/items", "items", "item")
TAXES = ("taxes/taxes", "taxes", "tax")
INVOICES = ("invoices/invoices", "invoices", "invoice")
PAYMENTS = ("payments/payments", "payments", "payment")
OVERLAP = timedelta(days=1)
#: How far before a read's first answer its later pages may still raise the read's watermark (see `_poll_changes`).
READ_CLOCK_MARGIN = timedelta(seconds=2)
PAYMENT_PREFIX = "payment:"  # a webhook's payment id, resolved to its invoice by `poll_invoices`


# --------------------------------------------------------------------------- paged change reads


@dataclass(frozen=True)
class ReadCursor:
    """Where a read stands: `since` (latest `updated` seen before it, None for a full read), which
    phase (live or deleted records), which page, and the latest `updated` seen so far."""

    since: str | None
    phase: str = "live"
    page: int = 1
    latest: str | None = None

    def encode(self) -> str:
        return json.dumps({"v": 1, "since": self.since, "phase": self.phase, "page": self.page,
                           "latest": self.latest}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> ReadCursor:
        """A continuation we issued, or a change cursor (the bare `updated` it was taken from)."""
        if not text:
            return cls(None)
        if text.startswith("{"):
            data = json.loads(text)
            return cls(data.get("since"), data.get("phase", "live"), int(data.get("page", 1)), data.get("latest"))
        return cls(text, latest=text)


def _later(a: str | None, b: str | None) -> str | None:
    """The later of two accounting timestamps (same fixed format, so text order is time order)."""
    if not a or not b:
        return a or b
    return max(a, b)


ALL_VIS_STATES = (mapping.VIS_ACTIVE, mapping.VIS_DELETED, mapping.VIS_ARCHIVED)


def _filters(since: str | None, phase: str) -> list[tuple[str, str]]:
    filters: list[tuple[str, str]] = []
    if since:
        moment = mapping.eastern_moment(since)
        if moment is not None:
            start = (moment.astimezone(mapping.EASTERN) - OVERLAP).date()
            filters.append(("search[updated_min]", start.isoformat()))
    if phase == "deleted":
        filters.append(("search[vis_state]", str(mapping.VIS_DELETED)))
    elif phase == "all":  # live, deleted and archived in one list ("in" search, FACTS FreshBooks 4)
        filters.extend(("search[vis_states][]", str(state)) for state in ALL_VIS_STATES)
    return filters


async def read_changes(client: FbClient, resource: tuple[str, str, str], cursor: str | None,
                       deleted_on_full_read: bool = False) -> tuple[list[dict[str, Any]], str | None, str | None]:
    """One page of rows; returns (rows, next_cursor, change cursor for the final page)."""
    path, key, _ = resource
    at = ReadCursor.decode(cursor)
    # A change read asks for live and deleted rows in one list, so an idle poll is one request. A
    # read begun by an older version in two phases (live, then deleted) finishes that way.
    if not (at.since or deleted_on_full_read):
        phases = ["live"]
    elif at.phase == "live" and at.page == 1:
        at = ReadCursor(at.since, "all", 1, at.latest)
        phases = ["all"]
    else:
        phases = ["all"] if at.phase == "all" else ["live", "deleted"]
    page = await client.list_page(path, key, at.page, _filters(at.since, at.phase))
    latest = at.latest
    for row in page.rows:
        latest = _later(latest, str(row.get("updated") or "") or None)
    if page.page < page.pages and page.rows:
        return page.rows, ReadCursor(at.since, at.phase, at.page + 1, latest).encode(), None
    following = phases.index(at.phase) + 1 if at.phase in phases else len(phases)
    if following < len(phases):
        return page.rows, ReadCursor(at.since, phases[following], 1, latest).encode(), None
    return page.rows, None, latest or at.since


async def read_page(client: FbClient, resource: tuple[str, str, str], cursor: str | None,
                    convert: Callable[[dict[str, Any]], T]) -> Page[T]:
    rows, following, change = await read_changes(client, resource, cursor)
    return Page([convert(row) for row in rows], next_cursor=following, cursor=change)


async def import_tax_rates(client: FbClient, cursor: str | None) -> Page[Any]:
    """Taxes are few and really deleted (no `vis_state`), so every import reads them all."""
    page_number = int(cursor) if cursor and cursor.isdigit() else 1
    page = await client.list_page(TAXES[0], TAXES[1], page_number)
    following = str(page_number + 1) if page.page < page.pages and page.rows else None
    return Page([mapping.remote_tax_rate(row) for row in page.rows], next_cursor=following, cursor=None)


# --------------------------------------------------------------------------- customers, items, payments


async def _set_vis_state(client: FbClient, resource: tuple[str, str, str], row: dict[str, Any], active: bool,
                         subject: str) -> dict[str, Any]:
    """Archive or restore: a PUT carrying `vis_state` applies only that, so it is a call of its own."""
    wanted = mapping.VIS_ACTIVE if active else mapping.VIS_ARCHIVED
    if int(row.get("vis_state") or 0) == wanted:
        return row
    path, _, key = resource
    return await client.update(path, key, str(row["id"]), {"vis_state": wanted}, subject=subject)


async def _existing(client: FbClient, resource: tuple[str, str, str], field: str, value: str) -> dict[str, Any] | None:
    """A live record whose `field` equals `value` (case-insensitively), or None.

    FreshBooks has no idempotency key, so a create whose answer was lost would be repeated on retry;
    looking the record up first makes the retry find it instead. It also keeps one client per email
    and one item per name, which is what a person expects.
    """
    if not value:
        return None
    page = await client.list_page(resource[0], resource[1], 1, [(f"search[{field}]", value)])
    return next((row for row in page.rows if str(row.get(field, "")).lower() == value.lower()), None)


async def export_customer(client: FbClient, customer: CustomerData, link: LinkRef | None) -> ExportResult:
    subject = f"the client “{customer.name}”"
    body = mapping.client_body(customer)
    if link is None and (found := await _existing(client, CLIENTS, "email", customer.email)) is not None:
        remote = mapping.remote_customer(found)
        return ExportResult(remote_id=remote.remote_id, version=remote.version, created=False, record=remote,
                            warnings=(f"Linked to the existing FreshBooks client with the email {customer.email}.",))
    if link is None:
        row = await client.create(CLIENTS[0], "client", body, subject=subject)
    else:
        row = await client.update(CLIENTS[0], "client", link.remote_id, body, subject=subject)
    row = await _set_vis_state(client, CLIENTS, row, customer.active, subject)
    remote = mapping.remote_customer(row)
    return ExportResult(remote_id=remote.remote_id, version=remote.version, created=link is None, record=remote)


async def export_item(client: FbClient, item: ItemData, link: LinkRef | None) -> ExportResult:
    subject = f"the item “{item.name}”"
    body = mapping.item_body(item)
    if link is None and (found := await _existing(client, ITEMS, "name", item.name)) is not None:
        remote = mapping.remote_item(found)
        return ExportResult(remote_id=remote.remote_id, version=remote.version, created=False, record=remote)
    if link is None:
        row = await client.create(ITEMS[0], "item", body, subject=subject)
    else:
        row = await client.update(ITEMS[0], "item", link.remote_id, body, subject=subject)
    row = await _set_vis_state(client, ITEMS, row, item.active, subject)
    remote = mapping.remote_item(row)
    return ExportResult(remote_id=remote.remote_id, version=remote.version, created=link is None, record=remote)


async def export_payment(client: FbClient, payment: PaymentData, link: LinkRef | None) -> ExportResult:
    subject = f"the payment of {payment.amount} on invoice {payment.invoice_id}"
    body = mapping.payment_body(payment)
    if link is None:
        row = await client.create(PAYMENTS[0], "payment", body, subject=subject)
    else:
        update = {k: v for k, v in body.items() if k in ("amount", "date", "type", "note")}
        row = await client.update(PAYMENTS[0], "payment", link.remote_id, update, subject=subject)
    remote = mapping.remote_payment(row)
    return ExportResult(remote_id=remote.remote_id, version=remote.version, created=link is None, record=remote)


async def void_payment(client: FbClient, link: LinkRef) -> ExportResult:
    """FreshBooks has no void for payments: it is deleted (`vis_state` 1, FACTS FreshBooks 3), and the
    invoice's outstanding amount goes back up. FreshBooks keeps a deleted payment, at `vis_state` 1:
    one already deleted (or unknown there) is answered as done and `already_removed`; FreshBooks has no
    idempotency key, so reading first is what makes a retry harmless."""
    subject = f"the payment {link.remote_id}"
    try:
        row = await client.get(PAYMENTS[0], "payment", link.remote_id, subject=subject)
    except ProviderError as exc:
        if exc.code != "remote_not_found":
            raise
        return ExportResult(remote_id=link.remote_id, version=link.remote_version, created=False,
                            already_removed=True, warnings=("FreshBooks no longer has the payment.",))
    if int(row.get("vis_state") or 0) == mapping.VIS_DELETED:
        remote = mapping.remote_payment(row)
        return ExportResult(remote_id=remote.remote_id, version=remote.version, created=False, record=remote,
                            already_removed=True, warnings=("The payment was already deleted in FreshBooks.",))
    row = await client.update(PAYMENTS[0], "payment", link.remote_id, {"vis_state": mapping.VIS_DELETED},
                              subject=subject)
    remote = mapping.remote_payment(row)
    return ExportResult(remote_id=remote.remote_id, version=remote.version, created=False, record=remote,
                        warnings=("FreshBooks has no void for payments; it was deleted there.",))


# --------------------------------------------------------------------------- invoices


async def _taxes_for(client: FbClient, invoice: InvoiceData) -> dict[str, tuple[str, Decimal]]:
    """Name and percent of each tax the lines name (FreshBooks lines carry taxes by name and percent)."""
    found: dict[str, tuple[str, Decimal]] = {}
    for tax_id in sorted({line.tax_rate_id for line in invoice.lines if line.tax_rate_id}):
        row = await client.get(TAXES[0], "tax", tax_id, subject=f"the tax {tax_id}")
        found[tax_id] = (str(row.get("name") or ""), mapping.amount_of(row.get("amount")))
    return found


async def _payments_of(client: FbClient, invoice_ids: list[str]) -> dict[str, tuple[RemotePayment, ...]]:
    """Live payments of the given invoices, read in pages of up to 100 ids."""
    found: dict[str, list[RemotePayment]] = {}
    for start in range(0, len(invoice_ids), PER_PAGE):
        filters = [("search[invoiceids][]", i) for i in invoice_ids[start:start + PER_PAGE]]
        page_number = 1
        while True:
            page = await client.list_page(PAYMENTS[0], PAYMENTS[1], page_number, filters)
            for row in page.rows:
                found.setdefault(str(row.get("invoiceid")), []).append(mapping.remote_payment(row))
            if page.page >= page.pages or not page.rows:
                break
            page_number += 1
    return {key: tuple(value) for key, value in found.items()}


async def _with_payments(client: FbClient, rows: list[dict[str, Any]]) -> list[RemoteInvoice]:
    paid = [str(r["id"]) for r in rows if mapping.amount_of(r.get("paid")) > 0]
    payments = await _payments_of(client, paid) if paid else {}
    return [mapping.remote_invoice(r, client.web, client.account_id, payments.get(str(r["id"]), ())) for r in rows]


async def export_invoice(client: FbClient, invoice: InvoiceData, link: LinkRef | None,
                         as_draft: bool = False) -> ExportResult:
    """Create or update, then mark as sent (unless the connection exports drafts).

    On update the action rides in the same PUT (FreshBooks applies actions, then data). A new invoice
    needs a second call, and the two are one write: if only the second fails, the invoice exists
    there as a draft, so the write is uncertain. The core then finds it by number and, seeing it a
    draft, sends it again as an update, which marks it sent. Never a warning on a synced link: the
    invoice would stay a draft there while it shows synced here.
    """
    subject = f"invoice {invoice.number}"
    context: ErrorContext = {"subject": subject, "number": invoice.number if invoice.send_number else ""}
    body = mapping.invoice_body(invoice, await _taxes_for(client, invoice))
    warnings: list[str] = []
    if link is None:
        row = await client.create(INVOICES[0], "invoice", body, lines=True, **context)
        if not as_draft:
            try:
                row = await client.update(INVOICES[0], "invoice", str(row["id"]), {"action_mark_as_sent": True},
                                          **context)
            except ProviderError as exc:
                raise UncertainWrite(
                    f"FreshBooks created invoice {invoice.number} but did not mark it sent ({exc.message}).",
                    fix="Nothing to do: LedgerBridge finds the draft and marks it sent on its next try.",
                ) from exc
    else:
        if not as_draft:
            body["action_mark_as_sent"] = True
        row = await client.update(INVOICES[0], "invoice", link.remote_id, body, **context)
    [remote] = await _with_payments(client, [row])
    return ExportResult(remote_id=remote.remote_id, version=remote.version, number=remote.number,
                        created=link is None, record=remote, warnings=tuple(warnings))


async def void_invoice(client: FbClient, link: LinkRef) -> ExportResult:
    """Write the invoice off to zero: FreshBooks has no void in its API (FACTS FreshBooks 3)."""
    subject = f"invoice {link.remote_number or link.remote_id}"
    row = await client.get(INVOICES[0], "invoice", link.remote_id, lines=True, subject=subject)
    if mapping.amount_of(row.get("paid")) > 0:
        raise ProviderError(f"FreshBooks cannot write off {subject}: it has payments.", code="validation_failed",
                            fix="Delete the payments in FreshBooks first, or leave the invoice as it is.")
    if int(row.get("vis_state") or 0) == mapping.VIS_DELETED:
        raise ProviderError(f"{subject} is deleted in FreshBooks.", code="remote_not_found")
    notes = str(row.get("notes") or "")
    if not notes.startswith(mapping.WRITTEN_OFF):
        notes = f"{mapping.WRITTEN_OFF} {notes}".strip()
    row = await client.update(INVOICES[0], "invoice", link.remote_id,
                              {"lines": mapping.written_off_lines(row), "notes": notes}, subject=subject)
    remote = mapping.remote_invoice(row, client.web, client.account_id)
    return ExportResult(remote_id=remote.remote_id, version=remote.version, number=remote.number, created=False,
                        record=remote)


async def delete_invoice(client: FbClient, link: LinkRef) -> ExportResult:
    """Soft delete (`vis_state` 1): FreshBooks keeps it readable by id, and its number stays taken."""
    subject = f"invoice {link.remote_number or link.remote_id}"
    row = await client.update(INVOICES[0], "invoice", link.remote_id, {"vis_state": mapping.VIS_DELETED},
                              subject=subject)
    remote = mapping.remote_invoice(row, client.web, client.account_id)
    return ExportResult(remote_id=remote.remote_id, version=remote.version, number=remote.number, created=False,
                        record=remote)


async def find_invoice(client: FbClient, number: str) -> RemoteInvoice | None:
    """Live and archived invoices first, then deleted ones (their numbers stay taken)."""
    for extra in ([], [("search[vis_state]", str(mapping.VIS_DELETED))]):
        page = await client.list_page(INVOICES[0], INVOICES[1], 1, [("search[invoice_number]", number), *extra])
        rows = [row for row in page.rows if str(row.get("invoice_number")) == number]
        if rows:
            return (await _with_payments(client, rows[:1]))[0]
    return None


async def _read_invoice(client: FbClient, remote_id: str) -> dict[str, Any] | None:
    try:
        return await client.get(INVOICES[0], "invoice", remote_id, subject=f"invoice {remote_id}")
    except ProviderError as exc:
        if exc.code == "remote_not_found":
            return None
        raise


async def poll_invoices(client: FbClient, cursor: str | None, remote_ids: list[str] | None) -> Page[RemoteInvoice]:
    if remote_ids is not None:
        return await _poll_ids(client, remote_ids)
    return await _poll_changes(client, cursor)


@dataclass(frozen=True)
class PollCursor:
    """Where status polls stand: `since` (an `updated` value: ask for invoices changed at or after
    it), the invoices already seen at exactly that second (id and digest, `_seen_key`), and, within a
    read of several pages, the
    page to read next (the watermark of a read is taken from its first page, see `_poll_changes`)."""

    since: str | None
    seen: tuple[str, ...] = ()
    page: int = 1
    mark: str | None = None
    marked: tuple[str, ...] = ()
    limit: str | None = None

    def encode(self) -> str:
        return json.dumps({"v": 2, "since": self.since, "seen": list(self.seen), "page": self.page,
                           "mark": self.mark, "marked": list(self.marked), "limit": self.limit},
                          separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> PollCursor:
        """Ours, or an earlier version's (a bare `updated`, or a paged read's JSON): those start over
        from their `since`, which reads more than needed but misses nothing."""
        if not text:
            return cls(None)
        if not text.startswith("{"):
            return cls(text)
        data = json.loads(text)
        if data.get("v") != 2:
            return cls(data.get("since"))
        return cls(data.get("since"), tuple(data.get("seen") or ()), int(data.get("page") or 1), data.get("mark"),
                   tuple(data.get("marked") or ()), data.get("limit"))


def _seen_key(row: dict[str, Any]) -> str:
    """An invoice as read: its id and a digest of what it said. `updated` counts whole seconds, so the
    same invoice can change again within the second it was read in: only the same id saying the same
    thing is "already seen"."""
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{row.get('id')}:{digest}"


def _watermark(since: str | None, seen: tuple[str, ...], rows: list[dict[str, Any]]
               ) -> tuple[str | None, tuple[str, ...]]:
    """The latest `updated` among `rows` (or `since`), and the invoices seen at exactly that second."""
    mark = since
    for row in rows:
        mark = _later(mark, str(row.get("updated") or "") or None)
    at_mark = {_seen_key(row) for row in rows if str(row.get("updated") or "") == mark}
    return mark, tuple(sorted(at_mark | (set(seen) if mark == since else set())))


async def _poll_changes(client: FbClient, cursor: str | None) -> Page[RemoteInvoice]:
    """Invoices changed since the last poll, live, archived and deleted in one list: one request when
    nothing changed.

    `search[updated_since]` is a moment, inclusive ("at or after"), unlike `updated_min`, which
    counts whole days and would re-read a day of invoices on every poll (FACTS FreshBooks 4; for
    invoices it is what large integrators send, UNCONFIRMED in FreshBooks' own documents). It is
    sent with its US/Eastern offset, so no time-zone doubt needs an overlap. The watermark is
    FreshBooks' own `updated` of the invoices read, never our clock; its second is asked for again
    (inclusive), and the invoices already seen at that second, saying the same, are dropped, so a
    change that lands in the same second is still read, even to an invoice read in that second.
    A read of several pages needs more care: lists come in id order, so an invoice changed while
    later pages are read may sit on a page already read,
    while a later page shows an even later change. Such a read's watermark is the later of two that
    are each safe: its first page's latest `updated` (anything changed after that page was read is
    later still), and the latest `updated` of the whole read but no later than two seconds before
    the first page's HTTP `Date` (FreshBooks' clock, whole seconds: whatever changed during the
    read changed after that). An idle poll after a long read so re-reads at most those seconds.

    The second request, only when a changed invoice has payments: FreshBooks invoices carry their
    paid and outstanding totals but not the payments themselves, and `RemoteInvoice.payments`
    needs them (one payments list for up to 100 invoices). An idle poll never makes it.
    """
    at = PollCursor.decode(cursor)
    filters = [("search[vis_states][]", str(state)) for state in ALL_VIS_STATES]
    if at.since:
        moment = mapping.eastern_moment(at.since)
        if moment is not None:
            filters.append(("search[updated_since]", moment.astimezone(mapping.EASTERN).isoformat()))
    page = await client.list_page(INVOICES[0], INVOICES[1], at.page, filters)
    seen = set(at.seen)
    rows = [row for row in page.rows
            if not (at.since and str(row.get("updated") or "") == at.since and _seen_key(row) in seen)]
    records = await _with_payments(client, rows) if rows else []
    if at.page == 1:
        first, first_seen = _watermark(at.since, at.seen, page.rows)
        if page.page >= page.pages or not page.rows:  # the whole read in one answer: its latest is exact
            return Page(records, cursor=PollCursor(first, first_seen).encode())
        # Carried: the first page's watermark, and the moment before which later pages may raise it.
        limit = page.server_time - READ_CLOCK_MARGIN if page.server_time else None
        at = PollCursor(at.since, at.seen, 1, first, first_seen,
                        limit.astimezone(mapping.EASTERN).strftime(mapping.TIMESTAMP) if limit else None)
    mark, marked = at.mark, at.marked
    if at.limit:
        below = [row for row in page.rows if str(row.get("updated") or "") < at.limit]
        mark, marked = _watermark(at.mark, at.marked, below)
    if page.page < page.pages and page.rows:
        return Page(records, next_cursor=PollCursor(at.since, at.seen, at.page + 1, mark, marked, at.limit).encode())
    return Page(records, cursor=PollCursor(mark, marked).encode())


async def _poll_ids(client: FbClient, remote_ids: list[str]) -> Page[RemoteInvoice]:
    """Read each named invoice (deleted ones are still readable by id); a payment id from a webhook
    stands for the invoice it pays."""
    invoice_ids: list[str] = []
    for remote_id in remote_ids:
        if remote_id.startswith(PAYMENT_PREFIX):
            try:
                payment = await client.get(PAYMENTS[0], "payment", remote_id[len(PAYMENT_PREFIX):])
            except ProviderError as exc:
                if exc.code == "remote_not_found":
                    continue
                raise
            remote_id = str(payment.get("invoiceid"))
        if remote_id not in invoice_ids:
            invoice_ids.append(remote_id)
    rows, gone = [], []
    for remote_id in invoice_ids:
        row = await _read_invoice(client, remote_id)
        if row is None:
            gone.append(mapping.gone_invoice(remote_id, client.web, client.account_id))
        else:
            rows.append(row)
    return Page([*await _with_payments(client, rows), *gone])


def record_url(provider_data: dict[str, Any], web: str, record_type: str, remote_id: str) -> str | None:
    """Only invoices have a known staff link (FACTS FreshBooks 9)."""
    account_id = str(provider_data.get("account_id") or "")
    if record_type != "invoice" or not account_id:
        return None
    return mapping.deep_link(str(provider_data.get("app_url") or web), account_id, remote_id)
