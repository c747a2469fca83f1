"""Where automatic work goes: the workspace's books connection, and nothing else.

Automatic customer and item pushes, time sync and tax mapping defaults ask here, so the rule "one
books connection per workspace" (`ledgerbridge.books`) holds for them as it does for exports.
"""

from __future__ import annotations

from ledgerbridge.books import books_connection
from ledgerbridge.tables import Connection, ConnectionStatus


async def books_connections(workspace_id: int) -> list[Connection]:
    """The workspace's books connection while it is connected (a list, so callers loop the same way
    whether or not the workspace has one)."""
    books = await books_connection(workspace_id)
    return [books] if books is not None and books.status == ConnectionStatus.connected else []


async def connections_to_push(workspace_id: int) -> list[Connection]:
    """The books connection when its "Sync customers automatically" setting is on."""
    return [c for c in await books_connections(workspace_id) if c.auto_sync_customers]
