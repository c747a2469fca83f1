"""A page of provider customers applied in a handful of queries, whatever the page's size.

Applied one by one, a customer cost several queries and commits (116-143 customers a second),
while a provider hands us up to 1,000 per request: our own processing was what a large import
waited for. A page here reads its existing links and its match candidates (by email, by name) in
one query each, then writes creates, updates, links, run records and events in bulk, all inside
the page's one transaction (the caller's). The rules are the ones `importing` states:
linked records are updated when they changed, unlinked ones are matched (email, else name) and
never duplicated, several candidates make an issue, deleted or inactive ones are archived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledgerbridge.bulk_rows import insert_rows, update_rows
from ledgerbridge.db import fetch_raw, marks
from ledgerbridge.errors import REASONS
from ledgerbridge.events import records
from ledgerbridge.events.outbox import record_events
from ledgerbridge.issues import raise_issue
from ledgerbridge.jobs import RunContext, loads
from ledgerbridge.provider import RemoteCustomer
from ledgerbridge.sync.customer_guard import kept_for_open_invoices
from ledgerbridge.sync.customer_kind import suggest_kind
from ledgerbridge.sync.links import fingerprint
from ledgerbridge.sync.run_records import note_many
from ledgerbridge.tables import Connection, Customer, ExternalLink, LinkState, RecordType, utcnow

# Rows or bound values per statement, well below SQLite's and asyncpg's parameter ceilings.
ROWS_PER_STATEMENT = 500
#: A row read with `fetch_raw`: a dict on SQLite, an asyncpg Record on PostgreSQL.
Row = Mapping[str, Any]
_LINKS = f'"{ExternalLink._meta.tablename}"'
_CUSTOMERS = f'"{Customer._meta.tablename}"'
ARCHIVED_MESSAGE = "Deleted or deactivated in the provider; archived here."


@dataclass
class _Decision:
    """What one remote customer of the page comes to, before anything is written."""

    remote: RemoteCustomer
    outcome: str  # created, updated, linked, skipped, failed
    record_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    link: Row | None = None  # the existing link's row, when there is one
    message: str = ""


def customer_values(remote: RemoteCustomer) -> dict[str, Any]:
    """Our customer's fields from the provider's record."""
    return {
        "name": remote.name or remote.company or f"{remote.given_name} {remote.family_name}".strip(),
        "company": remote.company,
        "given_name": remote.given_name,
        "family_name": remote.family_name,
        "email": remote.email,
        "phone": remote.phone,
        "address_line1": remote.address.line1,
        "address_line2": remote.address.line2,
        "city": remote.address.city,
        "region": remote.address.region,
        "postal_code": remote.address.postal_code,
        "country": remote.address.country,
        "tax_number": remote.tax_number,
        "notes": remote.notes,
        **({"currency": remote.currency} if remote.currency else {}),
    }


def _slices(values: Sequence[Any], size: int = ROWS_PER_STATEMENT) -> list[Sequence[Any]]:
    return [values[start:start + size] for start in range(0, len(values), size)]


async def links_by_remote(connection_id: int, record_type: str,
                          remote_ids: Sequence[str]) -> dict[str, Row]:
    """The links of these remote records in this connection, by remote id (one statement per 500,
    in the page's transaction: built through Piccolo, 500 bound ids cost more than the lookup)."""
    found: dict[str, Row] = {}
    for part in _slices(sorted(set(remote_ids))):
        for link in await fetch_raw(
            f'SELECT "id", "record_id", "remote_id", "remote_version", "fingerprint", "state" FROM {_LINKS} '
            f'WHERE "connection" = ? AND "record_type" = ? AND "remote_id" IN ({marks(part)})',
            connection_id, record_type, *part,
        ):
            found[str(link["remote_id"])] = link
    return found


async def _customers_where_lower(connection: Connection, column: str, wanted: set[str]) -> list[Row]:
    """Customers of the workspace whose `column`, case-folded, is one of `wanted` (equality, not a
    LIKE pattern: an underscore in an email is a character, not a wildcard)."""
    rows: list[Row] = []
    for part in _slices(sorted(wanted)):
        rows.extend(await fetch_raw(
            f'SELECT "id", "name", "email" FROM {_CUSTOMERS} WHERE "workspace" = ? AND lower("{column}") IN '
            f"({marks(part)})", connection.workspace, *part,
        ))
    return rows


async def _linked_here(connection_id: int, record_ids: set[int]) -> set[int]:
    """Which of these local customers already have a link in this connection (another connection's
    link does not count)."""
    linked: set[int] = set()
    for part in _slices(sorted(record_ids)):
        linked.update(row["record_id"] for row in await fetch_raw(
            f'SELECT "record_id" FROM {_LINKS} WHERE "connection" = ? AND "record_type" = ? '
            f'AND "record_id" IN ({marks(part)})', connection_id, RecordType.customer, *part,
        ))
    return linked


class _Candidates:
    """Unlinked local customers that may match the page's new remote customers, read in two queries
    (emails, names) plus one for which of them are linked already."""

    def __init__(self, by_email: dict[str, list[Row]], by_name: dict[str, list[Row]]) -> None:
        self.by_email, self.by_name = by_email, by_name
        self.claimed: set[int] = set()  # linked by an earlier record of this page

    @classmethod
    async def read(cls, connection: Connection, remotes: list[RemoteCustomer], names: dict[str, str]) -> _Candidates:
        emails = {r.email.lower() for r in remotes if r.email}
        wanted_names = {names[r.remote_id].lower() for r in remotes}
        email_rows = await _customers_where_lower(connection, "email", emails) if emails else []
        name_rows = await _customers_where_lower(connection, "name", wanted_names) if wanted_names else []
        linked = await _linked_here(connection.id, {row["id"] for row in [*email_rows, *name_rows]})
        by_email: dict[str, list[Row]] = {}
        by_name: dict[str, list[Row]] = {}
        for row in email_rows:
            if row["id"] not in linked:
                by_email.setdefault(row["email"].lower(), []).append(row)
        for row in name_rows:
            if row["id"] not in linked:
                by_name.setdefault(row["name"].lower(), []).append(row)
        return cls(by_email, by_name)

    def match(self, remote: RemoteCustomer, name: str) -> list[Row]:
        """Same email, else same name; a same-named customer with another email is someone else."""
        found: list[Row] = []
        if remote.email:
            found = [row for row in self.by_email.get(remote.email.lower(), []) if row["id"] not in self.claimed]
        if not found:
            email = remote.email.lower()
            found = [row for row in self.by_name.get(name.lower(), []) if row["id"] not in self.claimed
                     and not (row["email"] and email and row["email"].lower() != email)]
        return found


async def _decide(ctx: RunContext, connection: Connection, live: list[RemoteCustomer],
                  links: dict[str, Row]) -> list[_Decision]:
    values = {remote.remote_id: customer_values(remote) for remote in live}
    new = [remote for remote in live if remote.remote_id not in links]
    candidates = await _Candidates.read(connection, new, {r.remote_id: values[r.remote_id]["name"] for r in new})
    decisions: list[_Decision] = []
    for remote in live:
        link = links.get(remote.remote_id)
        mine = values[remote.remote_id]
        if link is not None:
            outcome = "skipped" if link["fingerprint"] == fingerprint(remote) else "updated"
            decisions.append(_Decision(remote, outcome, link["record_id"], mine, link))
            continue
        found = candidates.match(remote, mine["name"])
        if len(found) > 1:
            ids = [row["id"] for row in found]
            await raise_issue(
                workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.customer,
                record_id=ids[0], run_id=ctx.run.id, code="ambiguous_match",
                message=f"“{mine['name']}” in the provider matches {len(found)} customers here "
                        f"(ids {', '.join(str(i) for i in ids)}); none was linked or created.",
                fix=REASONS["ambiguous_match"].fix,
            )
            decisions.append(_Decision(remote, "failed", None, mine, message="ambiguous match"))
        elif found:
            candidates.claimed.add(found[0]["id"])
            decisions.append(_Decision(remote, "linked", found[0]["id"], mine))
        else:
            decisions.append(_Decision(remote, "created", None, mine))
    return decisions


CUSTOMER_FIELDS = ["name", "company", "given_name", "family_name", "email", "phone", "address_line1",
                   "address_line2", "city", "region", "postal_code", "country", "tax_number", "notes", "currency"]


async def _create(ctx: RunContext, connection: Connection, decisions: list[_Decision]) -> None:
    kinds = loads(ctx.run.params).get("kinds", {})
    now = utcnow()
    columns = ["workspace", "source", "kind", "active", "archived_at", "external_ref", "created_at", "updated_at",
               *CUSTOMER_FIELDS]
    rows = []
    for decision in decisions:
        remote, values = decision.remote, decision.values
        kind = kinds.get(remote.remote_id) or suggest_kind(values["name"], remote.company, remote.email)
        # Without a currency of its own, a customer is billed in the company's home currency.
        values = {"currency": connection.currency or "USD", **values}
        decision.values = values
        rows.append((connection.workspace, connection.provider, kind, True, None, None, now, now,
                     *(values[name] for name in CUSTOMER_FIELDS)))
    ids = await insert_rows(Customer, columns, rows)
    for decision, record_id in zip(decisions, ids, strict=True):
        decision.record_id = record_id


async def _update(decisions: list[_Decision], existing: dict[int, Customer]) -> None:
    """Changed customers, in one prepared statement run for all of them."""
    now = utcnow()
    rows = []
    for decision in decisions:
        row = existing.get(decision.record_id or 0)
        if row is None:  # the local customer is gone; its link alone is refreshed
            continue
        for name, value in decision.values.items():
            setattr(row, name, value)
        row.active, row.archived_at, row.updated_at = True, None, now
        rows.append((*(getattr(row, name) for name in CUSTOMER_FIELDS), True, None, now, row.id))
    await update_rows(Customer, [*CUSTOMER_FIELDS, "active", "archived_at", "updated_at"], rows)


async def _save_links(connection: Connection, decisions: list[_Decision], *, state: LinkState = LinkState.synced,
                      message: str = "", keep_fingerprint: bool = False) -> None:
    """`save_link` for many records: new links inserted in bulk, existing ones updated in bulk."""
    now = utcnow()
    new, changed = [], []
    for decision in decisions:
        remote, link = decision.remote, decision.link
        version = remote.version or (link["remote_version"] if link else "") or ""
        if link is None:
            new.append((connection.workspace, connection.id, RecordType.customer, decision.record_id, remote.remote_id,
                        version, "", fingerprint(remote), state, "{}", message, now, now, now))
        else:
            print_ = link["fingerprint"] if keep_fingerprint else fingerprint(remote)
            changed.append((remote.remote_id, state, version, print_, message, now, now, link["id"]))
    await insert_rows(ExternalLink, ["workspace", "connection", "record_type", "record_id", "remote_id",
                                     "remote_version", "remote_number", "fingerprint", "state", "remote_data",
                                     "message", "last_synced_at", "created_at", "updated_at"], new)
    await update_rows(ExternalLink, ["remote_id", "state", "remote_version", "fingerprint", "message",
                                     "last_synced_at", "updated_at"], changed)


async def _archive(connection: Connection, gone: list[RemoteCustomer],
                   links: dict[str, Row]) -> tuple[list[_Decision], list[tuple[Customer, str]]]:
    """Deleted or inactive in the provider: archived here, never dropped; unknown ones are skipped."""
    announce = []
    linked = [_Decision(remote, "updated", links[remote.remote_id]["record_id"], link=links[remote.remote_id],
                        message="archived") for remote in gone if remote.remote_id in links]
    skipped = [_Decision(remote, "skipped") for remote in gone if remote.remote_id not in links]
    if linked:
        now = utcnow()
        await update_rows(Customer, ["active", "archived_at"], [(False, now, d.record_id) for d in linked])
        rows = await _customers([decision.record_id for decision in linked])
        for decision in linked:
            row = rows.get(decision.record_id or 0)
            if row is not None and decision.link is not None and decision.link["state"] != LinkState.archived:
                announce.append((row, decision.remote.remote_id))
        # The link keeps its fingerprint: a later reactivation must read as a change.
        await _save_links(connection, linked, state=LinkState.archived, message=ARCHIVED_MESSAGE, keep_fingerprint=True)
    return linked + skipped, announce


async def _customers(ids: Sequence[int | None]) -> dict[int, Customer]:
    found: dict[int, Customer] = {}
    for part in _slices([i for i in ids if i]):
        for row in await Customer.objects().where(Customer.id.is_in(list(part))):
            found[row.id] = row
    return found


async def apply_customer_page(ctx: RunContext, connection: Connection, remotes: Sequence[RemoteCustomer]) -> None:
    """Apply a page of remote customers inside the caller's (the page's) write transaction."""
    if not remotes:
        return
    # A remote id twice in one page (a record changed while the provider paged): its latest copy counts.
    remotes = list({remote.remote_id: remote for remote in remotes}.values())
    links = await links_by_remote(connection.id, RecordType.customer, [remote.remote_id for remote in remotes])
    gone = [remote for remote in remotes if remote.deleted or not remote.active]
    live = [remote for remote in remotes if not (remote.deleted or not remote.active)]
    # Gone there but still owed money here: kept as it is, with an issue (one lookup per gone customer).
    kept = {remote.remote_id for remote in gone
            if remote.remote_id in links and await kept_for_open_invoices(ctx, connection, remote)}
    gone = [remote for remote in gone if remote.remote_id not in kept]
    archived, announce_archived = await _archive(connection, gone, links)
    decisions = await _decide(ctx, connection, live, links)
    created = [d for d in decisions if d.outcome == "created"]
    updated = [d for d in decisions if d.outcome == "updated"]
    await _create(ctx, connection, created)
    existing = await _customers([d.record_id for d in updated])
    await _update(updated, existing)
    await _save_links(connection, [d for d in decisions if d.outcome in ("created", "updated", "linked")])
    events = [records.customer_changed("archived", connection, row, remote_id) for row, remote_id in announce_archived]
    for decision in decisions:
        if decision.outcome == "created":
            events.append(records.customer_event(
                "created", connection, customer_id=decision.record_id or 0, external_ref=None,
                name=decision.values["name"], email=decision.values["email"], active=True,
                remote_id=decision.remote.remote_id))
        elif decision.outcome == "updated" and (decision.record_id or 0) in existing:
            row = existing[decision.record_id or 0]
            events.append(records.customer_changed("updated", connection, row, decision.remote.remote_id))
    await record_events(events)
    await note_many(ctx, RecordType.customer, [
        (d.record_id if d.outcome != "failed" else None, d.remote.remote_id, d.outcome, d.message)
        for d in [*archived, *decisions]
    ])
