"""Several batches of one run in flight at once, where the provider takes several requests at a time.

Why: a bulk export spends much of its time waiting, for the provider's answers and for its own
database, and QuickBooks takes 10 requests of a company at once, Xero 5. A run that prepares and
sends one batch at a time leaves that unused. `Lanes` runs each batch (its preparation and its
request) in a task of its own; the run's own task keeps what must happen in order: what follows an
answered batch (its payments and time entries, invoices left to send one by one, the checkpoint),
so a checkpoint never names an invoice whose batch is still out. A record two batches need (their
customer, an item) is sent by one lane at a time (`one_at_a_time`): the other finds its link and
sends nothing. The shared rate limiter, not this module, keeps the requests within the provider's
windows and concurrency, counting every other run of the company too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from ledgerbridge.jobs import RunContext

Finish = Callable[[Any], Awaitable[None]]
Item = TypeVar("Item")
Ready = TypeVar("Ready")


class Lanes:
    """At most `width` sends in flight; each one's `finish` runs in the caller's task once it is done.

    A lane is free as soon as its send is done. The finishes of done sends run while every lane is
    busy (its request in flight, or waiting for the provider's window or concurrency), and at
    `drain`: the next request never waits for the bookkeeping of the last one's answer. They run in
    the order the sends were done, and no more than `width` wait at once (a send's answer not
    written yet is looked up by the next attempt if this one dies, so that stays bounded).
    """

    def __init__(self, width: int):
        self.width = max(1, width)
        self._flying: dict[asyncio.Task[Any], Finish] = {}
        self._done: list[tuple[Finish, Any]] = []

    async def submit(self, send: Coroutine[Any, Any, Any], finish: Finish) -> None:
        """Start `send` once a lane is free (finishing the sends that are done meanwhile)."""
        try:
            while len(self._flying) >= self.width or len(self._done) >= self.width:
                await self._make_room()
        except BaseException:
            send.close()  # never started: nothing of it was sent
            raise
        self._flying[asyncio.ensure_future(send)] = finish

    async def drain(self) -> None:
        """Finish every send still in flight."""
        while self._flying or self._done:
            await self._collect()
            if self._done:
                await self._finish_next()
            elif self._flying:
                await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)

    def cancel(self) -> None:
        """The run is ending on an error or a shutdown: stop what is still in flight (its writes stay
        recorded as possibly sent, which the next attempt looks up before sending again)."""
        for task in self._flying:
            task.cancel()
        self._flying.clear()
        self._done.clear()

    async def _make_room(self) -> None:
        """One step towards a free lane: collect the sends done; with every lane still busy, run the
        oldest waiting finish, or else wait for a send to be done."""
        await self._collect()
        if len(self._done) >= self.width:  # bounded: an attempt that dies leaves few answers unwritten
            await self._finish_next()
            return
        if len(self._flying) < self.width:
            return
        if self._done:
            await self._finish_next()
            return
        await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)

    async def _collect(self) -> None:
        """Free the lanes of the sends that are done, keeping their results for their finishes."""
        for task in [task for task in self._flying if task.done()]:
            finish = self._flying.pop(task)
            error = asyncio.CancelledError() if task.cancelled() else task.exception()
            if error is not None:
                await self._settle_the_rest()
                raise error
            self._done.append((finish, task.result()))

    async def _finish_next(self) -> None:
        finish, result = self._done.pop(0)
        await finish(result)

    async def _settle_the_rest(self) -> None:
        """One send failed for good: the others are let finish and recorded before the error ends the run,
        so what they exported is checkpointed and nothing is left half-sent by this run."""
        while self._done or self._flying:
            while self._done:
                finish, result = self._done.pop(0)
                try:
                    await finish(result)
                except Exception:  # the first error is the one the run reports
                    pass
            if not self._flying:
                break
            done, _ = await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                finish = self._flying.pop(task)
                if not task.cancelled() and task.exception() is None:
                    self._done.append((finish, task.result()))


_records: dict[tuple[int, int, str, int], asyncio.Lock] = {}


@asynccontextmanager
async def one_at_a_time(ctx: RunContext, record_type: str, record_id: int) -> AsyncIterator[None]:
    """Hold this run's turn on one record: its lanes send a record they share one after the other.

    Between runs, the claim on the record's write does this (`claims`); inside one run both lanes
    would hold the same claim, so this in-process lock is what keeps the second from sending again.
    """
    key = (ctx.run.id, ctx.run.claims, record_type, record_id)
    lock = _records.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            yield
    finally:
        if not lock.locked() and _records.get(key) is lock:
            del _records[key]


#: Seconds the consumer of `Ahead` may take nothing before it counts as held up (by the provider's
#: window, typically), after which the producer prepares past `near`, up to its depth.
STALL = 0.5


class Ahead(Generic[Item, Ready]):
    """Prepares items in order in a task of its own, at most `depth` ready and waiting, while the
    lanes send earlier ones: what a send needs is then ready when its turn comes, instead of being
    done after the provider's window has opened. Iterating gives (item, prepared) in order; an
    error preparing an item is raised there, in the consumer's task.

    `near`: while the consumer keeps taking items, the producer stays at most this many ahead of it,
    so preparing items far ahead does not take the processor from the sends going out now (on Xero,
    the first minute's 60 requests, whose spread carries into the export's end time). Once the
    consumer has taken nothing for `STALL` seconds (its sends wait for the provider's window), the
    producer goes on up to `depth`, ready for when the window opens.
    """

    def __init__(self, prepare: Callable[[Item], Awaitable[Ready]], items: list[Item], depth: int,
                 near: int | None = None):
        self._prepare, self._items = prepare, items
        self._ready: asyncio.Queue[tuple[Item, Ready] | BaseException] = asyncio.Queue(maxsize=max(1, depth))
        self._task: asyncio.Task[None] | None = None
        self._near = near
        self._taken = 0
        self._took = asyncio.Event()
        self._stalled = False  # the consumer took nothing for `STALL` seconds (until it takes again)

    async def _produce(self) -> None:
        try:
            for index, item in enumerate(self._items):
                await self._stay_near(index)
                await self._ready.put((item, await self._prepare(item)))
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # handed to the consumer, which raises it in the run's task
            await self._ready.put(error)

    async def _stay_near(self, index: int) -> None:
        """Wait while item `index` is more than `near` ahead of the consumer and the consumer is taking
        items; go on once it has taken nothing for `STALL` seconds, until it takes one again."""
        if self._near is None:
            return
        while index >= self._taken + self._near and not self._stalled:
            self._took.clear()
            try:
                await asyncio.wait_for(self._took.wait(), timeout=STALL)
            except TimeoutError:
                self._stalled = True

    async def __aiter__(self) -> AsyncIterator[tuple[Item, Ready]]:
        if not self._items:
            return
        self._task = asyncio.ensure_future(self._produce())
        for _ in self._items:
            got = await self._ready.get()
            if isinstance(got, BaseException):
                raise got
            self._taken += 1
            self._stalled = False
            self._took.set()
            yield got

    def cancel(self) -> None:
        """Stop preparing (the run is ending): nothing prepared is claimed or sent, so nothing is lost."""
        if self._task is not None:
            self._task.cancel()
