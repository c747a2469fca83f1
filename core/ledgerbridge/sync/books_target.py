"""Where the books are kept: the one place that decides which connections automatic work goes to.

Until the workspace has a single books connection (issue 11, part A), every connected connection
of the workspace counts; the merge points `books_connections` at that one connection and every
caller (automatic customer and item pushes, time sync, tax mapping defaults) follows.
"""

from __future__ import annotations

from ledgerbridge.tables import Connection, ConnectionStatus


async def books_connections(workspace_id: int) -> list[Connection]:
    """The workspace's connections that keep its books, oldest first."""
    return list(await Connection.objects().where(
        (Connection.workspace == workspace_id) & (Connection.status == ConnectionStatus.connected)
    ).order_by(Connection.id))


async def connections_to_push(workspace_id: int) -> list[Connection]:
    """The books connections whose "Sync customers automatically" setting is on."""
    return [c for c in await books_connections(workspace_id) if c.auto_sync_customers]
