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
from collections import deque
from collections.abc import AsyncGenerator, Coroutine, Iterator, Sequence
from contextlib import aclosing, suppress
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
#: Records an import applies in one transaction when its provider's pages are smaller (FreshBooks
#: gives 100 a page): a commit and a page's fixed queries cost as much as applying its 100 records.
#: The largest page a provider gives (QuickBooks, Xero: 1,000), so memory stays what those take.
GATHER_RECORDS = 1000
GRANT_POLL_SECONDS = 0.002
GRANT_WAIT_SECONDS = 0.5
#: Requests an import keeps in flight when its pages say where the one after next starts
#: (`Page.after_next`): the next page being answered, the one after it waiting at the provider.
#: Two, not more: the provider serves one company's reads one after the other, so a third would only
#: wait there, and at the end of a read whose size is not known (QuickBooks) each one more in
#: flight is one more request past the last page.
IN_FLIGHT = 2


async def read_pages(connection_id: int, hook: str, *, cursor: str | None = None, ahead: bool = False,
                     gather: int = 0, **kwargs: Any) -> AsyncGenerator[Page[Any], None]:
    """Every page of a read, starting at `cursor` (None: from the start or from the change cursor
    the caller chose), through one provider session. The caller checkpoints `page.next_cursor` to
    resume after a crash.

    `ahead`: the pages are read by a task of their own, which asks for the next page as soon as a
    page is in (its limiter slot taken meanwhile, `ReadSession(grant_ahead=True)`) while the caller
    applies an earlier one, keeping about `gather` records (at least a page) waiting. So the provider
    is asked for the next page whether the caller is still applying or not, and its answer time and
    our processing overlap instead of adding up (an import). `gather` (with `ahead`): consecutive
    pages are handed over as one of at least that many records (the last page's cursors), so the
    caller applies and commits them together. A caller that may stop early (the import review) or
    must send no request it does not need (status polls) leaves `ahead` off. The time spent waiting
    for a page that has not arrived is recorded (`provider_waits`).

    With `ahead`, a page that knows the cursor of the page after the next one (`Page.after_next`)
    has both asked for at once, where the provider's published concurrency leaves room for them and
    the slot taken ahead (`IN_FLIGHT`): the provider then answers the next page while the plugin
    still decodes and maps this one, instead of after."""
    async with connections.ReadSession(connection_id, grant_ahead=ahead) as session:
        if ahead:
            async with aclosing(_read_ahead(session, hook, cursor, kwargs, gather)) as pages:
                async for early in pages:
                    yield early
            return
        while True:
            asked = time.perf_counter()
            page: Page[Any] = await _in_task(session.call(hook, cursor=cursor, **kwargs))
            provider_waits.record_blocked(session.limiter_key, time.perf_counter() - asked)
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class _Ready:
    """Pages read and not handed over yet: about `limit` records at most (a page is let in while
    fewer are waiting), so a reader ahead of its caller holds little memory."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.asked = 0  # provider calls the reader has made and still means to use (see `_settle`)
        self._items: deque[Page[Any] | BaseException] = deque()
        self._records = 0
        self._changed = asyncio.Condition()

    async def put(self, item: Page[Any] | BaseException) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._records < self.limit)
            self._items.append(item)
            self._records += len(item.records) if isinstance(item, Page) else 0
            self._changed.notify_all()

    async def get(self) -> Page[Any] | BaseException:
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items))
            item = self._items.popleft()
            self._records -= len(item.records) if isinstance(item, Page) else 0
            self._changed.notify_all()
            return item


async def _read_ahead(session: connections.ReadSession, hook: str, cursor: str | None,
                      kwargs: dict[str, Any], gather: int) -> AsyncGenerator[Page[Any], None]:
    """The pages as `_produce` reads them, gathered to `gather` records; each is handed over once the
    next page's request has left and the limiter's ledger is written (see `_settle`). A failure is
    raised after the pages read before it are handed over."""
    ready = _Ready(gather)
    limits = connections.provider_limits(session.provider)
    # The calls in flight and the slot taken ahead for the next one must fit the provider's concurrency.
    in_flight = IN_FLIGHT if limits.concurrent is None or limits.concurrent > IN_FLIGHT else 1
    reader = _in_task(_produce(session, hook, cursor, kwargs, ready, in_flight))
    received = 0
    failure: BaseException | None = None
    locked = current_engine().engine_type == "sqlite"  # one write lock, which the caller's page holds
    try:
        while failure is None:
            asked = time.perf_counter()
            pages: list[Page[Any]] = []
            while not pages or (pages[-1].next_cursor is not None and sum(len(p.records) for p in pages) < gather):
                item = await ready.get()
                if isinstance(item, BaseException):
                    failure = item
                    break
                pages.append(item)
            if not pages:
                break
            received += len(pages)
            await _settle(session, max(ready.asked, received + (pages[-1].next_cursor is not None)), reader)
            provider_waits.record_blocked(session.limiter_key, time.perf_counter() - asked)
            if locked:
                session.ledger_open.clear()  # the caller applies the page in a write transaction
            yield pages[0] if len(pages) == 1 else Page([r for p in pages for r in p.records], pages[-1].next_cursor,
                                                        pages[-1].cursor)
            session.ledger_open.set()
            if pages[-1].next_cursor is None:
                return
        if failure is not None:
            raise failure
    finally:
        session.ledger_open.set()
        reader.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await reader


async def _produce(session: connections.ReadSession, hook: str, cursor: str | None, kwargs: dict[str, Any],
                   ready: _Ready, in_flight: int = 1) -> None:
    """Read page after page into `ready`, asking for the next as soon as one is in, and for the one
    after it too when the page says where it starts (`Page.after_next`, up to `in_flight` calls at
    once); a failure is handed over in its place, after the pages before it.

    A page asked for early is used only if the page before it gives the cursor it was asked with:
    otherwise (a guess the provider's answer proved wrong, or the read ended) its answer is dropped
    and counted (`provider_waits.record_discarded`), and a failure of a dropped call is no failure."""
    calls: deque[tuple[str | None, asyncio.Task[Any], list[str]]] = deque()

    def ask(at: str | None) -> None:
        sent: list[str] = []
        calls.append((at, _in_task(session.call(hook, cursor=at, **kwargs), sent=sent), sent))
        ready.asked += 1

    async def drop() -> None:
        while calls:
            _, task, sent = calls.pop()
            ready.asked -= 1
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
            provider_waits.record_discarded(session.limiter_key, sent)

    try:
        ask(cursor)
        while True:
            page: Page[Any] = await calls.popleft()[1]
            if page.next_cursor is None:
                await drop()  # asked past the end: at most once, by the page before this one
            else:
                if calls and calls[0][0] != page.next_cursor:
                    await drop()
                if not calls:
                    ask(page.next_cursor)
                if page.after_next is not None and len(calls) < in_flight:
                    ask(page.after_next)
            await ready.put(page)
            if page.next_cursor is None:
                return
    except Exception as failed:
        await ready.put(failed)
    finally:
        await drop()


async def _settle(session: connections.ReadSession, requests: int, reader: asyncio.Future[None]) -> None:
    """Wait until `requests` have left and no slot of the read waits for the limiter's ledger, at
    most GRANT_WAIT_SECONDS: the caller then opens its page's write transaction, which on SQLite the
    ledger's writes would otherwise wait for (and a slot waiting for the next rate window must not
    hold up our own work)."""
    asked = time.perf_counter()
    # Polled, not an asyncio.Event: the ledger's writes run in tasks of the read's transport.
    while (not reader.done() and not (session.sent >= requests and session.settled())  # noqa: ASYNC110
           and time.perf_counter() - asked < GRANT_WAIT_SECONDS):
        await asyncio.sleep(GRANT_POLL_SECONDS)


def _in_task(work: Coroutine[Any, Any, T], sent: list[str] | None = None) -> asyncio.Task[T]:
    """`work` as a task of its own, outside any transaction the caller holds open while it runs (it
    must not share the caller's database connection). `sent`: the requests it sends are listed there
    (`connections.SENT`)."""
    context = contextvars.copy_context()
    context.run(current_engine().current_transaction.set, None)
    if sent is not None:
        context.run(connections.SENT.set, sent)
    return asyncio.get_running_loop().create_task(work, context=context)


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
