"""How a record stands with the providers: its links, its open issues, the runs about it.

Customers, items and invoices all show this the same way, so it is built here once and batched
per page (one query per kind of fact, not one per record).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ledgerbridge.api.schemas import IssueOut, LinkOut, RunCountsOut, SyncRunOut
from ledgerbridge.jobs import loads
from ledgerbridge.tables import ExternalLink, LinkState, SyncIssue, SyncRun


async def links_for(workspace_id: int, record_type: str, ids: Iterable[int]) -> dict[int, list[LinkOut]]:
    wanted = sorted(set(ids))
    found: dict[int, list[LinkOut]] = defaultdict(list)
    if not wanted:
        return found
    rows = (
        await ExternalLink.select(
            *ExternalLink.all_columns(),
            ExternalLink.connection.provider.as_alias("provider"),
        )
        .where(
            (ExternalLink.workspace == workspace_id)
            & (ExternalLink.record_type == record_type)
            & ExternalLink.record_id.is_in(wanted)
        )
        .order_by(ExternalLink.connection)
    )
    for row in rows:
        found[row["record_id"]].append(link_out(row))
    return found


def link_out(row: dict[str, Any]) -> LinkOut:
    return LinkOut(
        connection_id=row["connection"],
        provider=row.get("provider") or "",
        remote_id=row["remote_id"],
        remote_number=row["remote_number"],
        state=row["state"],
        remote_data=loads(row["remote_data"]),
        message=row["message"],
        last_synced_at=row["last_synced_at"],
    )


async def open_issues_for(workspace_id: int, record_type: str, ids: Iterable[int]) -> dict[int, list[IssueOut]]:
    wanted = sorted(set(ids))
    found: dict[int, list[IssueOut]] = defaultdict(list)
    if not wanted:
        return found
    rows = await SyncIssue.select().where(
        (SyncIssue.workspace == workspace_id)
        & (SyncIssue.record_type == record_type)
        & SyncIssue.record_id.is_in(wanted)
        & SyncIssue.resolved_at.is_null()
    )
    # Newest first, sorted here: asked of SQLite, the ORDER BY made it walk every issue of the workspace
    # by `syncissue_workspace_seen` instead of looking these records up in `syncissue_open_records`.
    for row in sorted(rows, key=lambda row: (row["last_seen_at"], row["id"]), reverse=True):
        found[row["record_id"]].append(issue_out(row))
    return found


def issue_out(row: dict[str, Any] | SyncIssue) -> IssueOut:
    data = row if isinstance(row, dict) else row.to_dict()
    return IssueOut(
        id=data["id"],
        connection_id=data["connection"],
        run_id=data["run"],
        record_type=data["record_type"],
        record_id=data["record_id"],
        code=data["code"],
        message=data["message"],
        fix=data["fix"],
        first_seen_at=data["first_seen_at"],
        last_seen_at=data["last_seen_at"],
        times=data["times"],
        resolved_at=data["resolved_at"],
    )


def run_out(run: SyncRun | dict[str, Any]) -> SyncRunOut:
    data = run if isinstance(run, dict) else run.to_dict()
    return SyncRunOut(
        id=data["id"],
        connection_id=data["connection"],
        kind=data["kind"],
        trigger=data["trigger"],
        params=loads(data["params"]),
        state=data["state"],
        counts=RunCountsOut(
            seen=data["seen"],
            created=data["created"],
            updated=data["updated"],
            linked=data["linked"],
            skipped=data["skipped"],
            failed=data["failed"],
        ),
        progress_done=data["progress_done"],
        progress_total=data["progress_total"],
        error=data["error"],
        attempts=data["attempts"],
        created_at=data["created_at"],
        queued_at=data["queued_at"],
        started_at=data["started_at"],
        finished_at=data["finished_at"],
        not_before=data["not_before"],
    )


async def mark_links_changed(workspace_id: int, record_type: str, record_id: int) -> None:
    """A local edit makes every in-step counterpart out of step; call inside the edit's transaction."""
    await ExternalLink.update({ExternalLink.state: LinkState.needs_sync}).where(
        (ExternalLink.workspace == workspace_id)
        & (ExternalLink.record_type == record_type)
        & (ExternalLink.record_id == record_id)
        & (ExternalLink.state == LinkState.synced)
    )
