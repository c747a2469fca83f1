"""Customer import review: what importing a connection's customers would do, chosen row by row.

Someone connecting an accounting tool to an app that already has customers wants to see, before
anything is written, which ones will be linked to existing records, which created and which are
ambiguous, and to say for each new one whether it is a business or a person. The core's
`review_customers` reads the provider with the importer's own matching rules and writes nothing;
reading takes seconds, so the page answers at once and htmx loads the table (without JS, a link
loads the page with the table in it). Importing records an `import_customers` run limited to the
ticked customers, with the chosen kinds, and shows its progress on the run's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgerbridge.domain.customers import services as customers_services
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.sync.review import REVIEW_LIMIT, CustomerCandidate, CustomerReview, review_customers
from ledgerbridge.tables import Connection, ConnectionStatus
from litestar import Response, get, post
from litestar.params import FromPath

from ledgerbridge_web.common import (
    AnyRequest,
    failed,
    fragment,
    page,
    person,
    provider_name,
    see_other,
    workspace_connection,
    workspace_of,
)

KINDS = (("business", "Business"), ("individual", "Individual"))
TICKED_BY_DEFAULT = frozenset({"create", "link", "update"})  # what an import is for; the rest on request
ROWS_SHOWN = REVIEW_LIMIT  # customers read for one review; past it the page says the review is partial


REVIEW_FIX = "Open Customers and pick the integration to review again."


@dataclass(frozen=True)
class ReviewRow:
    """One provider customer as the table shows it."""

    candidate: CustomerCandidate
    name: str
    locals: list[tuple[int, str]]  # (id, name) of the matching or linked customers here

    @property
    def remote_id(self) -> str:
        return self.candidate.remote.remote_id

    @property
    def selectable(self) -> bool:
        """An ambiguous match is never imported as a record, so ticking it would only raise an issue."""
        return self.candidate.action != "ambiguous"

    @property
    def ticked(self) -> bool:
        return self.candidate.action in TICKED_BY_DEFAULT


def display_name(candidate: CustomerCandidate) -> str:
    remote = candidate.remote
    person_name = " ".join(part for part in (remote.given_name, remote.family_name) if part)
    return remote.name or remote.company or person_name or remote.email or remote.remote_id


def rows_of(review: CustomerReview) -> list[ReviewRow]:
    return [
        ReviewRow(c, display_name(c), list(zip(c.local_ids, c.local_names, strict=False)))
        for c in review.candidates
    ]



def _not_connected(row: Connection) -> LedgerBridgeError | None:
    if row.status == ConnectionStatus.connected:
        return None
    name = provider_name(row.provider)
    return LedgerBridgeError(f"{name} is not connected, so its customers cannot be read.", code="not_connected",
                             fix=f"Reconnect {name} under Integrations, then review again.")


async def _table_context(row: Connection) -> dict[str, Any]:
    """The review's rows, or the reason it could not be read (shown in place of the table)."""
    context: dict[str, Any] = {"connection": row, "provider": provider_name(row.provider), "kinds": KINDS,
                               "limit": ROWS_SHOWN, "rows": [], "truncated": False, "failure": None}
    failure = _not_connected(row)
    if failure is None:
        try:
            review = await review_customers(row.id, limit=ROWS_SHOWN)
        except LedgerBridgeError as exc:
            failure = exc
        else:
            context.update(rows=rows_of(review), truncated=review.truncated)
    context["failure"] = failure
    return context


@get("/customers/review/{connection_id:int}")
async def review_page(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    """The frame at once; the table by htmx, or inline with `?now=1` (the no-JavaScript link)."""
    me = person(request)
    row = await workspace_connection(workspace_of(me), connection_id, fix=REVIEW_FIX)
    inline = request.query_params.get("now") == "1"
    context = await _table_context(row) if inline else {"connection": row, "provider": provider_name(row.provider)}
    return page(request, "customer_review.html", inline=inline, **context)


@get("/customers/review/{connection_id:int}/table")
async def review_table(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    me = person(request)
    row = await workspace_connection(workspace_of(me), connection_id, fix=REVIEW_FIX)
    return fragment("_customer_review_table.html", me=me, **await _table_context(row))


@post("/customers/review/{connection_id:int}/import", opt=needs(Permission.exports_run))
async def import_selected(request: AnyRequest, connection_id: FromPath[int]) -> Response[Any]:
    """Queue an import of the ticked customers (or, with `all`, every selectable one) with their kinds."""
    me = person(request)
    ws = workspace_of(me)
    back = f"/customers/review/{connection_id}"
    row = await workspace_connection(ws, connection_id, fix=REVIEW_FIX)
    failure = _not_connected(row)
    if failure is not None:
        return failed(back, failure)
    form = await request.form()
    field = "selectable" if str(form.get("all", "")) == "1" else "remote_ids"
    remote_ids = list(dict.fromkeys(str(value) for value in form.getall(field, []) if str(value).strip()))
    if not remote_ids:
        return see_other(back, error="No customer was selected.", fix="Tick the customers to import, then import.")
    valid = dict(KINDS)
    kinds = {rid: kind for rid in remote_ids if (kind := str(form.get(f"kind_{rid}", ""))) in valid}
    try:
        run = await customers_services.import_chosen_customers(me, connection_id=connection_id,
                                                               remote_ids=remote_ids, kinds=kinds)
    except LedgerBridgeError as exc:
        return failed(back, exc)
    plural = "s" if len(remote_ids) != 1 else ""
    return see_other(f"/sync-history/{run.id}",
                     notice=f"Importing {len(remote_ids)} customer{plural} from {provider_name(row.provider)}.")


HANDLERS = [review_page, review_table, import_selected]
