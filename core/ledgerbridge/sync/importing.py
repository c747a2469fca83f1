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
from ledgerbridge.jobs import RunContext, loads, transaction
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemoteCustomer
from ledgerbridge.sync.customer_kind import suggest_kind
from ledgerbridge.sync.customer_pages import apply_customer_page, customer_values
from ledgerbridge.sync.paging import GATHER_RECORDS, read_pages, save_change_cursor
from ledgerbridge.sync.reference_pages import apply_account_page, apply_item_page, apply_tax_rate_page
from ledgerbridge.tables import Connection, Customer, ExternalLink, RecordType, RunKind

ApplyPage = Callable[[RunContext, Connection, list[Any]], Awaitable[None]]

# Kept under their former names for the import review, which matches one record at a time.
_customer_values = customer_values
__all__ = ["match_customer", "run_import", "suggest_kind"]


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


# Order matters on a full import: items refer to accounts and tax rates. Every step applies a page
# at a time in a few queries (`customer_pages`, `reference_pages`).
STEPS: list[tuple[str, str, ApplyPage, str | None]] = [
    ("accounts", "import_accounts", apply_account_page, "income_accounts"),
    ("tax_rates", "import_tax_rates", apply_tax_rate_page, "tax_rates"),
    ("customers", "import_customers", apply_customer_page, None),
    ("items", "import_items", apply_item_page, None),
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
        async with aclosing(read_pages(connection.id, hook, cursor=cursor, ahead=True, gather=GATHER_RECORDS)) as pages:
            async for page in pages:
                # The import review may have left some out; a later full import can take them.
                records = [r for r in page.records if not selected or r.remote_id in selected]
                # The page's records, their events and the run's resume point commit together: one
                # commit a page, and a resumed run never applies a committed page twice.
                async with transaction():
                    await apply(ctx, connection, records)
                    await ctx.save(checkpoint={"done": done, "step": name, "cursor": page.next_cursor})
        if page.cursor is not None and not selected:  # a partial import must not move the change cursor
            await save_change_cursor(connection, name, page.cursor)
        done.append(name)
        await ctx.save(checkpoint={"done": done}, progress_done=len(done), progress_total=len(wanted))
