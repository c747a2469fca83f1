"""The FreshBooks REST routes: accounting resources, ledger accounts and webhook callbacks.

Accounting answers ``{"response":{"result":{...}}}`` (lists add ``page``, ``pages``, ``per_page``,
``total``); ledger accounts use the newer ``{"data": ...}`` envelope; callbacks use the classic envelope
with their own error shape. Routes only translate HTTP to :class:`~.service.FbService` calls and back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.pdf import text_pdf
from litestar import Request, Response, Router, delete, get, post, put
from litestar.params import FromPath

from ledgerbridge_freshbooks.sandbox.errors import FbError, invalid
from ledgerbridge_freshbooks.sandbox.guard import CLIENT_KEY, IDENTITY_KEY, error_body
from ledgerbridge_freshbooks.sandbox.listing import paginate, parse_page
from ledgerbridge_freshbooks.sandbox.notifications import CallbackInvalid, render_callback
from ledgerbridge_freshbooks.sandbox.service import PLURAL, RESOURCES

if TYPE_CHECKING:
    from ledgerbridge_freshbooks.sandbox.app import FbSandbox

JSON = "application/json"
Req = Request[Any, Any, Any]


def _json(value: Any, status: int = 200) -> Response[bytes]:
    return Response(jsoncodec.dumps(value), status_code=status, media_type=JSON)


def _result(value: Any) -> Response[bytes]:
    return _json({"response": {"result": value}})


async def _body(request: Req, key: str, obj: str) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = jsoncodec.loads(raw) if raw.strip() else None
    except jsoncodec.JSONBodyError as exc:
        raise FbError(400, 1001, "The request body is not valid JSON.", obj, "", str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise invalid(obj, key, f"The request body must be an object with a '{key}' object.")
    return data[key]


def _resource(group: FromPath[str], resource: FromPath[str]) -> tuple[str, str, str]:
    spec = RESOURCES.get(f"{group}/{resource}")
    if spec is None:
        raise FbError(404, 1012, "Requested resource could not be found.", resource, "", f"{group}/{resource}")
    return spec


def _include_lines(request: Req) -> bool:
    return "lines" in request.query_params.getall("include[]", [])


def _with_includes(table: str, body: dict[str, Any], request: Req) -> dict[str, Any]:
    """Add what ``include[]`` asks for beyond lines: ``presentation`` (the invoice's look) on invoices."""
    if table == "invoices" and "presentation" in request.query_params.getall("include[]", []):
        body["presentation"] = invoice_presentation(body)
    return body


def invoice_presentation(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice's presentation settings as FreshBooks answers ``include[]=presentation``: the
    business's default theme, since the sandbox has no theme editor."""
    return {
        "date_format": "mm/dd/yyyy",
        "id": invoice["invoiceid"],
        "image_banner_position_y": 0,
        "image_banner_src": None,
        "image_logo_src": None,
        "invoiceid": invoice["invoiceid"],
        "theme_font_name": "modern",
        "theme_layout": "simple",
        "theme_primary_color": "#345beb",
    }


def invoice_pdf(invoice: dict[str, Any]) -> bytes:
    """``GET .../invoices/{id}/pdf`` with ``Accept: application/pdf``: the invoice as its PDF shows it."""
    code = invoice["currency_code"]
    lines = [
        f"Billed to: {invoice.get('current_organization', '')}",
        f"Date of issue: {invoice['create_date']}   Due date: {invoice['due_date']}",
        "",
    ]
    for line in invoice.get("lines", []):
        lines.append(f"{line['name']}  {line['qty']} x {line['unit_cost']['amount']}  {line['amount']['amount']}")
    lines += ["", f"Total ({code}): {invoice['amount']['amount']}", f"Amount due: {invoice['outstanding']['amount']}"]
    return text_pdf(f"Invoice {invoice['invoice_number']}", lines)


def build_api_router(sandbox: FbSandbox) -> Router:
    """All REST routes of one sandbox instance."""
    service = sandbox.service
    cfg = sandbox.config

    def accounting_error(exc: FbError) -> Response[bytes]:
        return _json(error_body("accounting", exc, cfg.error_format), exc.status)

    def actor(request: Req) -> int:
        return request.scope["state"][IDENTITY_KEY]  # type: ignore[index]

    def shape(body: dict[str, Any], request: Req) -> dict[str, Any]:
        if not _include_lines(request):
            body.pop("lines", None)
        return body

    # -- accounting ---------------------------------------------------------------------------------------

    @get("/accounting/account/{account_id:str}/{group:str}/{resource:str}")
    async def list_records(
        account_id: FromPath[str], group: FromPath[str], resource: FromPath[str], request: Req
    ) -> Response[bytes]:
        """A page of records with ``search[...]`` filters."""
        try:
            table, _, _ = _resource(group, resource)
            page = parse_page(request.query_params, cfg.default_per_page, cfg.max_per_page)
            query = [(k, v) for k, values in request.query_params.dict().items() for v in values]
            rows, meta = service.list(account_id, table, query, page, _include_lines(request))
        except FbError as exc:
            return accounting_error(exc)
        return _result({PLURAL[table]: [_with_includes(table, row, request) for row in rows], **meta})

    @post("/accounting/account/{account_id:str}/{group:str}/{resource:str}", status_code=200)
    async def create_record(
        account_id: FromPath[str], group: FromPath[str], resource: FromPath[str], request: Req
    ) -> Response[bytes]:
        """Create; an invoice without a number takes the previous one plus one (racy, as on FreshBooks)."""
        try:
            table, singular, _ = _resource(group, resource)
            data = await _body(request, singular, singular)
            auto = None
            if table == "invoices" and data.get("invoice_number") in (None, ""):
                auto = service.next_invoice_number(account_id)
                await sandbox.clock.sleep(cfg.auto_number_race_window)
            body = service.create(account_id, table, data, actor(request), auto_number=auto)
        except FbError as exc:
            return accounting_error(exc)
        return _result({singular: _with_includes(table, shape(body, request), request)})

    @get("/accounting/account/{account_id:str}/{group:str}/{resource:str}/{record_id:str}")
    async def get_record(
        account_id: FromPath[str], group: FromPath[str], resource: FromPath[str], record_id: FromPath[str], request: Req
    ) -> Response[bytes]:
        """One record by id (deleted ones included)."""
        try:
            table, singular, _ = _resource(group, resource)
            body = service.get(account_id, table, record_id, _include_lines(request))
        except FbError as exc:
            return accounting_error(exc)
        return _result({singular: _with_includes(table, body, request)})

    @put("/accounting/account/{account_id:str}/{group:str}/{resource:str}/{record_id:str}")
    async def update_record(
        account_id: FromPath[str], group: FromPath[str], resource: FromPath[str], record_id: FromPath[str], request: Req
    ) -> Response[bytes]:
        """Update, change ``vis_state``, or run an action such as ``action_mark_as_sent``."""
        try:
            table, singular, _ = _resource(group, resource)
            data = await _body(request, singular, singular)
            body = service.update(account_id, table, record_id, data, actor(request))
        except FbError as exc:
            return accounting_error(exc)
        return _result({singular: _with_includes(table, shape(body, request), request)})

    @delete("/accounting/account/{account_id:str}/{group:str}/{resource:str}/{record_id:str}", status_code=200)
    async def delete_record(
        account_id: FromPath[str], group: FromPath[str], resource: FromPath[str], record_id: FromPath[str], request: Req
    ) -> Response[bytes]:
        """HTTP DELETE: soft for invoices and others, real for taxes."""
        try:
            table, singular, _ = _resource(group, resource)
            body = service.delete(account_id, table, record_id, actor(request))
        except FbError as exc:
            return accounting_error(exc)
        return _result({singular: shape(body, request)} if body is not None else {})

    @get("/accounting/account/{account_id:str}/{group:str}/{resource:str}/{invoice_id:str}/{action:str}")
    async def share_link(
        account_id: FromPath[str],
        group: FromPath[str],
        resource: FromPath[str],
        invoice_id: FromPath[str],
        action: FromPath[str],
        request: Req,
    ) -> Response[bytes]:
        """``invoices/invoices/{id}/share_link``: the client-facing link, and ``.../pdf`` (a generic path:
        Litestar's router would otherwise let the static segments shadow the resource routes)."""
        method = request.query_params.get("share_method") or "share_link"
        try:
            if (group, resource, action) == ("invoices", "invoices", "pdf"):
                invoice = service.get(account_id, "invoices", invoice_id, True)
                return Response(invoice_pdf(invoice), media_type="application/pdf")
            if (group, resource, action) != ("invoices", "invoices", "share_link"):
                raise FbError(404, 1012, "Requested resource could not be found.", resource, "", action)
            invoice = service.get(account_id, "invoices", invoice_id)
            token = service.share_token(account_id, invoice_id)
        except FbError as exc:
            return accounting_error(exc)
        link = f"{sandbox.web_url(request)}/#/link/{token}?type=secondary&share_method={method}"
        return _result({"share_link": {"share_link": link, "invoiceid": invoice["id"]}})

    # -- ledger accounts (business service) --------------------------------------------------------------------

    @get("/accounting/businesses/{business_uuid:str}/ledger_accounts/accounts")
    async def ledger_accounts(business_uuid: FromPath[str]) -> Response[bytes]:
        """Chart of accounts in the newer ``{"data": [...]}`` envelope."""
        business = sandbox.state.by_uuid(business_uuid)
        return _json({"data": list(business.ledger_accounts) if business else []})

    @get("/accounting/businesses/{business_uuid:str}/ledger_accounts/accounts/{account_uuid:str}")
    async def ledger_account(business_uuid: FromPath[str], account_uuid: FromPath[str]) -> Response[bytes]:
        """One ledger account."""
        business = sandbox.state.by_uuid(business_uuid)
        row = next((a for a in (business.ledger_accounts if business else []) if a["uuid"] == account_uuid), None)
        if row is None:
            error = FbError(404, 1012, "Ledger account not found.", "ledger_account", "uuid", account_uuid)
            return _json(error.business(), 404)
        return _json({"data": row})

    # -- webhook callbacks (events service) -----------------------------------------------------------------------

    def events_error(status: int, message: str, details: list[str] | None = None) -> Response[bytes]:
        body: dict[str, Any] = {"errno": status, "message": message}
        if details is not None:
            body["details"] = details
        return _json(body, status)

    def find_callback(account_id: FromPath[str], callback_id: FromPath[str], request: Req) -> Any:
        business = sandbox.state.business(account_id)
        try:
            key = int(callback_id)
        except ValueError:
            return business, None
        callback = business.callbacks.get(key) if business else None
        if callback is None or callback.client_id != request.scope["state"][CLIENT_KEY]:  # type: ignore[index]
            return business, None
        return business, callback

    not_found_message = "Requested resource could not be found."

    @get("/events/account/{account_id:str}/events/callbacks")
    async def list_callbacks(account_id: FromPath[str], request: Req) -> Response[bytes]:
        """This app's callbacks; ``search[event]=invoice`` matches all ``invoice.*``."""
        business = sandbox.state.business(account_id)
        wanted = request.query_params.get("search[event]")
        client_id = request.scope["state"][CLIENT_KEY]  # type: ignore[index]
        rows = [
            render_callback(c)
            for c in (business.callbacks.values() if business else [])
            if c.client_id == client_id and (not wanted or c.event == wanted or c.event.startswith(wanted + "."))
        ]
        try:
            page = parse_page(request.query_params, cfg.default_per_page, cfg.max_per_page)
        except FbError as exc:
            return events_error(400, exc.message)
        items, meta = paginate(rows, page)
        return _result({"callbacks": items, **meta})

    @post("/events/account/{account_id:str}/events/callbacks", status_code=200)
    async def create_callback(account_id: FromPath[str], request: Req) -> Response[bytes]:
        """Register a callback; the verification form is queued for delivery."""
        business = sandbox.state.business(account_id)
        if business is None:
            return events_error(404, not_found_message)
        raw = await request.body()
        try:
            data = jsoncodec.loads(raw) if raw.strip() else {}
        except jsoncodec.JSONBodyError:
            return events_error(400, "The request body is not valid JSON.")
        spec = data.get("callback") if isinstance(data, dict) else None
        if not isinstance(spec, dict):
            return events_error(
                422,
                "The request was well-formed but was unable to be followed due to semantic errors.",
                ["callback: Field required"],
            )
        try:
            callback = sandbox.webhooks.register(
                business,
                request.scope["state"][CLIENT_KEY],  # type: ignore[index]
                spec.get("event"),
                spec.get("uri"),
            )
        except CallbackInvalid as exc:
            return events_error(
                422, "The request was well-formed but was unable to be followed due to semantic errors.", exc.details
            )
        return _result({"callback": render_callback(callback)})

    @get("/events/account/{account_id:str}/events/callbacks/{callback_id:str}")
    async def get_callback(account_id: FromPath[str], callback_id: FromPath[str], request: Req) -> Response[bytes]:
        """One callback."""
        _, callback = find_callback(account_id, callback_id, request)
        if callback is None:
            return events_error(404, not_found_message)
        return _result({"callback": render_callback(callback)})

    @put("/events/account/{account_id:str}/events/callbacks/{callback_id:str}")
    async def verify_callback(account_id: FromPath[str], callback_id: FromPath[str], request: Req) -> Response[bytes]:
        """Confirm with ``{"callback":{"verifier":...}}`` or ask for a new code with ``{"resend": true}``."""
        business, callback = find_callback(account_id, callback_id, request)
        if callback is None:
            return events_error(404, not_found_message)
        raw = await request.body()
        try:
            data = jsoncodec.loads(raw) if raw.strip() else {}
        except jsoncodec.JSONBodyError:
            return events_error(400, "The request body is not valid JSON.")
        spec = data.get("callback") if isinstance(data, dict) else None
        if not isinstance(spec, dict) or not (spec.get("verifier") or spec.get("resend")):
            return events_error(
                422,
                "The request was well-formed but was unable to be followed due to semantic errors.",
                ["callback: verifier or resend required"],
            )
        if not sandbox.webhooks.verify(business, callback, spec):
            return events_error(
                422,
                "The request was well-formed but was unable to be followed due to semantic errors.",
                ["verifier: Invalid verifier."],
            )
        return _result({"callback": render_callback(callback)})

    @delete("/events/account/{account_id:str}/events/callbacks/{callback_id:str}", status_code=200)
    async def delete_callback(account_id: FromPath[str], callback_id: FromPath[str], request: Req) -> Response[bytes]:
        """Stop a callback."""
        business, callback = find_callback(account_id, callback_id, request)
        if callback is None:
            return events_error(404, not_found_message)
        with business.locked():
            business.callbacks.pop(callback.callbackid, None)
        return _result({})

    return Router(
        path="/",
        route_handlers=[
            list_records,
            create_record,
            get_record,
            update_record,
            delete_record,
            share_link,
            ledger_accounts,
            ledger_account,
            list_callbacks,
            create_callback,
            get_callback,
            verify_callback,
            delete_callback,
        ],
        include_in_schema=False,
    )
