"""Invoices: the list with sync badges and bulk export, and one invoice with its provider copies.

Actions (export, revert to draft, bulk export) run the REST API's own handlers in-process, so the
rules and the queued sync runs are exactly those of the API. A long export answers with the runs
it queued, whose progress the page polls with htmx (and a plain "refresh" link without JS).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from ledgerbridge.api.paging import contains
from ledgerbridge.domain.connections import services as connections_services
from ledgerbridge.domain.connections.schemas import SyncRequestIn
from ledgerbridge.domain.invoices import services as invoices_services
from ledgerbridge.domain.invoices.list_ids import in_workspace_by_id, rare_badge_ids
from ledgerbridge.domain.invoices.number_search import number_matches
from ledgerbridge.domain.invoices.output import invoices_out, payment_issues
from ledgerbridge.domain.invoices.schemas import BulkExportIn, ExportIn
from ledgerbridge.domain.invoices.services import badge_filter
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.invoicing import SyncBadge
from ledgerbridge.jobs import loads
from ledgerbridge.plugins import get_registry
from ledgerbridge.sync.exporting import preview_invoice
from ledgerbridge.tables import Connection, Customer, Invoice, InvoiceStatus
from litestar import Response, get, post
from litestar.params import FromPath
from piccolo.columns.combination import Combinable, WhereRaw

from ledgerbridge_web.common import (
    PAGE_SIZE,
    AnyRequest,
    Paging,
    capabilities,
    capped_count,
    count_limit,
    failed,
    fragment,
    ids_from,
    int_or_none,
    page,
    page_number,
    person,
    provider_name,
    see_other,
    workspace_of,
)
from ledgerbridge_web.runs import runs_touching_invoice

BADGES = [
    ("not_exported", "Not exported"),
    ("pending", "Exporting"),
    ("synced", "Exported"),
    ("needs_sync", "Needs sync"),
    ("warning", "Warning"),
    ("error", "Error"),
]


async def _filters(workspace_id: int, query: Any) -> tuple[Combinable, dict[str, str], bool]:
    """The list's filters. A rare sync badge and a number search each name their few invoices by id
    (`list_ids`), and the list then fetches those by primary key rather than walk the workspace."""
    chosen = {name: str(query.get(name) or "") for name in ("status", "sync", "q", "customer_id")}
    badge = SyncBadge(chosen["sync"]) if chosen["sync"] in set(SyncBadge) else None
    rare = await rare_badge_ids(workspace_id, badge) if badge is not None else None
    searched = await number_matches(workspace_id, chosen["q"]) if chosen["q"].strip() else None
    narrowed = [ids for ids in (rare, searched) if ids is not None]
    known = sorted(set(narrowed[0]).intersection(*narrowed[1:])) if narrowed else None
    where: Combinable = in_workspace_by_id(workspace_id, known) if known is not None else (
        Invoice.workspace == workspace_id)
    if chosen["status"] in set(InvoiceStatus):
        where = where & (Invoice.status == chosen["status"])
    if badge is not None and rare is None:
        where = where & badge_filter(workspace_id, badge)
    if chosen["q"].strip() and searched is None:
        where = where & contains(Invoice.number, chosen["q"])
    if chosen["customer_id"].isdigit():
        where = where & (Invoice.customer == int(chosen["customer_id"]))
    return where, chosen, known is not None


async def _listed_page(where: Combinable, after: tuple[date, int] | None, number: int) -> tuple[list[Invoice], int]:
    """A page of a list narrowed to known ids (at most `list_ids.MOST_CANDIDATES`), and its count.

    Why: the page and its count each read every listed invoice (a few hundred fetched by id, twice).
    Reading their sort keys once gives both, and the page's rows are then fetched by id.
    """
    keys = await Invoice.select(Invoice.id, Invoice.issue_date).where(where).order_by(
        Invoice.issue_date, ascending=False).order_by(Invoice.id, ascending=False)
    total = min(len(keys), count_limit(number) + 1)
    if after is not None:
        keys = [key for key in keys if (key["issue_date"], key["id"]) < after]
    start = 0 if after else (number - 1) * PAGE_SIZE
    ids = [key["id"] for key in keys[start:start + PAGE_SIZE + 1]]
    found = {row.id: row for row in await Invoice.objects().where(Invoice.id.is_in(ids))} if ids else {}
    return [found[invoice_id] for invoice_id in ids if invoice_id in found], total


def _after(raw: Any) -> tuple[date, int] | None:
    """`after=<issue date>.<id>`: the last invoice of the previous page (the list's sort key)."""
    day, _, number = str(raw or "").partition(".")
    try:
        return date.fromisoformat(day), int(number)
    except ValueError:
        return None


def _list_link(request: AnyRequest, **params: str) -> str:
    kept = {key: value for key, value in request.query_params.items() if key not in ("page", "after", "runs")}
    return f"{request.url.path}?{urlencode({**kept, **params})}" if kept or params else request.url.path


@get("/invoices")
async def invoice_list(request: AnyRequest) -> Response[Any]:
    """Newest first, a page at a time by keyset: "Next" carries the last invoice's (issue date, id),
    so page 2,000 costs what page 1 does; the count stops at `COUNT_CAP` ("more than 1,000")."""
    me = person(request)
    ws = workspace_of(me)
    where, chosen, listed = await _filters(ws, request.query_params)
    after = _after(request.query_params.get("after"))
    number = 1 if after else page_number(request)
    if listed:
        rows, total = await _listed_page(where, after, number)
    else:
        query = Invoice.objects().where(where)
        if after is not None:
            query = query.where(WhereRaw('("invoice"."issue_date", "invoice"."id") < ({}, {})', *after))
        rows = list(await query.order_by(Invoice.issue_date, ascending=False).order_by(Invoice.id, ascending=False)
                    .limit(PAGE_SIZE + 1).offset(0 if after else (number - 1) * PAGE_SIZE))
        total = await capped_count(Invoice, where, number)
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    last = rows[-1] if rows else None
    paging = Paging(number, total,
                    next_url=_list_link(request, after=f"{last.issue_date.isoformat()}.{last.id}") if more and last
                    else "",
                    first_url=_list_link(request) if after or number > 1 else "")
    run_ids = [int(value) for value in str(request.query_params.get("runs") or "").split(",") if value.isdigit()]
    return page(
        request,
        "invoices.html",
        invoices=await invoices_out(ws, rows, with_lines=False),
        paging=paging,
        link=lambda n: paging.link(request, n),
        chosen=chosen,
        statuses=list(InvoiceStatus),
        badges=BADGES,
        run_ids=run_ids,
    )


@post("/invoices/export", opt=needs(Permission.exports_run))
async def export_selected(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    ids = ids_from(form)
    back = "/invoices"
    if not ids:
        return see_other(back, error="No invoice was selected.", fix="Tick the invoices to export, then export again.")
    try:
        result = await invoices_services.export_many(me, data=BulkExportIn(invoice_ids=ids, connection_id=None)
        )
    except LedgerBridgeError as exc:
        return failed(back, exc)
    runs = ",".join(str(run.id) for run in result.runs)
    return see_other(back, runs=runs, notice=f"Exporting {len(ids)} invoice{'s' if len(ids) != 1 else ''}.")


# --------------------------------------------------------------------------- one invoice


def _differences(invoice: Any, link: Any) -> list[tuple[str, str, str]]:
    """(what, ours, theirs) where the provider's copy disagrees with ours."""
    remote = link.remote_data or {}
    out = []
    theirs_total = remote.get("total")
    if theirs_total not in (None, ""):
        try:
            if Decimal(str(theirs_total)) != Decimal(invoice.total):
                out.append(("Amount", invoice.total, str(theirs_total)))
        except InvalidOperation:
            pass
    theirs_number = link.remote_number or remote.get("number") or ""
    if theirs_number and theirs_number != invoice.number:
        out.append(("Number", invoice.number, theirs_number))
    return out


async def _view_link(link: Any, connection: dict[str, Any] | None) -> str:
    """"View in <provider>": the address the provider reported, else what its plugin builds."""
    deep = (link.remote_data or {}).get("deep_link")
    if deep:
        return str(deep)
    if connection is None or not link.remote_id:
        return ""
    registry = get_registry()
    if link.provider not in registry.providers or not registry.implements(link.provider, "record_url"):
        return ""
    try:
        url = await registry.call(
            link.provider,
            "record_url",
            provider_data=loads(connection["provider_data"]),
            environment=connection["environment"],
            record_type="invoice",
            remote_id=link.remote_id,
        )
    except LedgerBridgeError:
        return ""
    return url or ""


async def _preview(row: Invoice, connection: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the export hands the provider's plugin, computed by the engine without writing."""
    key = connection["provider"]
    record = await Connection.objects().where(Connection.id == connection["id"]).first()
    if record is None:  # removed between listing the workspace's connections and now
        raise LedgerBridgeError(f"There is no connection {connection['id']} in this workspace any more.",
                                code="not_found", fix="Reload the page to see the current connections.")
    payload = json.loads(json.dumps(asdict(await preview_invoice(record, row)), default=str))
    if not payload["send_number"]:
        payload["number"] = f"(assigned by {provider_name(key)})"
    if capabilities(key).draft_export:
        payload["as_draft"] = bool(connection["export_as_draft"])
    return payload


async def _detail(ws: int, invoice_id: int) -> dict[str, Any]:
    """What the invoice page and its live fragment show: the invoice, its copies, and what is running now."""
    row = await Invoice.objects().where((Invoice.id == invoice_id) & (Invoice.workspace == ws)).first()
    if row is None:
        raise LedgerBridgeError(f"There is no invoice {invoice_id} in this workspace.", code="not_found",
                                fix="Open Invoices and pick one from the list.")
    invoice = (await invoices_out(ws, [row]))[0]
    connections = {
        item["id"]: item
        for item in await Connection.select(
            Connection.id, Connection.provider, Connection.environment, Connection.tenant_name, Connection.status,
            Connection.provider_data, Connection.number_policy, Connection.export_as_draft, Connection.is_books,
        ).where(Connection.workspace == ws)
    }
    copies = []
    for link in invoice.links:
        connection = connections.get(link.connection_id)
        copies.append(
            {
                "link": link,
                "provider": provider_name(link.provider),
                "tenant": connection["tenant_name"] if connection else "",
                "view_url": await _view_link(link, connection),
                "differences": _differences(invoice, link),
            }
        )
    customer = await Customer.select(Customer.name, Customer.email).where(Customer.id == row.customer).first()
    copies_there = {link.connection_id: link.remote_id or "" for link in invoice.links}
    active_runs = await runs_touching_invoice(ws, invoice_id, copies_there)
    return {"row": row, "invoice": invoice, "copies": copies, "customer": customer, "connections": connections,
            "active_runs": active_runs, "payment_issues": await payment_issues(ws, invoice),
            "today": date.today().isoformat()}


@get("/invoices/{invoice_id:int}")
async def invoice_page(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    detail = await _detail(workspace_of(me), invoice_id)
    row, connections = detail.pop("row"), detail.pop("connections")
    previews = [
        {"connection": c, "provider": provider_name(c["provider"]), "payload": await _preview(row, c)}
        for c in connections.values()
        if c["status"] == "connected" and c["is_books"]  # the others are read-only: nothing goes there
    ]
    return page(request, "invoice.html", previews=previews, **detail)


@get("/invoices/{invoice_id:int}/live")
async def invoice_live(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    """The part of the invoice page that background work changes, for htmx to poll until nothing runs."""
    me = person(request)
    detail = await _detail(workspace_of(me), invoice_id)
    detail.pop("row"), detail.pop("connections")
    return fragment("_invoice_live.html", me=me, **detail)


@post("/invoices/{invoice_id:int}/check", opt=needs(Permission.exports_run))
async def check_payments(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    """Read invoices (and so payments) back from every connection holding a copy of this one, now.

    With htmx the answer is the live fragment, already polling the runs it queued; without, a redirect.
    """
    me = person(request)
    ws = workspace_of(me)
    back = f"/invoices/{invoice_id}"
    detail = await _detail(ws, invoice_id)
    targets = sorted({link.connection_id for link in detail["invoice"].links
                      if detail["connections"].get(link.connection_id, {}).get("status") == "connected"})
    try:
        if not targets:
            raise LedgerBridgeError("No connected integration holds a copy of this invoice.", code="not_connected",
                                    fix="Export it first, or reconnect the integration under Integrations.")
        for connection_id in targets:
            await connections_services.sync(me, connection_id=connection_id, data=SyncRequestIn(what=["invoices"]))
    except LedgerBridgeError as exc:
        if "hx-request" in request.headers:
            detail = await _detail(ws, invoice_id)
            detail.pop("row"), detail.pop("connections")
            return fragment("_invoice_live.html", me=me, check_error=exc, **detail)
        return failed(back, exc)
    if "hx-request" in request.headers:
        detail = await _detail(ws, invoice_id)
        detail.pop("row"), detail.pop("connections")
        return fragment("_invoice_live.html", me=me, **detail)
    return see_other(back, notice="Checking your accounting software for payments.")


async def _action(request: AnyRequest, invoice_id: int, handler: Any, done: str, **kwargs: Any) -> Response[Any]:
    me = person(request)
    back = f"/invoices/{invoice_id}"
    try:
        result = await handler(me, invoice_id=invoice_id, **kwargs)
    except LedgerBridgeError as exc:
        return failed(back, exc)
    runs = ",".join(str(run.id) for run in getattr(result, "runs", []))
    return see_other(back, notice=done, runs=runs)


@post("/invoices/{invoice_id:int}/export", opt=needs(Permission.exports_run))
async def export_one(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    form = await request.form()
    data = ExportIn(connection_id=int_or_none(form.get("connection_id")))
    return await _action(request, invoice_id, invoices_services.export, "Export queued.", data=data)


@post("/invoices/{invoice_id:int}/finalize", opt=needs(Permission.records_write))
async def finalize(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    return await _action(request, invoice_id, invoices_services.finalize, "Invoice finalized.")


@post("/invoices/{invoice_id:int}/send", opt=needs(Permission.exports_run))
async def send(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    """Mark as sent (finalizing a draft); connections that export on send queue their export."""
    return await _action(request, invoice_id, invoices_services.send, "Invoice marked as sent.")


@get("/invoices/{invoice_id:int}/revert", opt=needs(Permission.books_write))
async def confirm_revert(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    row = await Invoice.objects().where((Invoice.id == invoice_id) & (Invoice.workspace == workspace_of(me))).first()
    if row is None:
        raise LedgerBridgeError(f"There is no invoice {invoice_id} in this workspace.", code="not_found",
                                fix="Open Invoices and pick one from the list.")
    return page(request, "confirm_revert.html", invoice=row)


@post("/invoices/{invoice_id:int}/revert", opt=needs(Permission.books_write))
async def revert(request: AnyRequest, invoice_id: FromPath[int]) -> Response[Any]:
    return await _action(
        request, invoice_id, invoices_services.revert_to_draft,
        "Reverted to draft; the copies in your accounting software are being taken back.",
    )


HANDLERS = [invoice_list, export_selected, invoice_page, invoice_live, check_payments, export_one, finalize, send,
            confirm_revert, revert]
