"""Importing from a provider: customers, items, income accounts and tax rates.

Rules that hold for every provider:
* a record already linked is updated from the provider when it changed there;
* a record that exists here but is not linked yet is linked (matched by email, else by name),
  never duplicated;
* a record deleted or deactivated in the provider is archived here, never dropped;
* reads are paged and resumable: the run's checkpoint holds the page cursor, and the connection
  keeps the provider's change cursor so the next import reads only what changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

from ledgerbridge import connections
from ledgerbridge.db import write_transaction
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.jobs import RunContext, loads, transaction
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemoteAccount, RemoteCustomer, RemoteItem, RemoteRecord, RemoteTaxRate
from ledgerbridge.sync.customer_kind import suggest_kind
from ledgerbridge.sync.customer_pages import apply_customer_page, customer_values
from ledgerbridge.sync.links import fingerprint, link_by_remote, save_link
from ledgerbridge.sync.paging import read_pages, save_change_cursor
from ledgerbridge.sync.run_records import note
from ledgerbridge.tables import (
    Account,
    Connection,
    Customer,
    ExternalLink,
    Item,
    LinkState,
    RecordType,
    RunKind,
    TaxRate,
    utcnow,
)

Apply = Callable[[RunContext, Connection, Any], Awaitable[str]]
ApplyPage = Callable[[RunContext, Connection, list[Any]], Awaitable[None]]

# Kept under their former names for the import review, which matches one record at a time.
_customer_values = customer_values
__all__ = ["match_customer", "run_import", "suggest_kind"]


async def _note(ctx: RunContext, record_type: str, record_id: int | None, remote_id: str, outcome: str,
                message: str = "") -> None:
    """Every record read counts as seen; the unchanged ones are not listed on the run."""
    await note(ctx, record_type, record_id, remote_id, outcome, message, kept=outcome != "skipped")


async def _archive(ctx: RunContext, table: type, record_type: str, connection: Connection,
                   remote: RemoteRecord) -> str:
    link = await link_by_remote(connection.id, record_type, remote.remote_id)
    if link is None:
        await _note(ctx, record_type, None, remote.remote_id, "skipped")
        return "skipped"
    async with write_transaction():
        values: dict[Any, Any] = {table.active: False}
        if hasattr(table, "archived_at"):
            values[table.archived_at] = utcnow()
        await table.update(values).where(table.id == link.record_id)
        if table in (Customer, Item) and link.state != LinkState.archived:
            await _announce("archived", table, connection, link.record_id, remote.remote_id)
    await save_link(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=record_type,
        record_id=link.record_id, remote_id=remote.remote_id, state=LinkState.archived,
        message="Deleted or deactivated in the provider; archived here.",
    )
    await _note(ctx, record_type, link.record_id, remote.remote_id, "updated", "archived")
    return "updated"


async def _announce(kind: str, table: type, connection: Connection, record_id: int, remote_id: str) -> None:
    """customer.* / item.* events, in the import chunk's transaction (`run_import`)."""
    row = await table.objects().where(table.id == record_id).first()
    if row is None:
        return
    build = records.customer_changed if table is Customer else records.item_changed
    async with write_transaction():
        await emit(build(kind, connection, row, remote_id))


def _linked_here(connection_id: int, record_type: str) -> Any:
    """Local ids already linked in this connection; a link in another connection does not count."""
    return ExternalLink.select(ExternalLink.record_id).where(
        (ExternalLink.connection == connection_id) & (ExternalLink.record_type == record_type)
    )


async def match_customer(connection: Connection, remote: RemoteCustomer, name: str) -> list[Customer]:
    """Unlinked local customers that may be this remote one: same email, else same name.

    One candidate is a match. Several are ambiguous and become an issue: a person decides which, we
    never guess. Same name but a different email is a different customer and never a candidate.
    """
    here = Customer.workspace == connection.workspace
    found: list[Customer] = []
    if remote.email:
        found = await _unlinked(connection, await Customer.objects().where(here & Customer.email.ilike(remote.email)))
    if not found:
        same_name = await _unlinked(connection, await Customer.objects().where(here & Customer.name.ilike(name)))
        found = [c for c in same_name if not (c.email and remote.email and c.email.lower() != remote.email.lower())]
    return found


async def _unlinked(connection: Connection, customers: list[Customer]) -> list[Customer]:
    """Drop candidates already linked in this connection (asked for the few candidates only, not
    as a subquery over every link, which made each lookup slower as the import went on)."""
    if not customers:
        return []
    linked = {row["record_id"] for row in await ExternalLink.select(ExternalLink.record_id).where(
        (ExternalLink.connection == connection.id) & (ExternalLink.record_type == RecordType.customer)
        & ExternalLink.record_id.is_in([c.id for c in customers]))}
    return [c for c in customers if c.id not in linked]


async def apply_item(ctx: RunContext, connection: Connection, remote: RemoteItem) -> str:
    if remote.deleted or not remote.active:
        return await _archive(ctx, Item, RecordType.item, connection, remote)
    seen = fingerprint(remote)
    account_id = await _local_id(connection.id, RecordType.account, remote.income_account_id)
    tax_id = await _local_id(connection.id, RecordType.tax_rate, remote.tax_rate_id)
    values: dict[Any, Any] = {
        Item.name: remote.name, Item.description: remote.description, Item.kind: remote.kind,
        Item.unit_price: remote.unit_price, Item.taxable: remote.taxable, Item.active: True,
        Item.archived_at: None, Item.updated_at: utcnow(),
    }
    if account_id:
        values[Item.income_account] = account_id
    if tax_id:
        values[Item.tax_rate] = tax_id
    link = await link_by_remote(connection.id, RecordType.item, remote.remote_id)
    if link is not None:
        if link.fingerprint == seen:
            await _note(ctx, RecordType.item, link.record_id, remote.remote_id, "skipped")
            return "skipped"
        async with write_transaction():
            await Item.update(values).where(Item.id == link.record_id)
        outcome, record_id = "updated", link.record_id
    else:
        same = await Item.objects().where(
            (Item.workspace == connection.workspace)
            & Item.id.not_in(_linked_here(connection.id, RecordType.item))
            & Item.name.ilike(remote.name)
        ).first()
        if same is not None:
            outcome, record_id = "linked", same.id
        else:
            item = Item(workspace=connection.workspace, source=connection.provider, created_at=utcnow(),
                        **{column._meta.name: value for column, value in values.items()})
            async with write_transaction():
                await item.save()
            outcome, record_id = "created", item.id
    await save_link(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.item,
        record_id=record_id, remote_id=remote.remote_id, version=remote.version, fingerprint_value=seen,
    )
    if outcome in ("created", "updated"):
        await _announce(outcome, Item, connection, record_id, remote.remote_id)
    await _note(ctx, RecordType.item, record_id, remote.remote_id, outcome)
    return outcome


async def _local_id(connection_id: int, record_type: str, remote_id: str | None) -> int | None:
    if not remote_id:
        return None
    link = await link_by_remote(connection_id, record_type, remote_id)
    return link.record_id if link else None


async def _apply_reference(ctx: RunContext, connection: Connection, remote: RemoteRecord, table: type,
                           record_type: str, values: dict[Any, Any]) -> str:
    """Accounts and tax rates are the provider's: mirror them, one row per remote record."""
    link = await link_by_remote(connection.id, record_type, remote.remote_id)
    values = {**values, table.updated_at: utcnow(), table.active: not remote.deleted and values.get(table.active, True)}
    async with write_transaction():
        if link is not None:
            await table.update(values).where(table.id == link.record_id)
            record_id, outcome = link.record_id, "updated"
        else:
            row = table(workspace=connection.workspace, connection=connection.id,
                        **{column._meta.name: value for column, value in values.items()})
            await row.save()
            record_id, outcome = row.id, "created"
    await save_link(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=record_type,
        record_id=record_id, remote_id=remote.remote_id, version=remote.version,
        state=LinkState.archived if remote.deleted else LinkState.synced,
    )
    await _note(ctx, record_type, record_id, remote.remote_id, outcome)
    return outcome


async def apply_account(ctx: RunContext, connection: Connection, remote: RemoteAccount) -> str:
    return await _apply_reference(ctx, connection, remote, Account, RecordType.account, {
        Account.name: remote.name, Account.code: remote.code, Account.account_type: remote.account_type,
        Account.active: remote.active,
    })


async def apply_tax_rate(ctx: RunContext, connection: Connection, remote: RemoteTaxRate) -> str:
    return await _apply_reference(ctx, connection, remote, TaxRate, RecordType.tax_rate, {
        TaxRate.name: remote.name, TaxRate.code: remote.code, TaxRate.rate: remote.rate,
        TaxRate.active: remote.active,
    })


def one_by_one(apply: Apply) -> ApplyPage:
    """A page applied record by record (accounts, tax rates and items: few per company), still in
    the page's one transaction."""

    async def apply_page(ctx: RunContext, connection: Connection, page: list[Any]) -> None:
        for record in page:
            await apply(ctx, connection, record)

    return apply_page


# Order matters on a full import: items refer to accounts and tax rates. Customers, the many,
# are applied a page at a time in a few queries (`customer_pages`).
STEPS: list[tuple[str, str, ApplyPage, str | None]] = [
    ("accounts", "import_accounts", one_by_one(apply_account), "income_accounts"),
    ("tax_rates", "import_tax_rates", one_by_one(apply_tax_rate), "tax_rates"),
    ("customers", "import_customers", apply_customer_page, None),
    ("items", "import_items", one_by_one(apply_item), None),
]
KIND_STEPS = {
    RunKind.import_accounts: ["accounts"],
    RunKind.import_tax_rates: ["tax_rates"],
    RunKind.import_customers: ["customers"],
    RunKind.import_items: ["items"],
    RunKind.import_all: [name for name, *_ in STEPS],
}


async def run_import(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    capabilities = get_registry().provider(connection.provider).capabilities
    wanted = KIND_STEPS[RunKind(ctx.run.kind)]
    checkpoint = ctx.checkpoint
    done: list[str] = checkpoint.get("done", [])
    full = bool(ctx.params.get("full"))
    for name, hook, apply, capability in STEPS:
        if name not in wanted or name in done:
            continue
        if capability and not getattr(capabilities, capability):
            done.append(name)
            continue
        # Resume mid-read from the checkpoint; otherwise continue from the last change cursor.
        if checkpoint.get("step") == name:
            cursor = checkpoint.get("cursor")
        else:
            cursor = None if full or not capabilities.incremental_import else loads(connection.cursors).get(name)
        selected = set(ctx.params.get("remote_ids") or []) if name == "customers" else set()
        async with aclosing(read_pages(connection.id, hook, cursor=cursor)) as pages:
            async for page in pages:
                # The import review may have left some out; a later full import can take them.
                records = [r for r in page.records if not selected or r.remote_id in selected]
                async with transaction():  # the page's records and their events commit together
                    await apply(ctx, connection, records)
                await ctx.save(checkpoint={"done": done, "step": name, "cursor": page.next_cursor})
        if page.cursor is not None and not selected:  # a partial import must not move the change cursor
            await save_change_cursor(connection, name, page.cursor)
        done.append(name)
        await ctx.save(checkpoint={"done": done}, progress_done=len(done), progress_total=len(wanted))
