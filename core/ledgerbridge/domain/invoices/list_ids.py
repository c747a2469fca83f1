"""Invoice lists narrowed to a known set of ids: those wearing one of the rare sync badges (error,
warning, exporting, needs sync), found from the link and issue side, and those whose number matches a
search, found in the number index.

Why: as SQL over the invoice table (`services.badge_filter`) these badges are a few `IN`/`NOT IN`
tests per invoice, so a list filtered by one read every invoice of the workspace to find the few
hundred that match, twice (the page, then its count): at 100,000 invoices that was most of a second.
The links and issues that make an invoice wear them are few and indexed by state
(`externallink_workspace_type_state`, `syncissue_open_records`), so reading those, deciding each
candidate's badge with `invoicing.sync_badge` itself (the two cannot disagree) and handing the list
an id set costs a few index ranges. The common badges (exported, not exported) stay SQL filters:
most invoices wear them, so a list finds its page at once. A number search ("contains") cannot use an
index to find its rows, but reading the `(workspace, number)` index alone is a fraction of reading
every invoice row in date order, as the page did (and its count again).
"""

from __future__ import annotations

from collections import defaultdict

from piccolo.columns.combination import Combinable, WhereRaw

from ledgerbridge import invoicing
from ledgerbridge.api.paging import contains
from ledgerbridge.invoicing import SyncBadge
from ledgerbridge.tables import ExternalLink, Invoice, RecordType, SyncIssue

RARE_BADGES = frozenset({SyncBadge.error, SyncBadge.warning, SyncBadge.pending, SyncBadge.needs_sync})
#: Past this many candidate links or issues a badge is not rare in this workspace: the SQL filter
#: then finds its pages as quickly, and an id list this long would strain the drivers' parameter limits.
MOST_CANDIDATES = 5_000
#: Locked invoices with no link: `invoice.link_count` is kept by triggers on `external_link` (migration
#: 0021) and a partial index holds exactly these invoices, so the statement reads only them. (It used
#: to compare every locked invoice with every link: 14 ms on SQLite, 75-120 ms on PostgreSQL at
#: 100,000 invoices.) It repeats the index's own condition word for word, as SQLite needs to use it.
UNLINKED_LOCKED = ('SELECT "id" FROM "invoice" WHERE "workspace" = {} AND "locked" = true AND "link_count" = 0 '
                   "ORDER BY 1 LIMIT {}")
#: The link states that can decide each rare badge: its own, and those of the badges that win over it.
_DECIDING_STATES = {
    SyncBadge.error: invoicing.ERROR_LINK_STATES,
    SyncBadge.warning: (*invoicing.ERROR_LINK_STATES, *invoicing.WARNING_LINK_STATES),
    SyncBadge.pending: (*invoicing.ERROR_LINK_STATES, *invoicing.WARNING_LINK_STATES, *invoicing.PENDING_LINK_STATES),
    SyncBadge.needs_sync: (*invoicing.ERROR_LINK_STATES, *invoicing.WARNING_LINK_STATES,
                           *invoicing.PENDING_LINK_STATES, *invoicing.CHANGED_LINK_STATES),
}


async def rare_badge_ids(workspace_id: int, badge: SyncBadge) -> list[int] | None:
    """The ids of the invoices whose badge is `badge`, or None when `badge` is a common one or too many
    links and issues could give it (use `services.badge_filter` then). Ids come from the workspace's
    links and issues; list them with `in_workspace_by_id`, which also holds them to the workspace."""
    if badge not in RARE_BADGES:
        return None
    ws = workspace_id
    links = await ExternalLink.select(ExternalLink.record_id, ExternalLink.state).where(
        (ExternalLink.workspace == ws) & (ExternalLink.record_type == RecordType.invoice)
        & ExternalLink.state.is_in(list(_DECIDING_STATES[badge]))
    ).limit(MOST_CANDIDATES + 1)
    issues = await SyncIssue.select(SyncIssue.record_id).where(
        (SyncIssue.workspace == ws) & (SyncIssue.record_type == RecordType.invoice)
        & SyncIssue.record_id.is_not_null() & SyncIssue.resolved_at.is_null()
    ).limit(MOST_CANDIDATES + 1)
    if len(links) > MOST_CANDIDATES or len(issues) > MOST_CANDIDATES:
        return None
    states: dict[int, list[str]] = defaultdict(list)
    for row in links:
        states[row["record_id"]].append(row["state"])
    with_issues = {row["record_id"] for row in issues}
    # Links in other states (synced, archived) never change which of these badges an invoice wears,
    # except that an invoice with none at all is "exporting" when it is locked: those are read apart
    # (`UNLINKED_LOCKED`). One with an open issue is already a candidate for "error".
    unlinked_locked: set[int] = set()
    if badge == SyncBadge.pending:
        unlinked_locked = {row["id"] for row in await Invoice.raw(UNLINKED_LOCKED, ws, MOST_CANDIDATES + 1)}
        if len(unlinked_locked) > MOST_CANDIDATES:
            return None
    candidates = set(states) | with_issues | unlinked_locked
    return sorted(
        invoice_id for invoice_id in candidates
        if invoicing.sync_badge(states.get(invoice_id, ["synced"] if invoice_id not in unlinked_locked else []),
                                invoice_id in unlinked_locked, 1 if invoice_id in with_issues else 0) == badge
    )


async def number_matches(workspace_id: int, text: str) -> list[int] | None:
    """The ids of the workspace's invoices whose number contains `text` (ignoring case, as `contains`
    does everywhere), or None when more than `MOST_CANDIDATES` do (filter with `contains` then)."""
    rows = await Invoice.select(Invoice.id).where(
        (Invoice.workspace == workspace_id) & contains(Invoice.number, text)
    ).limit(MOST_CANDIDATES + 1)
    return None if len(rows) > MOST_CANDIDATES else sorted(row["id"] for row in rows)


def in_workspace_by_id(workspace_id: int, invoice_ids: list[int]) -> Combinable:
    """`invoice.id IN (invoice_ids)` for a list query, still held to the workspace.

    The ids are written into the statement as integer literals: bound one by one they cost more to
    convert than the query took to run (a few thousand ids, twice: the page and its count). The
    workspace test is wrapped in `coalesce` because, given `workspace = ?`, SQLite (which has no
    statistics) walks the workspace's whole index and tests each invoice against the list instead of
    fetching the listed invoices by primary key; an expression it cannot use as an index keeps the test
    without steering the plan. PostgreSQL picks the primary key from its statistics either way. A link
    or issue can outlive its invoice, or (by a bug) name another workspace's: the test drops those.
    """
    listed = ", ".join(str(int(invoice_id)) for invoice_id in invoice_ids) or "0"
    return WhereRaw(f'"invoice"."id" IN ({listed}) AND coalesce("invoice"."workspace", 0) = {{}}', workspace_id)
