"""Which connection keeps a workspace's books.

A workspace keeps its books in one provider connection at a time (`Connection.is_books`). Exports,
payments and customer pushes go there only; every other connection of the workspace is read-only,
so one invoice can never become two copies in two providers, paid in one and open in the other.
The rule is also a partial unique index (migration 0007), so two consents finishing at once
cannot both claim the books.
"""

from __future__ import annotations

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.tables import Connection, ConnectionStatus


class NotTheBooks(LedgerBridgeError):
    code = "not_the_books"


class NoBooks(LedgerBridgeError):
    code = "not_connected"


async def books_connection(workspace_id: int) -> Connection | None:
    """The workspace's books connection, whatever its status, or None before the first connect."""
    return await Connection.objects().where(
        (Connection.workspace == workspace_id) & Connection.is_books.eq(True)
    ).first()


async def connected_books(workspace_id: int) -> Connection:
    """The books connection when it can take writes now; otherwise a refusal that says why."""
    books = await books_connection(workspace_id)
    if books is None:
        raise NoBooks(
            "No integration keeps this workspace's books yet, so there is nowhere to export to.",
            fix="Connect QuickBooks Online, Xero or FreshBooks from Integrations first.",
        )
    if books.status != ConnectionStatus.connected:
        raise NoBooks(
            f"The books connection ({books.provider} {books.tenant_name or books.id}) is "
            f"{books.status.replace('_', ' ')}.",
            fix="Reconnect it from Integrations; work recorded meanwhile is exported after the reconnect.",
        )
    return books


def require_books(connection: Connection) -> None:
    """Refuse a write to a connection that does not keep the books."""
    if not connection.is_books:
        raise NotTheBooks(
            f"The {connection.provider} connection {connection.tenant_name or connection.id} is read-only: "
            "this workspace keeps its books in another connection.",
        )


async def claim_if_free(connection: Connection) -> bool:
    """A new connection becomes the books only when the workspace has none yet; call inside the
    connect's transaction. Otherwise it waits, read-only, for the owner to switch or cancel."""
    if connection.is_books:
        return True
    if await Connection.exists().where(
        (Connection.workspace == connection.workspace) & Connection.is_books.eq(True)
        & (Connection.id != connection.id)
    ):
        return False
    await Connection.update({Connection.is_books: True}).where(Connection.id == connection.id)
    connection.is_books = True
    return True
