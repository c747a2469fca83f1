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
from ledgerbridge.errors import REASONS
from ledgerbridge.events import records
from ledgerbridge.events.outbox import emit
from ledgerbridge.issues import raise_issue
from ledgerbridge.jobs import RunContext, loads, transaction
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import RemoteAccount, RemoteCustomer, RemoteItem, RemoteRecord, RemoteTaxRate
from ledgerbridge.sync.customer_guard import kept_for_open_invoices
from ledgerbridge.sync.links import fingerprint, link_by_remote, save_link
from ledgerbridge.sync.paging import chunks, read_pages, save_change_cursor
from ledgerbridge.sync.run_records import note
from ledgerbridge.tables import (
    Account,
    Connection,
    Customer,
    CustomerKind,
    ExternalLink,
    Item,
    LinkState,
    RecordType,
    RunKind,
    TaxRate,
    utcnow,
)

Apply = Callable[[RunContext, Connection, Any], Awaitable[str]]


async def _note(ctx: RunContext, record_type: str, record_id: int | None, remote_id: str, outcome: str,
                message: str = "") -> None:
    """Every record read counts as seen; the unchanged ones are not listed on the run."""
    await note(ctx, record_type, record_id, remote_id, outcome, message, kept=outcome != "skipped")


def _customer_values(remote: RemoteCustomer) -> dict[str, Any]:
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


async def apply_customer(ctx: RunContext, connection: Connection, remote: RemoteCustomer) -> str:
    if remote.deleted or not remote.active:
        if await kept_for_open_invoices(ctx, connection, remote):
            return "failed"
        return await _archive(ctx, Customer, RecordType.customer, connection, remote)
    values = _customer_values(remote)
    seen = fingerprint(remote)
    link = await link_by_remote(connection.id, RecordType.customer, remote.remote_id)
    if link is not None:
        if link.fingerprint == seen:
            await _note(ctx, RecordType.customer, link.record_id, remote.remote_id, "skipped")
            return "skipped"
        async with write_transaction():
            await Customer.update({**{getattr(Customer, k): v for k, v in values.items()},
                                   Customer.active: True, Customer.archived_at: None,
                                   Customer.updated_at: utcnow()}).where(Customer.id == link.record_id)
        outcome, record_id = "updated", link.record_id
    else:
        candidates = await match_customer(connection, remote, values["name"])
        if len(candidates) > 1:
            await raise_issue(
                workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.customer,
                record_id=candidates[0].id, run_id=ctx.run.id, code="ambiguous_match",
                message=f"“{values['name']}” in the provider matches {len(candidates)} customers here "
                        f"(ids {', '.join(str(c.id) for c in candidates)}); none was linked or created.",
                fix=REASONS["ambiguous_match"].fix,
            )
            await _note(ctx, RecordType.customer, None, remote.remote_id, "failed", "ambiguous match")
            return "failed"
        if candidates:
            outcome, record_id = "linked", candidates[0].id
        else:
            chosen_kind = loads(ctx.run.params).get("kinds", {}).get(remote.remote_id)
            customer = Customer(
                workspace=connection.workspace, source=connection.provider, created_at=utcnow(),
                updated_at=utcnow(), kind=chosen_kind or suggest_kind(values["name"], remote.company, remote.email),
                # Without a currency of its own, a customer is billed in the company's home currency.
                **{"currency": connection.currency or "USD", **values},
            )
            async with write_transaction():
                await customer.save()
            outcome, record_id = "created", customer.id
    await save_link(
        workspace_id=connection.workspace, connection_id=connection.id, record_type=RecordType.customer,
        record_id=record_id, remote_id=remote.remote_id, version=remote.version, fingerprint_value=seen,
    )
    if outcome in ("created", "updated"):
        await _announce(outcome, Customer, connection, record_id, remote.remote_id)
    await _note(ctx, RecordType.customer, record_id, remote.remote_id, outcome)
    return outcome


FREE_MAIL = ("gmail.", "googlemail.", "yahoo.", "hotmail.", "outlook.", "live.", "icloud.", "me.com", "aol.",
             "proton", "gmx.", "web.de", "mail.ru", "yandex.")
BUSINESS_WORDS = ("inc", "llc", "ltd", "limited", "gmbh", "corp", "co", "company", "plc", "sa", "sarl", "bv", "pty",
                  "group", "studio", "agency", "associates", "partners", "services", "&")


def suggest_kind(name: str, company: str = "", email: str = "") -> str:
    """Business or individual, suggested from the name and email; the import review lets a person change it."""
    words = {w.strip(".,()").lower() for w in name.split()}
    if company or words & set(BUSINESS_WORDS):
        return CustomerKind.business
    domain = email.rpartition("@")[2].lower()
    if domain and not domain.startswith(FREE_MAIL):
        return CustomerKind.business
    return CustomerKind.individual


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


# Order matters on a full import: items refer to accounts and tax rates.
STEPS: list[tuple[str, str, Apply, str | None]] = [
    ("accounts", "import_accounts", apply_account, "income_accounts"),
    ("tax_rates", "import_tax_rates", apply_tax_rate, "tax_rates"),
    ("customers", "import_customers", apply_customer, None),
    ("items", "import_items", apply_item, None),
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
                for chunk in chunks(page.records):
                    async with transaction():  # the chunk's records and their events commit together
                        for record in chunk:
                            if selected and record.remote_id not in selected:
                                continue  # the import review left it out; a later full import can take it
                            await apply(ctx, connection, record)
                await ctx.save(checkpoint={"done": done, "step": name, "cursor": page.next_cursor})
        if page.cursor is not None and not selected:  # a partial import must not move the change cursor
            await save_change_cursor(connection, name, page.cursor)
        done.append(name)
        await ctx.save(checkpoint={"done": done}, progress_done=len(done), progress_total=len(wanted))
