"""Customers and items in step: what changes here is pushed to the books without anyone asking.

With the connection setting "Sync customers automatically" on, creating or changing a customer
or an item records a `push_records` run in the same transaction as the change (so a rollback
leaves no push, and a crash after commit loses none). The run sends the record through the same
path an invoice export uses for its dependencies, so a record is created once and updated in place
afterwards. Where pushes go is decided by `books_target.connections_to_push` alone.

No dedupe key on purpose: a push that is already running may have read the record before a later
change; a second run costs nothing when nothing changed (the link is in step, nothing is sent).
"""

from __future__ import annotations

from ledgerbridge import connections
from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.jobs import JobTransaction, RunContext
from ledgerbridge.plugins import get_registry
from ledgerbridge.sync.books_target import connections_to_push
from ledgerbridge.sync.dependencies import customer_data, item_data
from ledgerbridge.sync.outbound import Exported, ensure_exported
from ledgerbridge.sync.refusals import refusals_become_issues
from ledgerbridge.sync.run_records import note
from ledgerbridge.tables import Customer, Item, RecordType, RunKind

HOOKS: dict[str, str] = {RecordType.customer: "export_customer", RecordType.item: "export_item"}


async def queue_push(tx: JobTransaction, workspace_id: int, record_type: str, record_id: int,
                     trigger: str) -> list[int]:
    """Record a push of the record to each connection that wants it; call inside the change's transaction."""
    registry = get_registry()
    runs = []
    for connection in await connections_to_push(workspace_id):
        if connection.provider not in registry.providers or not registry.implements(
                connection.provider, HOOKS[record_type]):
            continue
        run = await tx.record(RunKind.push_records, workspace_id=workspace_id, connection_id=connection.id,
                              params={"record_type": record_type, "record_id": record_id},
                              trigger=f"auto:{trigger}", progress_total=1)
        runs.append(run.id)
    return runs


async def run_push_records(ctx: RunContext) -> None:
    connection = await connections.load(ctx.run.connection)
    record_type, record_id = ctx.params["record_type"], ctx.params["record_id"]
    table = Customer if record_type == RecordType.customer else Item
    row = await table.objects().where(table.id == record_id).first()
    if row is None or row.workspace != connection.workspace:
        await note(ctx, record_type, record_id, None, "skipped", "Deleted here before it was pushed.")
        return
    about = f"Pushing {record_type} “{row.name}” automatically"
    exported: Exported | None = None
    async with refusals_become_issues(ctx, connection, record_type, record_id, catch=LedgerBridgeError,
                                      about=about, seen=True):
        if isinstance(row, Customer):
            customer_id = row.id
            exported = await ensure_exported(
                ctx, connection, RecordType.customer, customer_id, hook="export_customer", argument="customer",
                build=lambda: customer_data(customer_id), resend_changed=False, warnings_on_link=True)
        else:
            item = row
            exported = await ensure_exported(
                ctx, connection, RecordType.item, item.id, hook="export_item", argument="item",
                build=lambda: item_data(connection, item), resend_changed=False)
    if exported is not None:
        if exported.result is None:
            outcome, message = "skipped", "Already in step with the books."
        else:
            outcome, message = ("created" if exported.result.created else "updated"), "Pushed automatically."
        await note(ctx, record_type, record_id, exported.remote_id, outcome, message)
    await ctx.save(progress_done=1, progress_total=1)
