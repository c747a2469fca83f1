"""Open issues grouped by reason, with bulk retry and resolve (through the API's own handlers)."""

from __future__ import annotations

from typing import Any

from ledgerbridge.domain.issues import services as issues_services
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.identity.permissions import Permission, needs
from litestar import Response, get, post

from ledgerbridge_web.common import AnyRequest, ids_from, int_or_none, page, person, see_other, workspace_of
from ledgerbridge_web.names import records as records_named


@get("/issues")
async def issue_groups(request: AnyRequest) -> Response[Any]:
    me = person(request)
    connection_id = int_or_none(request.query_params.get("connection_id"))
    grouped = await issues_services.grouped(me, connection_id=connection_id, resolved=False)
    refs = [(issue.record_type or "", issue.record_id) for group in grouped.groups for issue in group.issues]
    names = await records_named(workspace_of(me), refs)
    return page(request, "issues.html", groups=grouped.groups, total=grouped.total, names=names)


@post("/issues/bulk", opt=needs(Permission.records_write))
async def bulk(request: AnyRequest) -> Response[Any]:
    me = person(request)
    form = await request.form()
    ids = ids_from(form)
    action = str(form.get("action") or "")
    if not ids or action not in ("retry", "resolve"):
        return see_other("/issues", error="No issue was selected.", fix="Tick the issues, then retry or resolve.")
    handler = issues_services.retry if action == "retry" else issues_services.resolve
    done, refused = 0, []
    for issue_id in ids:
        try:
            await handler(me, issue_id=issue_id)
            done += 1
        except LedgerBridgeError as exc:
            refused.append(exc.message)
    verb = "Retrying" if action == "retry" else "Resolved"
    return see_other("/issues", notice=f"{verb} {done} issue{'s' if done != 1 else ''}.",
                     error=" ".join(sorted(set(refused))) or None)


HANDLERS = [issue_groups, bulk]
