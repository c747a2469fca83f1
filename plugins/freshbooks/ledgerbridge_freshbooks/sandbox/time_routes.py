"""FreshBooks time tracking (`/timetracking/business/{business_id}/time_entries`), a service of its own.

Unlike accounting, it is addressed by the numeric business id, wraps bodies as ``{"time_entry": ...}``
without the ``response/result`` envelope, and answers errors in the business services' form. A time
entry counts in seconds (``duration``), starts at a UTC instant (``started_at``) and says whether it
may still be invoiced (``billable``) and whether an invoice already took it (``billed``). The fields
and their shapes follow the official SDK fixture (`sdk-fixtures/get_time_entry_response.json`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledgerbridge_testing.sandbox import jsoncodec
from litestar import Request, Response, Router, get, post, put
from litestar.params import FromPath

from ledgerbridge_freshbooks.sandbox.errors import FbError, invalid, not_found
from ledgerbridge_freshbooks.sandbox.guard import IDENTITY_KEY, error_body
from ledgerbridge_freshbooks.sandbox.store import Business, utc_iso

if TYPE_CHECKING:
    from ledgerbridge_freshbooks.sandbox.app import FbSandbox

Req = Request[Any, Any, Any]
TABLE = "time_entries"
WRITABLE = ("is_logged", "started_at", "duration", "client_id", "project_id", "service_id", "task_id", "note",
            "billable", "billed", "internal", "identity_id")


def _json(value: Any, status: int = 200) -> Response[bytes]:
    return Response(jsoncodec.dumps(value), status_code=status, media_type="application/json")


def _fail(error: FbError) -> Response[bytes]:
    return _json(error_body("timetracking", error, "classic"), error.status)


async def _entry_body(request: Req) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = jsoncodec.loads(raw) if raw.strip() else None
    except jsoncodec.JSONBodyError as exc:
        raise invalid("time_entry", "time_entry", "The request body is not valid JSON.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("time_entry"), dict):
        raise invalid("time_entry", "time_entry", "The request body must be an object with a 'time_entry' object.")
    return {k: v for k, v in data["time_entry"].items() if k in WRITABLE}


def _check(business: Business, entry: dict[str, Any]) -> None:
    duration = entry.get("duration")
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        raise invalid("time_entry", "duration", "duration must be a whole number of seconds, 0 or more.", duration)
    if not isinstance(entry.get("started_at"), str) or not entry["started_at"]:
        raise invalid("time_entry", "started_at", "started_at is required (a UTC date-time).")
    client = entry.get("client_id")
    if client is not None and int(client) not in business.table("clients"):
        raise not_found("client", "client_id", client)


def build_time_router(sandbox: FbSandbox) -> Router:
    def business_of(business_id: int) -> Business:
        business = sandbox.state.by_business_id(business_id)
        if business is None:
            raise not_found("business", "business_id", business_id)
        return business

    @post("/timetracking/business/{business_id:int}/time_entries", status_code=200)
    async def create_entry(business_id: FromPath[int], request: Req) -> Response[bytes]:
        try:
            business = business_of(business_id)
            fields = await _entry_body(request)
            entry = {"is_logged": True, "billable": False, "billed": False, "internal": False, "note": "",
                     "client_id": None, "project_id": None, "service_id": None, "task_id": None,
                     "identity_id": request.scope["state"][IDENTITY_KEY], **fields}  # type: ignore[index]
            _check(business, entry)
            with business.locked():
                entry["id"] = business.new_id(TABLE)
                entry["created_at"] = utc_iso(sandbox.clock.now())
                entry["active"] = True
                business.table(TABLE)[entry["id"]] = entry
        except FbError as exc:
            return _fail(exc)
        return _json({"time_entry": entry})

    @get("/timetracking/business/{business_id:int}/time_entries/{entry_id:int}")
    async def get_entry(business_id: FromPath[int], entry_id: FromPath[int]) -> Response[bytes]:
        try:
            entry = business_of(business_id).table(TABLE).get(entry_id)
            if entry is None:
                raise not_found("time_entry", "id", entry_id)
        except FbError as exc:
            return _fail(exc)
        return _json({"time_entry": entry})

    @get("/timetracking/business/{business_id:int}/time_entries")
    async def list_entries(business_id: FromPath[int]) -> Response[bytes]:
        try:
            rows = list(business_of(business_id).table(TABLE).values())
        except FbError as exc:
            return _fail(exc)
        return _json({"time_entries": rows, "meta": {"page": 1, "pages": 1, "per_page": len(rows) or 1,
                                                     "total": len(rows)}})

    @put("/timetracking/business/{business_id:int}/time_entries/{entry_id:int}")
    async def update_entry(business_id: FromPath[int], entry_id: FromPath[int], request: Req) -> Response[bytes]:
        try:
            business = business_of(business_id)
            fields = await _entry_body(request)
            with business.locked():
                current = business.table(TABLE).get(entry_id)
                if current is None:
                    raise not_found("time_entry", "id", entry_id)
                merged = {**current, **fields}
                _check(business, merged)
                business.table(TABLE)[entry_id] = merged
        except FbError as exc:
            return _fail(exc)
        return _json({"time_entry": merged})

    return Router(path="/", route_handlers=[create_entry, get_entry, list_entries, update_entry],
                  include_in_schema=False)
