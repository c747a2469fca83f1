"""Reading a provider page by page: imports, status polls and the import review all do it.

A provider hook answers one `Page`; `next_cursor` asks for the next one and None ends the read.
`cursor` on a page is the provider's change cursor, kept on the connection so the next read
starts where this one ended and fetches only what changed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterator, Sequence
from typing import Any, TypeVar

from ledgerbridge import connections
from ledgerbridge.db import write_transaction
from ledgerbridge.jobs import loads
from ledgerbridge.provider import Page
from ledgerbridge.tables import Connection

T = TypeVar("T")

# Records applied per transaction: a commit per record (several, in fact) made imports and polls
# crawl on SQLite, whose every commit waits for the disk.
APPLY_CHUNK = 100


async def read_pages(connection_id: int, hook: str, *, cursor: str | None = None,
                     **kwargs: Any) -> AsyncGenerator[Page[Any], None]:
    """Every page of a read, starting at `cursor` (None: from the start or from the change cursor
    the caller chose). The caller checkpoints `page.next_cursor` to resume after a crash."""
    while True:
        page: Page[Any] = await connections.call(connection_id, hook, cursor=cursor, **kwargs)
        yield page
        cursor = page.next_cursor
        if cursor is None:
            return


def chunks(records: Sequence[T], size: int = APPLY_CHUNK) -> Iterator[Sequence[T]]:
    """A page's records in slices of at most `size`, each to apply in one transaction."""
    for start in range(0, len(records), size):
        yield records[start:start + size]


async def save_change_cursor(connection: Connection, name: str, cursor: str) -> None:
    """Remember where a complete read ended, so the next one reads only what changed since."""
    cursors = loads(connection.cursors)
    cursors[name] = cursor
    async with write_transaction():
        await Connection.update({Connection.cursors: json.dumps(cursors), **connections.touch(connection)}).where(
            Connection.id == connection.id
        )
    connection.cursors = json.dumps(cursors)
