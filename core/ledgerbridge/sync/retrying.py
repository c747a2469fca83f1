"""Transient provider trouble is retried where it happened, not by restarting the run.

A 5xx, a timeout, a reset connection or a 429 concerns one request. Restarting the whole run for it
(as a run attempt) re-walks every record, spends the run's attempts and, at a provider's bad
minute, ends runs that only had to wait. So each request or batch that meets such an error sleeps
with exponential backoff and jitter (a 429 for its ``Retry-After``) and tries again inside the run,
while the worker keeps renewing the run's lease. Only when a request keeps failing, or the provider
asks for a longer pause than is worth holding a worker for, does the error escape: the job runner
then puts the run back in the queue as *waiting* (its attempt given back), never as failed.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from ledgerbridge.errors import ProviderError, RateLimited
from ledgerbridge.jobs import RunContext

#: Tries of one request before the run rather waits in the queue.
TRIES = 7
#: First backoff step in seconds; it doubles per try, up to CEILING.
FIRST_STEP = 0.5
CEILING = 15.0
#: A 429 asking for a longer pause than this frees the worker (the run waits in the queue).
LONGEST_IN_RUN = 30.0


def is_transient(error: BaseException) -> bool:
    """Whether a retry may cure it: the provider's trouble, not something a person must fix."""
    return isinstance(error, ProviderError) and error.retryable


@dataclass
class Retries:
    """One request's transient failures so far; `pause` sleeps before its next try."""

    ctx: RunContext
    tries: int = 0

    async def pause(self, error: ProviderError) -> None:
        """Sleep before trying again, or raise `error` when the run should wait in the queue instead."""
        self.tries += 1
        if self.tries >= TRIES:
            raise error
        if isinstance(error, RateLimited):
            if error.retry_after > LONGEST_IN_RUN:
                raise error
            delay = error.retry_after + random.uniform(0, min(1.0, error.retry_after / 2))
        else:
            step = min(CEILING, FIRST_STEP * 2 ** (self.tries - 1))
            delay = random.uniform(step / 2, step)  # jitter: runs hit by one outage do not return together
        await asyncio.sleep(delay)
        await self.ctx.ensure_lease()  # the run may have been cancelled or taken over meanwhile
