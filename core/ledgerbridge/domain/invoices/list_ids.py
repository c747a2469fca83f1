"""Invoice lists narrowed to a known set of ids: those wearing one of the rare sync badges (error,
warning, exporting, needs sync), found from the link and issue side (a number search's ids come from
`number_search`).

Why: as SQL over the invoice table (`services.badge_filter`) these badges are a few `IN`/`NOT IN`
tests per invoice, so a list filtered by one read every invoice of the workspace to find the few
hundred that match, twice (the page, then its count): at 100,000 invoices that was most of a second.
The links and issues that make an invoice wear them are few and indexed by state
(`externallink_workspace_type_state`, `syncissue_open_records`, and for "exporting" the locked
invoices with no link, `invoice_locked_unlinked`), so one compound statement over those, in
`invoicing.sync_badge`'s order of precedence (tests/web/test_list_queries.py holds the two to the same
answers), hands the list an id set for a few index ranges. The common badges (exported, not exported) stay SQL filters:
most invoices wear them, so a list finds its page at once.
"""

from __future__ import annotations

from piccolo.columns.combination import Combinable, WhereRaw

from ledgerbridge import invoicing
from ledgerbridge.invoicing import SyncBadge
from ledgerbridge.tables import Invoice, RecordType

RARE_BADGES = frozenset({SyncBadge.error, SyncBadge.warning, SyncBadge.pending, SyncBadge.needs_sync})
#: Past this many candidate links or issues a badge is not rare in this workspace: the SQL filter
#: then finds its pages as quickly, and an id list this long would strain the drivers' parameter limits.
MOST_CANDIDATES = 5_000
#: Locked invoices with no link: `invoice.link_count` is kept by triggers on `external_link` (migration
#: 0021) and a partial index holds exactly these invoices, so the statement reads only them. (It used
#: to compare every locked invoice with every link: 14 ms on SQLite, 75-120 ms on PostgreSQL at
#: 100,000 invoices.) It repeats the index's own condition word for word, as SQLite needs to use it.
UNLINKED_LOCKED = 'SELECT "id" FROM "invoice" WHERE "workspace" = {} AND "locked" = true AND "link_count" = 0'
_LINKED = 'SELECT "record_id" FROM "external_link" WHERE "workspace" = {} AND "record_type" = {} AND "state" IN '
_OPEN_ISSUES = ('SELECT "record_id" FROM "sync_issue" WHERE "workspace" = {} AND "record_type" = {} '
                'AND "record_id" IS NOT NULL AND "resolved_at" IS NULL')
#: `invoicing.sync_badge`'s order for the rare badges: the link states that give each, and those of
#: the badges that win over it (an open issue wins over all but "error", which it gives).
_OWN_STATES = {
    SyncBadge.error: invoicing.ERROR_LINK_STATES,
    SyncBadge.warning: invoicing.WARNING_LINK_STATES,
    SyncBadge.pending: invoicing.PENDING_LINK_STATES,
    SyncBadge.needs_sync: invoicing.CHANGED_LINK_STATES,
}
_WORSE_STATES = {
    SyncBadge.error: (),
    SyncBadge.warning: invoicing.ERROR_LINK_STATES,
    SyncBadge.pending: (*invoicing.ERROR_LINK_STATES, *invoicing.WARNING_LINK_STATES),
    SyncBadge.needs_sync: (*invoicing.ERROR_LINK_STATES, *invoicing.WARNING_LINK_STATES,
                           *invoicing.PENDING_LINK_STATES),
}


def _badge_statement(workspace_id: int, badge: SyncBadge) -> tuple[str, list[object]]:
    """One compound statement for a rare badge's invoice ids: the invoices with a link in its states
    (and, for "error", an open issue; for "exporting", locked with no link), less those with a link in
    a worse badge's states or an open issue. Both databases run it from the state and open-issue
    indexes and hand back only the matching ids (reading every deciding link into Python, as this did,
    cost 8-11 ms a render)."""
    invoice = RecordType.invoice.value

    def linked(states: tuple[str, ...]) -> tuple[str, list[object]]:
        return _LINKED + "(" + ", ".join("{}" for _ in states) + ")", [workspace_id, invoice, *states]

    parts, args = linked(tuple(_OWN_STATES[badge]))
    if badge == SyncBadge.error:
        return f"{parts} UNION {_OPEN_ISSUES}", [*args, workspace_id, invoice]
    if badge == SyncBadge.pending:
        parts, args = f"{parts} UNION {UNLINKED_LOCKED}", [*args, workspace_id]
    worse, worse_args = linked(tuple(_WORSE_STATES[badge]))
    return f"{parts} EXCEPT {worse} EXCEPT {_OPEN_ISSUES}", [*args, *worse_args, workspace_id, invoice]


async def rare_badge_ids(workspace_id: int, badge: SyncBadge) -> list[int] | None:
    """The ids of the invoices whose badge is `badge`, or None when `badge` is a common one or more
    than `MOST_CANDIDATES` invoices wear it (use `services.badge_filter` then). Ids come from the
    workspace's links and issues; list them with `in_workspace_by_id`, which also holds them to the
    workspace."""
    if badge not in RARE_BADGES:
        return None
    statement, args = _badge_statement(workspace_id, badge)
    rows = await Invoice.raw(f"{statement} LIMIT {{}}", *args, MOST_CANDIDATES + 1)
    if len(rows) > MOST_CANDIDATES:
        return None
    return sorted({row["record_id"] for row in rows})


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
