"""Several sends of one run in flight at once, where the provider takes several requests at a time.

Why: a bulk export spends much of its time waiting for the provider's answers, and QuickBooks takes
10 requests of a company at once, Xero 5. A run that sends one batch at a time leaves that unused.
`Lanes` runs only the sending in separate tasks; the run's own task keeps everything that must
happen once and in order: preparing each batch (checks, creating the customers and items it needs,
claiming each invoice's write) and what follows an answered batch (its payments and time entries,
the checkpoint). So a record two batches need is still created once, and a checkpoint never names
an invoice whose batch is still out. The shared rate limiter, not this module, keeps the requests
within the provider's windows and concurrency, counting every other run of the company too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

Finish = Callable[[Any], Awaitable[None]]


class Lanes:
    """At most `width` sends in flight; each one's `finish` runs in the caller's task when it is done."""

    def __init__(self, width: int):
        self.width = max(1, width)
        self._flying: dict[asyncio.Task[Any], Finish] = {}

    async def submit(self, send: Coroutine[Any, Any, Any], finish: Finish) -> None:
        """Start `send` once a lane is free (finishing the sends that are done meanwhile)."""
        try:
            while len(self._flying) >= self.width:
                await self._finish_some()
        except BaseException:
            send.close()  # never started: nothing of it was sent
            raise
        self._flying[asyncio.ensure_future(send)] = finish

    async def drain(self) -> None:
        """Finish every send still in flight."""
        while self._flying:
            await self._finish_some()

    def cancel(self) -> None:
        """The run is ending on an error or a shutdown: stop what is still in flight (its writes stay
        recorded as possibly sent, which the next attempt looks up before sending again)."""
        for task in self._flying:
            task.cancel()
        self._flying.clear()

    async def _finish_some(self) -> None:
        done, _ = await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            finish = self._flying.pop(task)
            error = asyncio.CancelledError() if task.cancelled() else task.exception()
            if error is not None:
                await self._settle_the_rest()
                raise error
            await finish(task.result())

    async def _settle_the_rest(self) -> None:
        """One send failed for good: the others are let finish and recorded before the error ends the run,
        so what they exported is checkpointed and nothing is left half-sent by this run."""
        while self._flying:
            done, _ = await asyncio.wait(self._flying, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                finish = self._flying.pop(task)
                if not task.cancelled() and task.exception() is None:
                    try:
                        await finish(task.result())
                    except Exception:  # the first error is the one the run reports
                        pass
