"""Sync issues: what needs a person, grouped by reason so one fix can clear many."""

from __future__ import annotations

from piccolo.columns.combination import Combinable
from piccolo.query.functions.aggregate import Count

from ledgerbridge import jobs
from ledgerbridge.api.errors import Conflict
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, page_of
from ledgerbridge.api.schemas import IssueOut
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.api.sync_state import issue_out, run_out
from ledgerbridge.domain.issues.schemas import IssueGroupOut, IssueGroupsOut, IssuePage, IssueRetryOut
from ledgerbridge.domain.sync_runs.services import retry_run
from ledgerbridge.errors import REASONS
from ledgerbridge.events import records
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.tables import RecordType, RunKind, SyncIssue, SyncRun, utcnow

ISSUES_PER_GROUP = 20


RETRY_KIND: dict[str, tuple[RunKind, str]] = {
    RecordType.invoice: (RunKind.export_invoice, "invoice_id"),
    RecordType.customer: (RunKind.export_customer, "customer_id"),
}


def _filters(
    workspace_id: int,
    code: str | None,
    connection_id: int | None,
    record_type: str | None,
    record_id: int | None,
    resolved: bool,
) -> Combinable:
    where: Combinable = SyncIssue.workspace == workspace_id
    where = where & (SyncIssue.resolved_at.is_not_null() if resolved else SyncIssue.resolved_at.is_null())
    if code:
        where = where & (SyncIssue.code == code)
    if connection_id is not None:
        where = where & (SyncIssue.connection == connection_id)
    if record_type:
        where = where & (SyncIssue.record_type == record_type)
    if record_id is not None:
        where = where & (SyncIssue.record_id == record_id)
    return where


async def list_issues(
    caller: Caller,
    *,
    code: str | None = None,
    connection_id: int | None = None,
    record_type: RecordType | None = None,
    record_id: int | None = None,
    resolved: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> IssuePage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where = _filters(caller.workspace_id, code, connection_id, record_type, record_id, resolved)
    rows, total = await page_of(
        SyncIssue, where, limit=limit, offset=offset, order_by=SyncIssue.last_seen_at, ascending=False
    )
    return Page(items=[issue_out(row) for row in rows], total=total, limit=limit, offset=offset)


async def grouped(caller: Caller, *, connection_id: int | None = None, resolved: bool = False) -> IssueGroupsOut:
    require(caller, Permission.read)
    ws = caller.workspace_id
    assert ws is not None
    where = _filters(ws, None, connection_id, None, None, resolved)
    counts = await SyncIssue.select(SyncIssue.code, Count(alias="count")).where(where).group_by(SyncIssue.code)
    groups = []
    for row in sorted(counts, key=lambda r: (-r["count"], r["code"])):
        newest = (
            await SyncIssue.objects()
            .where(where & (SyncIssue.code == row["code"]))
            .order_by(SyncIssue.last_seen_at, ascending=False)
            .limit(ISSUES_PER_GROUP)
        )
        reason = REASONS.get(row["code"])
        groups.append(
            IssueGroupOut(
                code=row["code"],
                message=reason.message if reason else (newest[0].message if newest else ""),
                fix=reason.fix if reason else (newest[0].fix if newest else ""),
                count=row["count"],
                issues=[issue_out(issue) for issue in newest],
            )
        )
    return IssueGroupsOut(groups=groups, total=sum(group.count for group in groups))


async def get_issue(caller: Caller, *, issue_id: int) -> IssueOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    return issue_out(await in_workspace(SyncIssue, issue_id, caller.workspace_id, "issue"))


async def resolve(caller: Caller, *, issue_id: int) -> IssueOut:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    issue = await in_workspace(SyncIssue, issue_id, caller.workspace_id, "issue")
    if issue.resolved_at is None:
        async with jobs.transaction() as tx:
            await SyncIssue.update({SyncIssue.resolved_at: utcnow()}).where(SyncIssue.id == issue.id)
            await tx.emit(records.issue_changed(False, issue))
    return issue_out(await in_workspace(SyncIssue, issue_id, caller.workspace_id, "issue"))


async def retry(caller: Caller, *, issue_id: int) -> IssueRetryOut:
    require(caller, Permission.exports_run)
    ws = caller.workspace_id
    assert ws is not None
    issue = await in_workspace(SyncIssue, issue_id, ws, "issue")
    run = await SyncRun.objects().where(SyncRun.id == issue.run).first() if issue.run is not None else None
    if run is not None:
        new_run = await retry_run(caller, run)
    elif issue.record_type in RETRY_KIND and issue.record_id is not None and issue.connection is not None:
        kind, param = RETRY_KIND[issue.record_type]
        async with jobs.transaction() as tx:
            new_run = await tx.record(
                kind,
                workspace_id=ws,
                connection_id=issue.connection,
                params={param: issue.record_id},
                trigger=caller.trigger,
                progress_total=1,
            )
    else:
        raise Conflict(
            "This issue has nothing LedgerBridge can retry by itself.",
            fix=issue.fix or "Follow the issue's advice, then resolve it.",
        )
    return IssueRetryOut(issue=issue_out(issue), run=run_out(new_run))
