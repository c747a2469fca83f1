"""Acme Books's API as the sandbox serves it, under `/api/v1` (the gateway has checked token and limits).

* `GET /companies`: the companys the token covers;
* `GET /companies/<id>/<collection>?page=&per_page=&updated_since=&type=`: one page, oldest id first,
  with `meta.pages` and `meta.server_time` (the sandbox clock when the read began);
* `GET /companies/<id>/<collection>/<record id>`;
* `POST /companies/<id>/customers|items|time_entries` and `PATCH .../<record id>` (with an optional
  `version` that must match, else 409);
* `POST /companies/<id>/invoices`, `PATCH .../invoices/<id>`, `POST .../invoices/<id>/void`,
  `DELETE .../invoices/<id>`; `GET .../invoices?number=&ids=` finds invoices (deleted ones included);
* `POST /companies/<id>/payments` records a payment against an invoice; `POST .../payments/<id>/void` voids
  it (the invoice owes the amount again);
* `POST /companies/<id>/batch` with `{"invoices": [{"idempotency_key", "id"?, "invoice"}]}` creates or
  updates up to `BATCH_LIMIT` invoices in one request; each item succeeds or fails on its own.

Acme has native idempotency: a write carrying an `Idempotency-Key` header (or a batch item its
`idempotency_key`) that was already answered gets the first answer again and changes nothing.
Collections: customers, items, accounts, tax_rates, invoices, payments, time_entries. Errors are
`{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.oauth_http import json_response
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import FromPath

from ledgerbridge_acme.sandbox.books import COLLECTIONS, WRITABLE, ApiError
from ledgerbridge_acme.sandbox.gateway import grant_of

if TYPE_CHECKING:
    from ledgerbridge_acme.sandbox.app import Sandbox


def _collection(name: str, *, writable: bool = False) -> str:
    if name not in COLLECTIONS:
        raise ApiError(404, "not_found", f"No collection {name}.")
    if writable and name not in WRITABLE:
        raise ApiError(405, "read_only", f"{name} cannot be changed through the API.")
    return name


def _positive(value: str | None, default: int, name: str) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number.") from None
    if number < 1:
        raise ApiError(400, "invalid_parameter", f"{name} must be at least 1.")
    return number


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "invalid_parameter", "updated_since must be an ISO 8601 timestamp.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        data = jsoncodec.loads(await request.body())
    except jsoncodec.JSONBodyError as exc:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _refusal(request: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
    return json_response(exc.body(), exc.status, exc.headers)


BATCH_LIMIT = 10
IDEMPOTENCY_HEADER = "idempotency-key"


def build_api_router(sandbox: Sandbox) -> Router:
    books = sandbox.books

    def once(company_id: str, key: str, write: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        """The first answer to `key` (replayed), else the write's; refusals are not remembered."""
        if key and (company_id, key) in books.replays:
            return books.replays[(company_id, key)]
        answer = write()
        if key:
            books.replays[(company_id, key)] = answer
        return answer

    def keyed(request: Request[Any, Any, Any], company_id: str, write: Callable[[], tuple[int, Any]]
              ) -> Response[bytes]:
        status, body = once(company_id, request.headers.get(IDEMPOTENCY_HEADER, ""), write)
        return json_response(body, status)

    def batch(company_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        if sandbox.take_batch_refusal():
            raise ApiError(429, "throttled", "Batch requests are throttled; try again shortly.", {"Retry-After": "1"})
        entries = body.get("invoices")
        if not isinstance(entries, list) or not 0 < len(entries) <= BATCH_LIMIT:
            raise ApiError(400, "invalid_batch", f"A batch holds 1 to {BATCH_LIMIT} invoices.")
        results = []
        for entry in entries:
            entry = entry if isinstance(entry, dict) else {}
            try:
                _, answer = once(company_id, str(entry.get("idempotency_key") or ""),
                                 lambda entry=entry: (200, {"data": write_invoice(company_id, entry)}))
                results.append(answer)
            except ApiError as exc:
                results.append(exc.body())
        return 200, {"results": results}

    def write_invoice(company_id: str, entry: dict[str, Any]) -> dict[str, Any]:
        invoice = entry.get("invoice") or {}
        if entry.get("id"):
            return books.update_invoice(company_id, str(entry["id"]), invoice)
        return books.create_invoice(company_id, invoice)

    @get("/companies")
    async def companies(request: Request[Any, Any, Any]) -> Response[bytes]:
        company = books.company(grant_of(request.state).subject)
        return json_response({"data": [{"id": company.id, "name": company.name, "currency": company.currency}]})

    @get("/companies/{company_id:str}/{collection:str}")
    async def listing(request: Request[Any, Any, Any], company_id: FromPath[str],
                      collection: FromPath[str]) -> Response[bytes]:
        query = request.query_params
        page = _positive(query.get("page"), 1, "page")
        size = min(_positive(query.get("per_page"), sandbox.config.max_page_size, "per_page"),
                   sandbox.config.max_page_size)
        filters = {name: tuple(query[key].split(",")) for name, key in (("type", "type"), ("number", "number"),
                                                                         ("id", "ids")) if query.get(key)}
        started = sandbox.clock.now()
        rows = books.listing(company_id, _collection(collection), _since(query.get("updated_since")), filters)
        pages = max(1, math.ceil(len(rows) / size))
        return json_response({"data": rows[(page - 1) * size:page * size],
                              "meta": {"page": page, "per_page": size, "pages": pages, "total": len(rows),
                                       "server_time": started.isoformat()}})

    @get("/companies/{company_id:str}/{collection:str}/{record_id:str}")
    async def one(company_id: FromPath[str], collection: FromPath[str], record_id: FromPath[str]) -> Response[bytes]:
        return json_response({"data": books.get(company_id, _collection(collection), record_id)})

    @post("/companies/{company_id:str}/{collection:str}", status_code=201)
    async def create(request: Request[Any, Any, Any], company_id: FromPath[str],
                     collection: FromPath[str]) -> Response[bytes]:
        body = await _body(request)
        if collection == "batch":
            return keyed(request, company_id, lambda: batch(company_id, body))
        if collection == "invoices":
            return keyed(request, company_id, lambda: (201, {"data": books.create_invoice(company_id, body)}))
        if collection == "payments":
            return keyed(request, company_id, lambda: (201, {"data": books.record_payment(company_id, body)}))
        name = _collection(collection, writable=True)
        return keyed(request, company_id, lambda: (201, {"data": books.create(company_id, name, body)}))

    @patch("/companies/{company_id:str}/{collection:str}/{record_id:str}")
    async def change(request: Request[Any, Any, Any], company_id: FromPath[str], collection: FromPath[str],
                     record_id: FromPath[str]) -> Response[bytes]:
        changes = await _body(request)
        if collection == "invoices":
            return keyed(request, company_id, lambda: (200, {"data": books.update_invoice(company_id, record_id,
                                                                                          changes)}))
        version = changes.pop("version", None)
        name = _collection(collection, writable=True)
        return keyed(request, company_id, lambda: (200, {"data": books.update(
            company_id, name, record_id, changes, int(version) if version is not None else None)}))

    @delete("/companies/{company_id:str}/{collection:str}/{record_id:str}", status_code=200)
    async def remove(request: Request[Any, Any, Any], company_id: FromPath[str], collection: FromPath[str],
                     record_id: FromPath[str]) -> Response[bytes]:
        if collection != "invoices":
            raise ApiError(405, "not_deletable", f"{collection} cannot be deleted through the API.")
        return keyed(request, company_id, lambda: (200, {"data": books.delete(company_id, "invoices", record_id)}))

    @post("/companies/{company_id:str}/{collection:str}/{record_id:str}/void", status_code=200)
    async def void(request: Request[Any, Any, Any], company_id: FromPath[str], collection: FromPath[str],
                   record_id: FromPath[str]) -> Response[bytes]:
        if collection == "payments":
            return keyed(request, company_id, lambda: (200, {"data": books.void_payment(company_id, record_id)}))
        if collection != "invoices":
            raise ApiError(404, "not_found", f"Only invoices and payments can be voided, not {collection}.")
        return keyed(request, company_id, lambda: (200, {"data": books.void_invoice(company_id, record_id)}))

    return Router(path="/api/v1", route_handlers=[companies, listing, one, create, change, remove, void],
                  exception_handlers={ApiError: _refusal}, include_in_schema=False)
