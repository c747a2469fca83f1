"""The audit trail page: who did what, when and from where, filtered like `GET /api/v1/audit`.

It reads through the same service as the API, so only owners and accountants see it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from ledgerbridge.domain.audit import services as audit_services
from ledgerbridge.identity.permissions import Permission, needs
from litestar import Response, get

from ledgerbridge_web.common import PAGE_SIZE, AnyRequest, Paging, count_limit, page, page_number, person


def _day(value: str, *, end: bool = False) -> datetime | None:
    """A date from the filter form (YYYY-MM-DD); the end date includes that whole day."""
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    return moment


@get("/audit", opt=needs(Permission.audit_read))
async def audit_page(request: AnyRequest) -> Response[Any]:
    me = person(request)
    query = request.query_params
    filters = {
        "action": str(query.get("action") or "").strip()[:60],
        "actor": str(query.get("actor") or "").strip()[:260],
        "target_type": str(query.get("target_type") or "").strip()[:40],
        "since": str(query.get("since") or ""),
        "until": str(query.get("until") or ""),
    }
    number = page_number(request)
    found = await audit_services.list_entries(
        me,
        action=filters["action"] or None,
        actor=filters["actor"] or None,
        target_type=filters["target_type"] or None,
        since=_day(filters["since"]),
        until=_day(filters["until"], end=True),
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
        count_up_to=count_limit(number) + 1,
    )
    paging = Paging(number, found.total)
    return page(request, "audit.html", entries=found.items, filters=filters, paging=paging,
                link=lambda n: paging.link(request, n))


HANDLERS = [audit_page]
