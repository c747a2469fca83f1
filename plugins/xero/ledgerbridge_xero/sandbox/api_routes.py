"""The Accounting API 2.0 routes LedgerBridge uses (FACTS Xero 2 to 5).

Collections: Contacts, Items, Accounts, TaxRates, Invoices, Payments, Organisation. Reads support
``where``, ``order``, ``If-Modified-Since``, ``page``/``pageSize`` (Invoices, Contacts, Payments),
``includeArchived`` and the list filters of GET /Invoices; writes take one element or an array,
honour ``summarizeErrors`` and replay ``Idempotency-Key``. Answers use Xero's envelope
(``Id``, ``Status``, ``ProviderName``, ``DateTimeUTC``) and MS dates.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.pdf import text_pdf
from litestar import Request, Response, Router, delete, get, post, put
from litestar.params import FromPath

from ledgerbridge_xero.sandbox import render
from ledgerbridge_xero.sandbox.errors import (
    ElementInvalid,
    XeroApiError,
    not_found,
    post_data_invalid,
    simple_validation,
    validation_exception,
)
from ledgerbridge_xero.sandbox.gateway import TenantAccess, tenant_access
from ledgerbridge_xero.sandbox.idempotency import StoredAnswer, fingerprint
from ledgerbridge_xero.sandbox.msdate import ms_datetime, parse_modified_since
from ledgerbridge_xero.sandbox.service import ElementResult
from ledgerbridge_xero.sandbox.store import Organisation, Record
from ledgerbridge_xero.sandbox.where import compile_where, sort_records

if TYPE_CHECKING:
    from ledgerbridge_xero.sandbox.app import XeroSandbox

BASE = "/api.xro/2.0"
JSON = "application/json; charset=utf-8"
PAGED = {"Invoices", "Contacts", "Payments"}
CANONICAL = {name.lower(): name for name in ("Contacts", "Items", "Accounts", "TaxRates", "Invoices", "Payments")}
ID_FIELD = {
    "Contacts": "ContactID",
    "Items": "ItemID",
    "Accounts": "AccountID",
    "TaxRates": "TaxType",
    "Invoices": "InvoiceID",
    "Payments": "PaymentID",
}


def invoice_pdf(org: Organisation, invoice: Record) -> bytes:
    """``GET /Invoices/{id}`` with ``Accept: application/pdf``: the invoice as Xero's PDF shows it."""
    lines = [
        f"To: {invoice['Contact'].get('Name', '')}",
        f"Invoice date: {invoice.get('DateString', '')[:10]}   Due: {invoice.get('DueDateString', '')[:10]}",
        f"Reference: {invoice.get('Reference') or ''}",
        "",
    ]
    for item in invoice.get("LineItems", []):
        lines.append(
            f"{item.get('Description', '')}  {item.get('Quantity', '')} x {item.get('UnitAmount', '')}"
            f"  {item.get('LineAmount', '')}"
        )
    lines += [
        "",
        f"Subtotal: {invoice['SubTotal']}",
        f"Tax: {invoice['TotalTax']}",
        f"Total {invoice['CurrencyCode']}: {invoice['Total']}",
        f"Amount due: {invoice['AmountDue']}",
    ]
    return text_pdf(f"{org.preset.name} - Tax Invoice {invoice.get('InvoiceNumber', '')}", lines)


def _bool(value: str | None) -> bool:
    return (value or "").lower() == "true"


class ApiHandlers:
    """Request handling shared by the route functions (one instance per sandbox)."""

    def __init__(self, sandbox: XeroSandbox) -> None:
        self.sandbox = sandbox

    # -- helpers -----------------------------------------------------------------------------------

    def envelope(self, access: TenantAccess, **content: Any) -> dict[str, Any]:
        return {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": self.sandbox.app_name(access.client_id),
            "DateTimeUTC": ms_datetime(self.sandbox.clock.now()).replace("+0000", ""),
            **content,
        }

    def respond(self, payload: Any, status: int = 200) -> Response[bytes]:
        return Response(jsoncodec.dumps(payload), status_code=status, media_type=JSON)

    @staticmethod
    def error(exc: XeroApiError) -> Response[Any]:
        if isinstance(exc.body, str):
            return Response(exc.body, status_code=exc.status, media_type="text/plain", headers=exc.headers)
        return Response(jsoncodec.dumps(exc.body), status_code=exc.status, media_type=JSON, headers=exc.headers)

    def renderer(self, collection: str) -> Callable[[Organisation, Record], dict[str, Any]]:
        return {
            "Contacts": render.contact,
            "Items": render.item,
            "Accounts": render.account,
            "TaxRates": render.tax_rate,
            "Invoices": render.invoice,
            "Payments": render.payment,
        }[collection]

    def view(self, org: Organisation, collection: str, record: Record) -> Record:
        """Python-typed record with references resolved, for ``where`` and ``order``."""
        if collection == "Invoices":
            return render.invoice_view(org, record)
        if collection == "Payments":
            return render.payment_view(org, record)
        return record

    @staticmethod
    def canonical(collection: str) -> str:
        name = CANONICAL.get(collection.lower())
        if name is None:
            raise XeroApiError(404, "The resource you're looking for cannot be found")
        return name

    # -- reads -------------------------------------------------------------------------------------

    def list_collection(self, request: Request[Any, Any, Any], collection: str) -> Response[Any]:
        access = tenant_access(request.scope.get("state", {}))
        org = self.sandbox.service.organisation(access.tenant_id)
        query = request.query_params
        if collection.lower() == "organisation":
            return self.respond(self.envelope(access, Organisations=[render.organisation(org, self.sandbox.created)]))
        name = self.canonical(collection)
        predicate = compile_where(query.get("where"))
        since = None
        if request.headers.get("if-modified-since") and name != "TaxRates":
            try:
                since = parse_modified_since(request.headers["if-modified-since"])
            except ValueError as exc:
                raise simple_validation(str(exc)) from exc
        with org.locked():
            views = []
            for record in org.collection(name).values():
                view = self.view(org, name, record)
                if since is not None and not (record.get("UpdatedDateUTC") and record["UpdatedDateUTC"] > since):
                    continue
                if not self._passes_filters(name, view, query):
                    continue
                if predicate(view):
                    views.append((view, record))
            ordered = sort_records([v for v, _ in views], query.get("order"), "_created")
            by_id = {id(v): r for v, r in views}
            records = [by_id[id(v)] for v in ordered]
            content: dict[str, Any] = {}
            if name in PAGED:
                page, size = self._paging(query)
                total = len(records)
                content["pagination"] = {
                    "page": page,
                    "pageSize": size,
                    "pageCount": math.ceil(total / size),
                    "itemCount": total,
                }
                records = records[(page - 1) * size : page * size]
            rendered = [self.renderer(name)(org, r) for r in records]
        if _bool(query.get("summaryOnly")) and name == "Invoices":
            for item in rendered:
                item.pop("LineItems", None)
        if name in PAGED:
            content = {"pagination": content["pagination"], name: rendered}
        else:
            content = {name: rendered}
        return self.respond(self.envelope(access, **content))

    def _paging(self, query: Any) -> tuple[int, int]:
        config = self.sandbox.config
        try:
            page = int(query.get("page") or 1)
            size = int(query.get("pageSize") or config.page_size)
        except ValueError as exc:
            raise simple_validation("page and pageSize must be whole numbers") from exc
        if page < 1 or size < 1:
            raise simple_validation("page and pageSize must be at least 1")
        return page, min(size, config.max_page_size)

    @staticmethod
    def _passes_filters(name: str, view: Record, query: Any) -> bool:
        def listed(param: str) -> set[str] | None:
            value = query.get(param)
            return {v.strip().lower() for v in value.split(",") if v.strip()} if value else None

        ids = listed("IDs")
        if ids is not None and str(view.get(ID_FIELD[name], "")).lower() not in ids:
            return False
        if name == "Contacts":
            if view.get("ContactStatus") == "ARCHIVED" and not _bool(query.get("includeArchived")):
                return False
            term = (query.get("searchTerm") or "").lower()
            if (
                term
                and term
                not in " ".join(
                    str(view.get(k) or "") for k in ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
                ).lower()
            ):
                return False
        if name == "Invoices":
            for param, value in (
                ("InvoiceNumbers", view.get("InvoiceNumber")),
                ("Statuses", view.get("Status")),
                ("ContactIDs", view.get("Contact", {}).get("ContactID")),
            ):
                allowed = listed(param)
                if allowed is not None and str(value or "").lower() not in allowed:
                    return False
            term = (query.get("searchTerm") or "").lower()
            if term and term not in f"{view.get('InvoiceNumber') or ''} {view.get('Reference') or ''}".lower():
                return False
        return True

    def read(self, request: Request[Any, Any, Any], collection: str, record_id: str) -> Response[Any]:
        access = tenant_access(request.scope.get("state", {}))
        org = self.sandbox.service.organisation(access.tenant_id)
        name = self.canonical(collection)
        with org.locked():
            try:
                record = self.sandbox.service.get(org, name, record_id)
            except XeroApiError:
                record = self._by_number(org, name, record_id)
            rendered = self.renderer(name)(org, record)
        if name == "Invoices" and "application/pdf" in request.headers.get("accept", "").lower():
            return Response(invoice_pdf(org, rendered), media_type="application/pdf")
        return self.respond(self.envelope(access, **{name: [rendered]}))

    @staticmethod
    def _by_number(org: Organisation, name: str, value: str) -> Record:
        field = {"Invoices": "InvoiceNumber", "Contacts": "ContactNumber", "Items": "Code"}.get(name)
        # Invoices are indexed by number: a lookup scanned every invoice of the tenant.
        candidates = org.invoices_numbered(value) if name == "Invoices" else org.collection(name).values()
        for record in candidates:
            if field and record.get(field) == value:
                return record
        raise not_found()

    def online_invoice(self, request: Request[Any, Any, Any], invoice_id: str) -> Response[Any]:
        access = tenant_access(request.scope.get("state", {}))
        org = self.sandbox.service.organisation(access.tenant_id)
        record = self.sandbox.service.get(org, "Invoices", invoice_id)
        if record["Status"] in ("DRAFT", "SUBMITTED", "DELETED"):
            raise simple_validation("An online invoice is only available for approved invoices.")
        url = f"{self.sandbox.base_url(str(request.base_url))}/invoice/{record['InvoiceID']}"
        return self.respond(self.envelope(access, OnlineInvoices=[{"OnlineInvoiceUrl": url}]))

    # -- writes ------------------------------------------------------------------------------------

    async def write(
        self, request: Request[Any, Any, Any], collection: str, record_id: str | None, method: str
    ) -> Response[Any]:
        access = tenant_access(request.scope.get("state", {}))
        raw = await request.body()
        key = request.headers.get("idempotency-key")
        if key is None:
            return self._run_write(request, access, collection, record_id, method, raw)
        if not key.strip() or len(key) > self.sandbox.config.idempotency_key_max_length:
            raise simple_validation(
                f"Idempotency-Key must be 1 to {self.sandbox.config.idempotency_key_max_length} characters."
            )
        store = self.sandbox.idempotency
        store_key = (access.client_id, access.tenant_id, key)
        print_ = fingerprint(method, request.url.path, request.url.query or "", raw)
        with store.lock_for(store_key):
            answer = store.lookup(store_key)
            if answer is not None:
                if answer.fingerprint != print_:
                    raise simple_validation("This Idempotency-Key was already used for a different request.")
                return Response(answer.body, status_code=answer.status, media_type=answer.media_type)
            try:
                response = self._run_write(request, access, collection, record_id, method, raw)
            except XeroApiError as exc:
                response = self.error(exc)
            body = response.content if isinstance(response.content, bytes) else str(response.content).encode()
            status = response.status_code or 200
            if status < 500:
                store.remember(
                    store_key,
                    StoredAnswer(
                        print_, status, body, str(response.media_type), self.sandbox.clock.monotonic()
                    ),
                )
            return response

    def _elements(self, raw: bytes, name: str) -> list[Any]:
        try:
            data = jsoncodec.loads(raw) if raw.strip() else None
        except jsoncodec.JSONBodyError as exc:
            raise post_data_invalid(f"The request body could not be read: {exc}") from exc
        if isinstance(data, dict) and name in data:
            elements = data[name]
            if not isinstance(elements, list):
                raise post_data_invalid(f"{name} must be an array")
            return elements
        if isinstance(data, dict):
            return [data]
        if isinstance(data, list):
            return data
        raise post_data_invalid("The request body must be a JSON object")

    def _run_write(
        self,
        request: Request[Any, Any, Any],
        access: TenantAccess,
        collection: str,
        record_id: str | None,
        method: str,
        raw: bytes,
    ) -> Response[Any]:
        service = self.sandbox.service
        org = service.organisation(access.tenant_id)
        name = self.canonical(collection)
        elements = self._elements(raw, name)
        query = request.query_params
        summarize = (query.get("summarizeErrors") or "true").lower() != "false"
        mode = "update" if record_id else ("create" if method == "PUT" else "upsert")
        if record_id and len(elements) != 1:
            raise post_data_invalid("Send exactly one element when updating by id")
        unitdp = 4 if query.get("unitdp") == "4" else 2
        if name == "Contacts":
            results = service.save_contacts(org, elements, mode, record_id)
        elif name == "Items":
            results = service.save_items(org, elements, mode, record_id)
        elif name == "Invoices":
            results = service.save_invoices(org, elements, mode, record_id, unitdp)
        elif name == "Payments" and record_id:
            try:
                results = [ElementResult(elements[0], record=service.delete_payment(org, record_id, elements[0]))]
            except ElementInvalid as exc:
                results = [ElementResult(elements[0], errors=exc.messages)]
        elif name == "Payments":
            results = service.create_payments(org, elements)
        else:
            raise XeroApiError(
                501,
                {
                    "ErrorNumber": 20,
                    "Type": "NotImplementedException",
                    "Message": f"{method} is not supported on {name} by this sandbox",
                },
            )
        return self._write_answer(access, org, name, results, summarize)

    def _write_answer(
        self, access: TenantAccess, org: Organisation, name: str, results: list[ElementResult], summarize: bool
    ) -> Response[Any]:
        failed = [r for r in results if r.errors]
        flag = {"Invoices": "HasErrors", "Contacts": "HasValidationErrors", "Payments": "HasValidationErrors"}.get(name)

        def echo(result: ElementResult) -> dict[str, Any]:
            element = dict(result.submitted) if isinstance(result.submitted, dict) else {}
            element["ValidationErrors"] = [{"Message": m} for m in result.errors or []]
            return element

        if failed and summarize:
            raise validation_exception([echo(r) for r in failed])
        rendered = []
        with org.locked():
            for result in results:
                if result.errors:
                    element = echo(result)
                    element["StatusAttributeString"] = "ERROR"
                    if flag:
                        element[flag] = True
                    rendered.append(element)
                else:
                    assert result.record is not None
                    element = self.renderer(name)(org, result.record)
                    if not summarize:
                        element["StatusAttributeString"] = "OK"
                        if flag:
                            element[flag] = False
                    rendered.append(element)
        return self.respond(self.envelope(access, **{name: rendered}))

    def delete_item(self, request: Request[Any, Any, Any], item_id: str) -> Response[Any]:
        access = tenant_access(request.scope.get("state", {}))
        org = self.sandbox.service.organisation(access.tenant_id)
        self.sandbox.service.delete_item(org, item_id)
        return Response(b"", status_code=204)


def build_api_router(sandbox: XeroSandbox) -> Router:
    """Routes under ``/api.xro/2.0`` (the gateway has authenticated and metered them already)."""
    h = ApiHandlers(sandbox)

    def guarded(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except XeroApiError as exc:
            return h.error(exc)

    @get("/{collection:str}")
    async def list_records(request: Request[Any, Any, Any], collection: FromPath[str]) -> Response[Any]:
        """GET a collection (or the Organisation)."""
        return guarded(lambda: h.list_collection(request, collection))

    @get("/{collection:str}/{record_id:str}")
    async def read_record(
        request: Request[Any, Any, Any], collection: FromPath[str], record_id: FromPath[str]
    ) -> Response[Any]:
        """GET one record by id (or invoice number)."""
        return guarded(lambda: h.read(request, collection, record_id))

    @get("/{collection:str}/{record_id:str}/{part:str}")
    async def online_invoice(
        request: Request[Any, Any, Any], collection: FromPath[str], record_id: FromPath[str], part: FromPath[str]
    ) -> Any:
        """The customer-facing invoice URL (``/Invoices/{id}/OnlineInvoice``)."""
        if collection.lower() != "invoices" or part.lower() != "onlineinvoice":
            return h.error(not_found())
        return guarded(lambda: h.online_invoice(request, record_id))

    async def guarded_write(request: Request[Any, Any, Any], collection: str, record_id: str | None) -> Response[Any]:
        try:
            return await h.write(request, collection, record_id, request.method)
        except XeroApiError as exc:
            return h.error(exc)

    @put("/{collection:str}", status_code=200)
    async def put_records(request: Request[Any, Any, Any], collection: FromPath[str]) -> Response[Any]:
        """Create only."""
        return await guarded_write(request, collection, None)

    @post("/{collection:str}", status_code=200)
    async def post_records(request: Request[Any, Any, Any], collection: FromPath[str]) -> Response[Any]:
        """Create or update."""
        return await guarded_write(request, collection, None)

    @post("/{collection:str}/{record_id:str}", status_code=200)
    async def post_record(
        request: Request[Any, Any, Any], collection: FromPath[str], record_id: FromPath[str]
    ) -> Response[Any]:
        """Update one record (for Payments: delete it)."""
        return await guarded_write(request, collection, record_id)

    @delete("/{collection:str}/{record_id:str}", status_code=200)
    async def delete_item(
        request: Request[Any, Any, Any], collection: FromPath[str], record_id: FromPath[str]
    ) -> Response[Any]:
        """Remove an item (the only DELETE LedgerBridge needs)."""
        if collection.lower() != "items":
            return h.error(not_found())
        return guarded(lambda: h.delete_item(request, record_id))

    return Router(
        path=BASE,
        route_handlers=[list_records, read_record, online_invoice, put_records, post_records, post_record, delete_item],
        include_in_schema=False,
    )
