"""Switching the books to another connection, or cancelling a connection that would have.

Connecting a second provider is allowed, but the new connection stays read-only until an owner
switches the books to it: a switch is a decision about where the business keeps its accounts,
not a side effect of giving consent. Switching keeps every link to the old connection (shown on
the records, for history) and re-sends nothing: a record goes to the new books only when someone
exports it there.
"""

from __future__ import annotations

from ledgerbridge import audit, connections, jobs
from ledgerbridge.api.errors import Conflict
from ledgerbridge.api.scoping import in_workspace
from ledgerbridge.domain.books.schemas import BooksOut
from ledgerbridge.domain.connections.services import connection_out
from ledgerbridge.identity.callers import Caller
from ledgerbridge.identity.permissions import Permission, require, require_owner
from ledgerbridge.tables import Connection, ConnectionStatus, RunKind, RunState, SyncRun, utcnow

WRITE_KINDS = (RunKind.export_invoice, RunKind.export_invoices, RunKind.export_customer, RunKind.export_payment,
               RunKind.void_payment)

SWITCH_EXPLAINED = (
    "Exports, payments and customer pushes will go to the new connection only. Links to the old one are "
    "kept and shown on each record; nothing already exported is sent again unless you export it."
)


async def get_books(caller: Caller) -> BooksOut:
    require(caller, Permission.read)
    assert caller.workspace_id is not None
    rows = await Connection.objects().where(Connection.workspace == caller.workspace_id).order_by(Connection.id)
    books = next((row for row in rows if row.is_books), None)
    return BooksOut(
        books=connection_out(books) if books is not None else None,
        read_only=[connection_out(row) for row in rows if not row.is_books],
    )


async def waiting_for_decision(workspace_id: int) -> list[Connection]:
    """Connected connections that are not the books: each waits for an owner to switch or cancel."""
    return list(
        await Connection.objects()
        .where(
            (Connection.workspace == workspace_id)
            & (Connection.status == ConnectionStatus.connected)
            & Connection.is_books.eq(False)
        )
        .order_by(Connection.id)
    )


async def switch_books(caller: Caller, *, connection_id: int) -> BooksOut:
    """Make `connection_id` the books; the old books becomes read-only and its queued writes stop."""
    require_owner(caller)
    ws = caller.workspace_id
    assert ws is not None
    target = await in_workspace(Connection, connection_id, ws, "connection")
    if target.is_books:
        return await get_books(caller)
    if target.status != ConnectionStatus.connected:
        raise Conflict(
            f"The {target.provider} connection {target.tenant_name or target.id} is "
            f"{target.status.replace('_', ' ')}, so it cannot keep the books.",
            fix="Reconnect it from Integrations first, then switch the books to it.",
        )
    async with jobs.transaction():
        old = await Connection.select(Connection.id).where(
            (Connection.workspace == ws) & Connection.is_books.eq(True)
        )
        old_ids = [row["id"] for row in old]
        # Clear first: the partial unique index allows one books per workspace at every moment.
        await Connection.update({Connection.is_books: False, Connection.updated_at: utcnow()}).where(
            (Connection.workspace == ws) & Connection.is_books.eq(True)
        )
        await Connection.update({Connection.is_books: True, Connection.updated_at: utcnow()}).where(
            Connection.id == target.id
        )
        if old_ids:
            await SyncRun.update(
                {
                    SyncRun.state: RunState.cancelled,
                    SyncRun.finished_at: utcnow(),
                    SyncRun.dedupe_key: None,
                    SyncRun.error: "The books moved to another connection; this connection is read-only now.",
                }
            ).where(
                SyncRun.connection.is_in(old_ids)
                & SyncRun.kind.is_in(list(WRITE_KINDS))
                & (SyncRun.state == RunState.queued)
            )
        await audit.record(caller, "books.switch", target_type="connection", target_id=target.id,
                           before={"books": old_ids}, after={"books": [target.id]})
    return await get_books(caller)


async def cancel_connection(caller: Caller, *, connection_id: int) -> BooksOut:
    """The owner does not want to move the books: the new connection is disconnected again."""
    require_owner(caller)
    ws = caller.workspace_id
    assert ws is not None
    target = await in_workspace(Connection, connection_id, ws, "connection")
    if target.is_books:
        raise Conflict(
            f"The {target.provider} connection {target.tenant_name or target.id} keeps this workspace's books.",
            fix="Switch the books to another connection first, or disconnect it from its Integrations page.",
        )
    await connections.disconnect(target.id, also=lambda: audit.record(
        caller, "books.cancel", target_type="connection", target_id=target.id,
        before={"status": target.status}, after={"status": "disconnected"}))
    return await get_books(caller)
