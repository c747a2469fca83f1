"""Pages of provider items, income accounts and tax rates applied in a few queries, like customers.

Applied one by one, each record cost a link lookup, a write, a link write with its own read-back,
a run record and (items) an event, every one a query: a company with thousands of products paid
that per product, inside the page's one transaction. Here a page reads its links (and, for items,
the income account and tax rate links they refer to, and the unlinked items of the same names) in
one query each, then writes rows, links, events and run records in bulk, in the caller's (the
page's) transaction. The rules are those `importing` states and the one-by-one code kept:

* accounts and tax rates are the provider's: mirrored one row per remote record, updated in place,
  a deleted one marked inactive with its link archived;
* an item already linked is updated when its fingerprint changed, else skipped; an unlinked one is
  linked to an unlinked item here of the same name (case-folded equality, never a LIKE pattern), or
  created; a deleted or inactive one is archived here (announced once), or skipped if never linked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

from ledgerbridge.bulk_rows import insert_rows, update_rows
from ledgerbridge.events import records
from ledgerbridge.events.outbox import record_events
from ledgerbridge.jobs import RunContext
from ledgerbridge.provider import RemoteAccount, RemoteItem, RemoteRecord, RemoteTaxRate
from ledgerbridge.sync.customer_pages import ARCHIVED_MESSAGE, links_by_remote
from ledgerbridge.sync.links import fingerprint
from ledgerbridge.sync.run_records import note_many
from ledgerbridge.tables import Account, Connection, ExternalLink, Item, LinkState, RecordType, TaxRate, utcnow

ROWS_PER_QUERY = 500
LINK_COLUMNS = ["workspace", "connection", "record_type", "record_id", "remote_id", "remote_version", "remote_number",
                "fingerprint", "state", "remote_data", "message", "last_synced_at", "created_at", "updated_at"]
ITEM_FIELDS = ["name", "description", "kind", "unit_price", "taxable", "active", "archived_at", "updated_at"]


@dataclass
class LinkWrite:
    """One link to create (no `link`) or refresh, as `links.save_link` would."""

    record_id: int
    remote: RemoteRecord
    link: Mapping[str, Any] | None
    state: LinkState = LinkState.synced
    fingerprint: str = ""  # empty: the link keeps the one it has
    message: str = ""


async def write_links(connection: Connection, record_type: str, writes: Sequence[LinkWrite]) -> None:
    """`save_link` for many records: new links in one INSERT, existing ones in one UPDATE."""
    now = utcnow()
    new, changed = [], []
    for write in writes:
        version = write.remote.version or (write.link["remote_version"] if write.link else "") or ""
        if write.link is None:
            new.append((connection.workspace, connection.id, record_type, write.record_id, write.remote.remote_id,
                        version, "", write.fingerprint, write.state, "{}", write.message, now, now, now))
        else:
            print_ = write.fingerprint or write.link["fingerprint"]
            changed.append((write.remote.remote_id, write.state, version, print_, write.message, now, now,
                            write.link["id"]))
    await insert_rows(ExternalLink, LINK_COLUMNS, new)
    await update_rows(ExternalLink, ["remote_id", "state", "remote_version", "fingerprint", "message",
                                     "last_synced_at", "updated_at"], changed)


async def _apply_mirrored(ctx: RunContext, connection: Connection, remotes: Sequence[RemoteRecord],
                          table: type[Table], record_type: str, fields: list[str],
                          values_of: Callable[[Any], dict[str, Any]]) -> None:
    """Accounts and tax rates: one row per remote record, created or updated in place."""
    remotes = list({remote.remote_id: remote for remote in remotes}.values())
    if not remotes:
        return
    links = await links_by_remote(connection.id, record_type, [remote.remote_id for remote in remotes])
    now = utcnow()
    created, updated = [], []
    for remote in remotes:
        values = values_of(remote)
        values["active"] = not remote.deleted and values.get("active", True)
        row = tuple(values[name] for name in fields)
        link = links.get(remote.remote_id)
        if link is not None:
            updated.append((remote, link, (*row, now, link["record_id"])))
        else:
            created.append((remote, (connection.workspace, connection.id, *row, now)))
    ids = await insert_rows(table, ["workspace", "connection", *fields, "updated_at"], [row for _, row in created])
    await update_rows(table, [*fields, "updated_at"], [row for _, _, row in updated])
    writes = [LinkWrite(record_id, remote, None) for (remote, _), record_id in zip(created, ids, strict=True)]
    writes += [LinkWrite(row[-1], remote, link) for remote, link, row in updated]
    for write in writes:
        write.state = LinkState.archived if write.remote.deleted else LinkState.synced
    await write_links(connection, record_type, writes)
    await note_many(ctx, record_type, [(record_id, remote.remote_id, "created", "")
                                       for (remote, _), record_id in zip(created, ids, strict=True)]
                    + [(row[-1], remote.remote_id, "updated", "") for remote, _, row in updated])


async def apply_account_page(ctx: RunContext, connection: Connection, remotes: Sequence[RemoteAccount]) -> None:
    await _apply_mirrored(ctx, connection, remotes, Account, RecordType.account,
                          ["name", "code", "account_type", "active"],
                          lambda r: {"name": r.name, "code": r.code, "account_type": r.account_type,
                                     "active": r.active})


async def apply_tax_rate_page(ctx: RunContext, connection: Connection, remotes: Sequence[RemoteTaxRate]) -> None:
    await _apply_mirrored(ctx, connection, remotes, TaxRate, RecordType.tax_rate, ["name", "code", "rate", "active"],
                          lambda r: {"name": r.name, "code": r.code, "rate": r.rate, "active": r.active})


async def _unlinked_items_named(connection: Connection, names: set[str]) -> dict[str, list[int]]:
    """Items of the workspace with these names (case-folded) and no item link in this connection,
    lowest id first, by folded name."""
    found: dict[str, list[int]] = {}
    wanted = sorted(names)
    for start in range(0, len(wanted), ROWS_PER_QUERY):
        part = wanted[start:start + ROWS_PER_QUERY]
        marks = ", ".join("{}" for _ in part)
        linked_here = ExternalLink.select(ExternalLink.record_id).where(
            (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.item))
        rows = await Item.select(Item.id, Item.name).where(
            (Item.workspace == connection.workspace) & Item.id.not_in(linked_here)
            & WhereRaw(f"lower(name) IN ({marks})", *part)
        ).order_by(Item.id)
        for row in rows:
            found.setdefault(row["name"].lower(), []).append(row["id"])
    return found


async def _items(ids: Sequence[int]) -> dict[int, Item]:
    found: dict[int, Item] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), ROWS_PER_QUERY):
        for row in await Item.objects().where(Item.id.is_in(unique[start:start + ROWS_PER_QUERY])):
            found[row.id] = row
    return found


async def _local_ids(connection: Connection, record_type: str, remote_ids: set[str | None]) -> dict[str, int]:
    wanted = [remote_id for remote_id in remote_ids if remote_id]
    links = await links_by_remote(connection.id, record_type, wanted) if wanted else {}
    return {remote_id: int(link["record_id"]) for remote_id, link in links.items()}


async def apply_item_page(ctx: RunContext, connection: Connection, remotes: Sequence[RemoteItem]) -> None:
    """Apply a page of remote items inside the caller's (the page's) write transaction."""
    remotes = list({remote.remote_id: remote for remote in remotes}.values())
    if not remotes:
        return
    links = await links_by_remote(connection.id, RecordType.item, [remote.remote_id for remote in remotes])
    outcomes: list[tuple[int | None, str, str, str]] = []
    announce: list[tuple[str, int, str]] = []  # (kind, item id, remote id)
    writes: list[LinkWrite] = []
    now = utcnow()

    # Deleted or inactive there: archived here, announced once; never linked, nothing to do.
    gone = [remote for remote in remotes if remote.deleted or not remote.active]
    archived = [(remote, links[remote.remote_id]) for remote in gone if remote.remote_id in links]
    await update_rows(Item, ["active", "archived_at"], [(False, now, link["record_id"]) for _, link in archived])
    for remote, link in archived:
        if link["state"] != LinkState.archived:
            announce.append(("archived", link["record_id"], remote.remote_id))
        writes.append(LinkWrite(link["record_id"], remote, link, LinkState.archived, message=ARCHIVED_MESSAGE))
        outcomes.append((link["record_id"], remote.remote_id, "updated", "archived"))
    outcomes += [(None, remote.remote_id, "skipped", "") for remote in gone if remote.remote_id not in links]

    live = [remote for remote in remotes if not (remote.deleted or not remote.active)]
    accounts = await _local_ids(connection, RecordType.account, {remote.income_account_id for remote in live})
    taxes = await _local_ids(connection, RecordType.tax_rate, {remote.tax_rate_id for remote in live})
    same_name = await _unlinked_items_named(connection, {remote.name.lower() for remote in live
                                                         if remote.remote_id not in links})
    created: list[tuple[RemoteItem, str, tuple[Any, ...]]] = []
    updates: dict[tuple[bool, bool], list[tuple[Any, ...]]] = {}
    for remote in live:
        seen = fingerprint(remote)
        account_id = accounts.get(remote.income_account_id or "")
        tax_id = taxes.get(remote.tax_rate_id or "")
        values = (remote.name, remote.description, remote.kind, remote.unit_price, remote.taxable, True, None, now)
        existing = links.get(remote.remote_id)
        if existing is not None:
            if existing["fingerprint"] == seen:
                outcomes.append((existing["record_id"], remote.remote_id, "skipped", ""))
                continue
            # As one by one: a reference the provider gives but we do not know leaves ours as it is.
            extra = tuple(value for value in (account_id, tax_id) if value)
            updates.setdefault((bool(account_id), bool(tax_id)), []).append((*values, *extra, existing["record_id"]))
            writes.append(LinkWrite(existing["record_id"], remote, existing, fingerprint=seen))
            announce.append(("updated", existing["record_id"], remote.remote_id))
            outcomes.append((existing["record_id"], remote.remote_id, "updated", ""))
            continue
        candidates = same_name.get(remote.name.lower())
        if candidates:
            record_id = candidates.pop(0)  # claimed: a later record of the page cannot take it too
            writes.append(LinkWrite(record_id, remote, None, fingerprint=seen))
            outcomes.append((record_id, remote.remote_id, "linked", ""))
            continue
        created.append((remote, seen, (connection.workspace, connection.provider, *values, account_id, tax_id, now)))

    for (with_account, with_tax), rows in updates.items():
        columns = [*ITEM_FIELDS, *(["income_account"] if with_account else []), *(["tax_rate"] if with_tax else [])]
        await update_rows(Item, columns, rows)
    ids = await insert_rows(Item, ["workspace", "source", *ITEM_FIELDS, "income_account", "tax_rate", "created_at"],
                            [row for _, _, row in created])
    for (remote, seen, _), record_id in zip(created, ids, strict=True):
        writes.append(LinkWrite(record_id, remote, None, fingerprint=seen))
        announce.append(("created", record_id, remote.remote_id))
        outcomes.append((record_id, remote.remote_id, "created", ""))

    await write_links(connection, RecordType.item, writes)
    items = await _items([item_id for _, item_id, _ in announce])
    await record_events([records.item_changed(kind, connection, items[item_id], remote_id)
                         for kind, item_id, remote_id in announce if item_id in items])
    await note_many(ctx, RecordType.item, outcomes)
