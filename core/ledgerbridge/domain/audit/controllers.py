"""The HTTP face of the audit trail: read-only, there is no route that changes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import error_responses
from ledgerbridge.domain.audit import services
from ledgerbridge.domain.audit.schemas import AuditPage
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get(
        "/",
        summary="The audit trail, newest first (owners, accountants, keys with `audit:read`)",
        responses=error_responses(403),
        opt=needs(Permission.audit_read),
    )
    async def list_entries(
        self,
        caller: CallerDep,
        action: Annotated[
            str | None, QueryParameter(description="An action, or a prefix ending in `.` (`invoice.`).", max_length=60)
        ] = None,
        actor: Annotated[
            str | None, QueryParameter(description="Part of an email or key prefix.", max_length=260)
        ] = None,
        target_type: Annotated[str | None, QueryParameter(max_length=40)] = None,
        target_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        since: Annotated[datetime | None, QueryParameter(description="From this time (inclusive).")] = None,
        until: Annotated[datetime | None, QueryParameter(description="Before this time.")] = None,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> AuditPage:
        return await services.list_entries(
            caller, action=action, actor=actor, target_type=target_type, target_id=target_id,
            since=since, until=until, limit=limit, offset=offset,
        )
