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
UNLINKED_LOCKED = 'SELECT "id" FROM "invoice" WHERE "workspace" = {workspace} AND "locked" = true AND "link_count" = 0'
_INVOICE = f"'{RecordType.invoice.value}'"
_LINKED = ('SELECT "record_id" FROM "external_link" WHERE "workspace" = {workspace} '
           f'AND "record_type" = {_INVOICE} AND "state" IN ')
_OPEN_ISSUES = ('SELECT "record_id" FROM "sync_issue" WHERE "workspace" = {workspace} '
                f'AND "record_type" = {_INVOICE} AND "record_id" IS NOT NULL AND "resolved_at" IS NULL')
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


def _badge_statement(workspace_id: int, badge: SyncBadge) -> str:
    """One compound statement for a rare badge's invoice ids: the invoices with a link in its states
    (and, for "error", an open issue; for "exporting", locked with no link), less those with a link in
    a worse badge's states or an open issue. Both databases run it from the state and open-issue
    indexes and hand back only the matching ids (reading every deciding link into Python, as this did,
    cost 8-11 ms a render).

    Its values are written into it, not bound: they are our own constants and the workspace's integer
    id. Bound, PostgreSQL plans the prepared statement for any workspace and state after its fifth run,
    and that generic plan took 30 ms where the plan for the actual values takes 2.5 (`bench/ui.py`,
    100,000 invoices)."""
    workspace = int(workspace_id)

    def linked(states: tuple[str, ...]) -> str:
        listed = ", ".join(f"'{_state_literal(state)}'" for state in states)
        return _LINKED.format(workspace=workspace) + f"({listed})"

    own = linked(tuple(_OWN_STATES[badge]))
    open_issues = _OPEN_ISSUES.format(workspace=workspace)
    if badge == SyncBadge.error:
        return f"{own} UNION {open_issues}"
    if badge == SyncBadge.pending:
        own = f"{own} UNION {UNLINKED_LOCKED.format(workspace=workspace)}"
    return f"{own} EXCEPT {linked(tuple(_WORSE_STATES[badge]))} EXCEPT {open_issues}"


def _state_literal(state: str) -> str:
    """A link state as it may stand between quotes: our enum's values are lower-case words."""
    value = str(getattr(state, "value", state))
    if not value.replace("_", "").isalpha() or not value.islower():
        raise ValueError(f"not a link state: {value!r}")
    return value


async def rare_badge_ids(workspace_id: int, badge: SyncBadge) -> list[int] | None:
    """The ids of the invoices whose badge is `badge`, or None when `badge` is a common one or more
    than `MOST_CANDIDATES` invoices wear it (use `services.badge_filter` then). Ids come from the
    workspace's links and issues; list them with `in_workspace_by_id`, which also holds them to the
    workspace."""
    if badge not in RARE_BADGES:
        return None
    rows = await Invoice.raw(f"{_badge_statement(workspace_id, badge)} LIMIT {MOST_CANDIDATES + 1}")
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
