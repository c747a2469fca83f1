"""The HTTP face of issues: parse the request, call `services`, shape the answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK

from ledgerbridge.api.paging import DEFAULT_LIMIT, Limit, Offset
from ledgerbridge.api.schemas import IssueOut, error_responses
from ledgerbridge.domain.issues import services
from ledgerbridge.domain.issues.schemas import IssueGroupsOut, IssuePage, IssueRetryOut
from ledgerbridge.domain.issues.services import ISSUES_PER_GROUP
from ledgerbridge.identity.callers import CallerDep
from ledgerbridge.identity.permissions import Permission, needs
from ledgerbridge.tables import RecordType

Resolved = Annotated[bool, QueryParameter(description="false (default): open issues; true: resolved ones.")]


class IssueController(Controller):
    path = "/issues"
    tags = ["issues"]

    @get("/", summary="List issues, newest first", responses=error_responses())
    async def list_issues(
        self,
        caller: CallerDep,
        code: FromQuery[str | None] = None,
        connection_id: FromQuery[int | None] = None,
        record_type: FromQuery[RecordType | None] = None,
        record_id: FromQuery[int | None] = None,
        resolved: Resolved = False,
        limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> IssuePage:
        return await services.list_issues(
            caller,
            code=code,
            connection_id=connection_id,
            record_type=record_type,
            record_id=record_id,
            resolved=resolved,
            limit=limit,
            offset=offset,
        )

    @get(
        "/groups",
        summary="Issues grouped by reason code, largest group first",
        description=f"Each group carries the reason's wording, its count and its {ISSUES_PER_GROUP} newest issues.",
        responses=error_responses(),
    )
    async def grouped(
        self, caller: CallerDep, connection_id: FromQuery[int | None] = None, resolved: Resolved = False
    ) -> IssueGroupsOut:
        return await services.grouped(caller, connection_id=connection_id, resolved=resolved)

    @get("/{issue_id:int}", summary="Get an issue", responses=error_responses(404))
    async def get_issue(self, caller: CallerDep, issue_id: FromPath[int]) -> IssueOut:
        return await services.get_issue(caller, issue_id=issue_id)

    @post(
        "/{issue_id:int}/resolve", status_code=HTTP_200_OK, summary="Mark as resolved", responses=error_responses(404),
        opt=needs(Permission.records_write),
    )
    async def resolve(self, caller: CallerDep, issue_id: FromPath[int]) -> IssueOut:
        return await services.resolve(caller, issue_id=issue_id)

    @post(
        "/{issue_id:int}/retry",
        opt=needs(Permission.exports_run),
        status_code=HTTP_200_OK,
        summary="Try again: repeat the run that raised the issue, or re-export its record",
        description="The issue stays open until the new run succeeds.",
        responses=error_responses(404, 409),
    )
    async def retry(self, caller: CallerDep, issue_id: FromPath[int]) -> IssueRetryOut:
        return await services.retry(caller, issue_id=issue_id)
