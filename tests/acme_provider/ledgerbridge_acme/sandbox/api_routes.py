"""Acme Books's API as the sandbox serves it, under `/api/v1` (the gateway has checked token and limits).

* `GET /companies`: the companys the token covers;
* `GET /companies/<id>/<collection>?page=&per_page=&updated_since=&type=`: one page, oldest id first,
  with `meta.pages` and `meta.server_time` (the sandbox clock when the read began);
* `GET /companies/<id>/<collection>/<record id>`;
* `POST /companies/<id>/customers|items` and `PATCH .../<record id>` (with an optional `version`
  that must match, else 409): what `export_customer` and `export_item` will call.

Collections: customers, items, accounts, tax_rates. Errors are `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from ledgerbridge_testing.sandbox.oauth_http import json_response
from litestar import Request, Response, Router, get, patch, post
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


def build_api_router(sandbox: Sandbox) -> Router:
    books = sandbox.books

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
        filters = {"type": tuple(query["type"].split(","))} if query.get("type") else {}
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
        record = books.create(company_id, _collection(collection, writable=True), await _body(request))
        return json_response({"data": record}, 201)

    @patch("/companies/{company_id:str}/{collection:str}/{record_id:str}")
    async def change(request: Request[Any, Any, Any], company_id: FromPath[str], collection: FromPath[str],
                     record_id: FromPath[str]) -> Response[bytes]:
        changes = await _body(request)
        version = changes.pop("version", None)
        record = books.update(company_id, _collection(collection, writable=True), record_id, changes,
                              int(version) if version is not None else None)
        return json_response({"data": record})

    return Router(path="/api/v1", route_handlers=[companies, listing, one, create, change],
                  exception_handlers={ApiError: _refusal}, include_in_schema=False)
