"""Reading a provider page by page: imports, status polls and the import review all do it.

A provider hook answers one `Page`; `next_cursor` asks for the next one and None ends the read.
`cursor` on a page is the provider's change cursor, kept on the connection so the next read
starts where this one ended and fetches only what changed.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from ledgerbridge import connections, provider_waits
from ledgerbridge.db import current_engine, write_transaction
from ledgerbridge.jobs import loads
from ledgerbridge.provider import Page
from ledgerbridge.tables import Connection

T = TypeVar("T")

# Records applied per transaction: a commit per record (several, in fact) made imports and polls
# crawl on SQLite, whose every commit waits for the disk.
APPLY_CHUNK = 100
GRANT_POLL_SECONDS = 0.002
GRANT_WAIT_SECONDS = 0.5


async def read_pages(connection_id: int, hook: str, *, cursor: str | None = None, ahead: bool = False,
                     **kwargs: Any) -> AsyncGenerator[Page[Any], None]:
    """Every page of a read, starting at `cursor` (None: from the start or from the change cursor
    the caller chose), through one provider session. The caller checkpoints `page.next_cursor` to
    resume after a crash.

    `ahead`: ask for the next page while the caller applies this one, so the provider's answer
    time and our processing overlap instead of adding up (an import). A caller that may stop early
    (the import review) or must send no request it does not need (status polls) leaves it off. The
    time spent waiting for a page that has not arrived is recorded (`provider_waits`)."""
    async with connections.ReadSession(connection_id) as session:
        fetch: asyncio.Future[Page[Any]] | None = _fetch(session, hook, cursor, kwargs)
        try:
            while fetch is not None:
                asked = time.perf_counter()
                page: Page[Any] = await fetch
                provider_waits.record_blocked(session.limiter_key, time.perf_counter() - asked)
                fetch = None
                if page.next_cursor is not None and ahead:
                    fetch = await _fetch_ahead(session, hook, page.next_cursor, kwargs)
                yield page
                if page.next_cursor is None:
                    return
                if fetch is None:
                    fetch = _fetch(session, hook, page.next_cursor, kwargs)
        finally:
            if fetch is not None and not fetch.done():
                fetch.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await fetch


async def _fetch_ahead(session: connections.ReadSession, hook: str, cursor: str | None,
                       kwargs: dict[str, Any]) -> asyncio.Future[Page[Any]]:
    """`_fetch`, returning once the limiter has let the request through (or it ended): the caller
    then opens its write transaction, which the database limiter would otherwise wait for."""
    granted = provider_waits.totals(session.limiter_key).granted
    fetch = _fetch(session, hook, cursor, kwargs)
    asked = time.perf_counter()
    # Polled, not an asyncio.Event: the grant may be counted by another worker thread's loop. At most
    # GRANT_WAIT_SECONDS: a limiter waiting for the next rate window must not hold up our own work.
    while (not fetch.done() and provider_waits.totals(session.limiter_key).granted == granted  # noqa: ASYNC110
           and time.perf_counter() - asked < GRANT_WAIT_SECONDS):
        await asyncio.sleep(GRANT_POLL_SECONDS)
    provider_waits.record_blocked(session.limiter_key, time.perf_counter() - asked)
    return fetch


def _fetch(session: connections.ReadSession, hook: str, cursor: str | None,
           kwargs: dict[str, Any]) -> asyncio.Future[Page[Any]]:
    """The page's request as a task of its own, outside any transaction the caller holds open
    while it runs (it must not share the caller's database connection)."""
    context = contextvars.copy_context()
    context.run(current_engine().current_transaction.set, None)
    return asyncio.get_running_loop().create_task(session.call(hook, cursor=cursor, **kwargs), context=context)


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
