"""The accounting API under ``/v3/company/{realmId}/`` (FACTS.md QBO 2-5).

URI patterns are Intuit's: ``POST /{entity}`` creates or updates (``operation=delete``/``void``,
``operation=update&include=void`` for payments), ``GET /{entity}/{id}`` reads, ``GET|POST /query``,
``GET /cdc``, ``POST /batch``. Every response wraps its payload with a ``time`` field.

``requestid`` makes any write idempotent per company: the first response (status and exact bytes) is
stored and replayed for the same id without executing again; ids longer than 50 characters are
refused with 6000. ``minorversion`` is accepted and values below 75 count as 75 (FACTS QBO 2); the
sandbox implements minor version 75 behaviour whatever the value, since newer minor versions only add
fields.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.pdf import text_pdf
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from ledgerbridge_quickbooks.sandbox import errors
from ledgerbridge_quickbooks.sandbox.batch import run_batch
from ledgerbridge_quickbooks.sandbox.cdc import change_data_capture
from ledgerbridge_quickbooks.sandbox.entities import BY_URL
from ledgerbridge_quickbooks.sandbox.errors import QboFault
from ledgerbridge_quickbooks.sandbox.guard import RATE_KEY
from ledgerbridge_quickbooks.sandbox.service import UnknownCompany
from ledgerbridge_quickbooks.sandbox.store import Company, StoredResponse, format_response_time

if TYPE_CHECKING:
    from ledgerbridge_quickbooks.sandbox.app import QboSandbox

logger = logging.getLogger(__name__)

MINIMUM_MINOR_VERSION = 75
JSON_TYPE = "application/json;charset=UTF-8"


def effective_minor_version(raw: str | None) -> int:
    """Values 1-74 (and anything unreadable) are treated as 75, as Intuit does since 2025-08-01."""
    try:
        value = int(raw) if raw is not None else MINIMUM_MINOR_VERSION
    except ValueError:
        return MINIMUM_MINOR_VERSION
    return max(value, MINIMUM_MINOR_VERSION)


def invoice_pdf(company: Company, invoice: dict[str, Any]) -> bytes:
    """The invoice as QBO's PDF would show it: number, dates, customer, lines and totals."""
    lines = [
        f"Customer: {invoice['CustomerRef'].get('name', invoice['CustomerRef']['value'])}",
        f"Date: {invoice.get('TxnDate', '')}   Due: {invoice.get('DueDate', '')}",
        "",
    ]
    for line in invoice.get("Line", []):
        if line.get("DetailType") == "SalesItemLineDetail":
            item = line["SalesItemLineDetail"].get("ItemRef", {}).get("name", "")
            lines.append(f"{item}  {line.get('Description', '')}  {line['Amount']}")
    lines += ["", f"Total: {invoice['TotalAmt']}", f"Balance due: {invoice.get('Balance', invoice['TotalAmt'])}"]
    return text_pdf(f"{company.preset.company_name} - Invoice {invoice.get('DocNumber', invoice['Id'])}", lines)


def build_api_router(sandbox: QboSandbox) -> Router:
    """The ``/v3/company/{realmId}`` routes of one sandbox instance."""

    def company_of(realm_id: str) -> Company:
        try:
            return sandbox.service.company(realm_id)
        except UnknownCompany as exc:
            raise errors.authorization_failure(f"Unknown company {realm_id}") from exc

    def respond(company: Company, payload: dict[str, Any], status: int = 200) -> Response[bytes]:
        body = {**payload, "time": format_response_time(sandbox.clock.now(), company.tz)}
        return Response(jsoncodec.dumps(body), status_code=status, media_type=JSON_TYPE)

    def fault_response(company: Company, fault: QboFault) -> Response[bytes]:
        response = respond(company, {"Fault": fault.fault_body()}, fault.status)
        response.headers.update(fault.headers)
        return response

    async def json_body(request: Request[Any, Any, Any]) -> Any:
        raw = await request.body()
        try:
            return jsoncodec.loads(raw)
        except jsoncodec.JSONBodyError as exc:
            raise QboFault(
                "2010", "Request has invalid or unsupported property", f"Error parsing the request body as JSON: {exc}"
            ) from exc

    def idempotent(company: Company, requestid: str | None, run: Any) -> Response[bytes]:
        """Execute ``run`` once per requestid; replay the stored response afterwards."""
        if requestid is None:
            try:
                return run()
            except QboFault as fault:
                return fault_response(company, fault)
        if len(requestid) > sandbox.config.requestid_max_length:
            raise errors.business_rule(
                f"You cannot enter more than {sandbox.config.requestid_max_length} characters in the request_id "
                f"field. You tried entering {requestid[:10]}..., which is {len(requestid)} characters.",
                "requestid",
            )
        with company.locked():
            stored = company.requestids.get(requestid)
            if stored is not None:
                return Response(stored.body, status_code=stored.status, media_type=JSON_TYPE)
            try:
                response = run()
            except QboFault as fault:
                response = fault_response(company, fault)
            if response.status_code < 500 and response.status_code != 429:
                company.requestids[requestid] = StoredResponse(response.status_code, response.content)
            return response

    @get("/{entity_url:str}")
    async def get_collection(
        realm_id: FromPath[str], entity_url: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        """GET /query, /cdc and /preferences."""
        company = company_of(realm_id)
        effective_minor_version(request.query_params.get("minorversion"))
        try:
            if entity_url == "query":
                text = request.query_params.get("query")
                if not text:
                    raise errors.required_missing("query")
                return respond(company, {"QueryResponse": sandbox.service.query(realm_id, text)})
            if entity_url == "cdc":
                return respond(
                    company,
                    change_data_capture(
                        sandbox.service,
                        realm_id,
                        request.query_params.get("entities"),
                        request.query_params.get("changedSince"),
                        max_lookback_days=sandbox.config.cdc_max_lookback_days,
                        max_objects=sandbox.config.cdc_max_objects,
                    ),
                )
            if entity_url == "preferences":
                return respond(company, {"Preferences": sandbox.service.read(realm_id, "Preferences", "1")})
            raise errors.unsupported_operation(f"GET /{entity_url}")
        except QboFault as fault:
            return fault_response(company, fault)

    @get("/{entity_url:str}/{entity_id:str}")
    async def read_entity(
        realm_id: FromPath[str], entity_url: FromPath[str], entity_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        """GET /{entity}/{id} (``include=invoiceLink`` adds the pay link when QBO would)."""
        company = company_of(realm_id)
        spec = BY_URL.get(entity_url)
        try:
            if spec is None:
                raise errors.unsupported_operation(f"GET /{entity_url}")
            record = sandbox.service.read(realm_id, spec.name, entity_id)
            includes = (request.query_params.get("include") or "").lower().split(",")
            if spec.name == "Invoice" and "invoicelink" in includes:
                if record.get("AllowOnlineCreditCardPayment") and (record.get("BillEmail") or {}).get("Address"):
                    base = sandbox.config.public_base_url or str(request.base_url).rstrip("/")
                    record["InvoiceLink"] = f"{base}/app/pay?txnId={record['Id']}&companyId={realm_id}"
            return respond(company, {spec.name: record})
        except QboFault as fault:
            return fault_response(company, fault)

    @post("/{entity_url:str}", status_code=200)
    async def write(
        realm_id: FromPath[str], entity_url: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        """POST /{entity} (create, update, delete, void), /query and /batch, all requestid-aware."""
        company = company_of(realm_id)
        params = request.query_params
        effective_minor_version(params.get("minorversion"))
        requestid = params.get("requestid")
        try:
            if entity_url == "query":
                text = (await request.body()).decode("utf-8", errors="replace")
                return respond(company, {"QueryResponse": sandbox.service.query(realm_id, text)})
            if entity_url == "batch":
                body = await json_body(request)
                rate_key = request.scope.get("state", {}).get(RATE_KEY)

                def meter(cost: int) -> None:
                    if rate_key is not None and not sandbox.limits.per_minute.hit(rate_key, cost).allowed:
                        raise errors.throttled()

                return idempotent(
                    company,
                    requestid,
                    lambda: respond(
                        company,
                        run_batch(
                            sandbox.service, realm_id, body, config=sandbox.config, requestid=requestid, meter=meter
                        ),
                    ),
                )
            spec = BY_URL.get(entity_url)
            if spec is None:
                raise errors.unsupported_operation(f"POST /{entity_url}")
            body = await json_body(request)
            operation = (params.get("operation") or "").lower()
            include = (params.get("include") or "").lower()

            def run() -> Response[bytes]:
                service = sandbox.service
                if operation == "delete":
                    result = service.delete(realm_id, spec.name, body)
                elif operation == "void":
                    result = service.void(realm_id, spec.name, body)
                elif operation == "update" and include == "void":
                    if spec.name == "Payment":
                        result = service.update(realm_id, spec.name, body, void=True)
                    else:
                        result = service.void(realm_id, spec.name, body)
                elif operation in ("", "create", "update"):
                    result = service.save(realm_id, spec.name, body)
                else:
                    raise errors.unsupported_operation(f"{operation} for {spec.name}")
                return respond(company, {spec.name: result})

            return idempotent(company, requestid, run)
        except QboFault as fault:
            return fault_response(company, fault)

    @get("/{entity_url:str}/{entity_id:str}/{action:str}")
    async def read_entity_part(
        realm_id: FromPath[str], entity_url: FromPath[str], entity_id: FromPath[str], action: FromPath[str]
    ) -> Response[bytes]:
        """GET /invoice/{id}/pdf; any other sub-resource is QBO's "Unsupported Operation" fault."""
        company = company_of(realm_id)
        spec = BY_URL.get(entity_url)
        try:
            if spec is None or spec.name != "Invoice" or action != "pdf":
                raise errors.unsupported_operation(f"GET /{entity_url}/{{id}}/{action}")
            invoice = sandbox.service.read(realm_id, spec.name, entity_id)
            return Response(invoice_pdf(company, invoice), media_type="application/pdf")
        except QboFault as fault:
            return fault_response(company, fault)

    @post("/{entity_url:str}/{entity_id:str}/{action:str}", status_code=200)
    async def entity_action(
        realm_id: FromPath[str],
        entity_url: FromPath[str],
        entity_id: FromPath[str],
        action: FromPath[str],
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        """POST /invoice/{id}/send."""
        company = company_of(realm_id)
        spec = BY_URL.get(entity_url)
        try:
            if spec is None or action != "send":
                raise errors.unsupported_operation(f"POST /{entity_url}/{{id}}/{action}")
            result = sandbox.service.send(realm_id, spec.name, entity_id, request.query_params.get("sendTo"))
            return respond(company, {spec.name: result})
        except QboFault as fault:
            return fault_response(company, fault)

    return Router(
        path="/v3/company/{realm_id:str}",
        route_handlers=[get_collection, read_entity, read_entity_part, write, entity_action],
        include_in_schema=False,
    )
