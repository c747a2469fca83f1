"""Customers: CRUD, search, and the host app's idempotent push by its own id (`external_ref`)."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import Combinable

from ledgerbridge import audit, books, jobs
from ledgerbridge.api.choices import first_by_name, held
from ledgerbridge.api.errors import Conflict, Invalid
from ledgerbridge.api.paging import DEFAULT_LIMIT, Page, contains, page_of
from ledgerbridge.api.schemas import given_fields
from ledgerbridge.api.scoping import in_workspace, insert_pushed
from ledgerbridge.api.sync_state import links_for, mark_links_changed
from ledgerbridge.db import is_unique_violation, write_transaction
from ledgerbridge.domain.customers.schemas import (
    CustomerChoice,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
)
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require
from ledgerbridge.sync.customer_push import queue_push
from ledgerbridge.tables import (
    Connection,
    ConnectionStatus,
    Customer,
    ExternalLink,
    Invoice,
    RecordType,
    RunKind,
    SyncRun,
    TimeEntry,
    utcnow,
)


async def customers_out(workspace_id: int, rows: list[Customer]) -> list[CustomerOut]:
    links = await links_for(workspace_id, RecordType.customer, [row.id for row in rows])
    return [
        CustomerOut(
            id=row.id,
            name=row.name,
            company=row.company,
            given_name=row.given_name,
            family_name=row.family_name,
            email=row.email,
            phone=row.phone,
            address_line1=row.address_line1,
            address_line2=row.address_line2,
            city=row.city,
            region=row.region,
            postal_code=row.postal_code,
            country=row.country,
            tax_number=row.tax_number,
            currency=row.currency,
            notes=row.notes,
            kind=row.kind,
            active=row.active,
            source=row.source,
            external_ref=row.external_ref,
            archived_at=row.archived_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            links=links.get(row.id, []),
        )
        for row in rows
    ]


async def customer_out(workspace_id: int, row: Customer) -> CustomerOut:
    return (await customers_out(workspace_id, [row]))[0]


def _stored_values(values: dict[str, Any]) -> dict[Any, Any]:
    """Request fields to column values; archiving follows `active` so lists can show when."""
    stored: dict[Any, Any] = {getattr(Customer, name): value for name, value in values.items()}
    if "active" in values:
        stored[Customer.archived_at] = None if values["active"] else utcnow()
    stored[Customer.updated_at] = utcnow()
    return stored


def _ref_taken(ref: str | None) -> Conflict:
    return Conflict(
        f"Another customer already has external_ref {ref!r}.",
        fix=f"Update that customer with PUT /api/v1/customers/by-ref/{ref}, or use a different external_ref.",
    )


async def _update(caller: Caller, customer: Customer, values: dict[str, Any]) -> None:
    assert caller.workspace_id is not None
    changed = {name: value for name, value in values.items() if getattr(customer, name) != value}
    if not changed:
        return
    try:
        async with jobs.transaction() as tx:  # the change and its automatic push commit together
            await Customer.update(_stored_values(changed)).where(Customer.id == customer.id)
            await mark_links_changed(caller.workspace_id, RecordType.customer, customer.id)
            await queue_push(tx, caller.workspace_id, RecordType.customer, customer.id, caller.trigger)
    except Exception as exc:
        if is_unique_violation(exc):
            raise _ref_taken(values.get("external_ref")) from None
        raise


def matching(q: str) -> Combinable:
    """Customers whose name, company or email holds `q`: one rule for the API's list and the forms' pickers."""
    return contains(Customer.name, q) | contains(Customer.company, q) | contains(Customer.email, q)


#: How many customers a picker offers at once: enough to scan, few enough to answer in a few milliseconds.
CHOICES_LIMIT = 20


async def choices(caller: Caller, *, q: str = "", limit: int = CHOICES_LIMIT) -> list[CustomerChoice]:
    """Active customers matching `q` (all when empty), by name, at most `limit`: what a form's picker lists.

    Not `list_customers`, which counts every match and reads links (`api.choices` says why a picker
    needs neither). Archived customers are never offered.
    """
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where: Combinable = (Customer.workspace == caller.workspace_id) & Customer.active.eq(True)
    if q.strip():
        where = where & matching(q)
    rows = await first_by_name(Customer, [Customer.id, Customer.name, Customer.email], where, limit)
    return [CustomerChoice(id=row["id"], name=row["name"], email=row["email"]) for row in rows]


async def chosen(caller: Caller, ids: list[int]) -> list[CustomerChoice]:
    """These customers of the caller's workspace, archived ones too: a form shows what it holds."""
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    rows = await held(Customer, [Customer.id, Customer.name, Customer.email], caller.workspace_id, ids)
    return [CustomerChoice(id=row["id"], name=row["name"], email=row["email"]) for row in rows]


async def list_customers(
    caller: Caller,
    *,
    q: str | None = None,
    active: bool | None = None,
    source: str | None = None,
    external_ref: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> CustomerPage:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    where: Combinable = Customer.workspace == caller.workspace_id
    if q:
        where = where & matching(q)
    if active is not None:
        where = where & (Customer.active == active)
    if source:
        where = where & (Customer.source == source)
    if external_ref:
        where = where & (Customer.external_ref == external_ref)
    rows, total = await page_of(Customer, where, limit=limit, offset=offset, order_by=Customer.name)
    return Page(
        items=await customers_out(caller.workspace_id, rows), total=total, limit=limit, offset=offset
    )


async def create_customer(caller: Caller, *, data: CustomerIn) -> CustomerOut:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    try:
        async with jobs.transaction() as tx:
            customer = await insert_pushed(Customer, caller.workspace_id, given_fields(data))
            await queue_push(tx, caller.workspace_id, RecordType.customer, customer.id, caller.trigger)
    except Exception as exc:
        if is_unique_violation(exc):
            raise _ref_taken(data.external_ref) from None
        raise
    return await customer_out(caller.workspace_id, customer)


async def get_customer(caller: Caller, *, customer_id: int) -> CustomerOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    customer = await in_workspace(Customer, customer_id, caller.workspace_id, "customer")
    return await customer_out(caller.workspace_id, customer)


async def update_customer(caller: Caller, *, customer_id: int, data: CustomerPatch) -> CustomerOut:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    customer = await in_workspace(Customer, customer_id, caller.workspace_id, "customer")
    await _update(caller, customer, given_fields(data))
    fresh = await in_workspace(Customer, customer_id, caller.workspace_id, "customer")
    return await customer_out(caller.workspace_id, fresh)


async def upsert_customer(caller: Caller, *, data: CustomerIn, ref: str) -> tuple[CustomerOut, bool]:
    """The record after the push, and whether it was created (201) rather than found (200)."""
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    values = given_fields(data)
    values["external_ref"] = ref
    for attempt in range(2):
        existing = (
            await Customer.objects()
            .where((Customer.workspace == caller.workspace_id) & (Customer.external_ref == ref))
            .first()
        )
        if existing is not None:
            await _update(caller, existing, values)
            fresh = await in_workspace(Customer, existing.id, caller.workspace_id, "customer")
            return await customer_out(caller.workspace_id, fresh), False
        try:
            async with jobs.transaction() as tx:
                customer = await insert_pushed(Customer, caller.workspace_id, values)
                await queue_push(tx, caller.workspace_id, RecordType.customer, customer.id, caller.trigger)
        except Exception as exc:
            # A concurrent push of the same ref won the insert: update that one instead.
            if attempt == 0 and is_unique_violation(exc):
                continue
            raise
        return await customer_out(caller.workspace_id, customer), True
    raise AssertionError("unreachable")


async def delete_customer(caller: Caller, *, customer_id: int) -> None:
    require(caller, Permission.records_write)
    assert caller.workspace_id is not None
    customer = await in_workspace(Customer, customer_id, caller.workspace_id, "customer")
    async with write_transaction():
        in_use = await Invoice.exists().where(Invoice.customer == customer.id) or await TimeEntry.exists().where(
            TimeEntry.customer == customer.id
        )
        linked = await ExternalLink.exists().where(
            (ExternalLink.record_type == RecordType.customer)
            & (ExternalLink.record_id == customer.id)
            & ExternalLink.remote_id.is_not_null()
        )
        if in_use or linked:
            raise Conflict(
                f"Customer {customer.name!r} has invoices, time entries or a copy in a provider.",
                fix="Archive it instead: PATCH it with active set to false.",
            )
        await audit.record(caller, "customer.delete", target_type="customer", target_id=customer.id,
                           before={"name": customer.name, "company": customer.company, "email": customer.email})
        await ExternalLink.delete().where(
            (ExternalLink.record_type == RecordType.customer) & (ExternalLink.record_id == customer.id)
        )
        await Customer.delete().where(Customer.id == customer.id)


async def resync_customer(caller: Caller, *, customer_id: int) -> SyncRun:
    """Send this customer to the books connection again (the other connections are read-only).

    It writes to the books, so it needs the export permission and is audited, in the transaction
    that records the run. A resync already waiting is reused rather than queued twice.
    """
    require(caller, Permission.exports_run)
    ws = caller.workspace_id
    assert ws is not None
    await in_workspace(Customer, customer_id, ws, "customer")
    target = await books.connected_books(ws)
    async with jobs.transaction() as tx:
        run = await tx.record(RunKind.export_customer, workspace_id=ws, connection_id=target.id,
                              params={"customer_id": customer_id}, trigger=caller.trigger, progress_total=1,
                              dedupe_key=f"export_customer:{target.id}:{customer_id}")
        await audit.record(caller, "customer.resync", target_type="customer", target_id=customer_id,
                           after={"connection_id": target.id, "run_id": run.id})
    return run


async def import_chosen_customers(
    caller: Caller, *, connection_id: int, remote_ids: list[str], kinds: dict[str, str]
) -> SyncRun:
    """Import only the provider customers a person ticked on the review page, each as the kind chosen.

    An import links and creates records here from the books, so it needs the export permission (as
    `POST /connections/{id}/sync` does) and is audited with the run it records.
    """
    require(caller, Permission.exports_run)
    ws = caller.workspace_id
    assert ws is not None
    connection = await in_workspace(Connection, connection_id, ws, "connection")
    if connection.status != ConnectionStatus.connected:
        raise Conflict(f"The {connection.provider} connection is {connection.status.replace('_', ' ')}, so its "
                       "customers cannot be read.", fix="Reconnect it under Integrations, then review again.")
    chosen = list(dict.fromkeys(rid for rid in remote_ids if rid.strip()))
    if not chosen:
        raise Invalid("remote_ids", "must name at least one customer", fix="Tick the customers to import.")
    params = {"remote_ids": chosen, "kinds": {rid: kinds[rid] for rid in chosen if rid in kinds}}
    async with jobs.transaction() as tx:
        run = await tx.record(RunKind.import_customers, workspace_id=ws, connection_id=connection_id, params=params,
                              trigger=caller.trigger, progress_total=1)  # the importer counts steps: customers is one
        await audit.record(caller, "connection.import_customers", target_type="connection", target_id=connection_id,
                           after={"customers": len(chosen), "run_id": run.id})
    return run
