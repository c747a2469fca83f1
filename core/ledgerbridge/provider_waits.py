"""Time a process spent waiting on providers: for the rate limiter's permission, and for answers.

Why: an import's wall time mixes our own processing with the provider's paging and its limits.
Timed where every provider request passes (the session's limited transport), these totals let a
benchmark report our processing alone (wall time minus these waits) and compare the rest with
what the provider's limits allow. Per process and cumulative; read a difference around a phase.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Waits:
    """Seconds spent waiting for the limiter and for provider answers, and the requests sent."""

    limiter_seconds: float = 0.0
    answer_seconds: float = 0.0
    requests: int = 0

    def minus(self, earlier: Waits) -> Waits:
        return Waits(self.limiter_seconds - earlier.limiter_seconds, self.answer_seconds - earlier.answer_seconds,
                     self.requests - earlier.requests)


_totals: dict[str, Waits] = {}


def record(key: str, limiter_seconds: float, answer_seconds: float) -> None:
    """One provider request: how long its slot took to be granted, and its answer to arrive."""
    waits = _totals.setdefault(key, Waits())
    waits.limiter_seconds += limiter_seconds
    waits.answer_seconds += answer_seconds
    waits.requests += 1


def totals(key: str | None = None) -> Waits:
    """The totals so far, for one limiter key (a provider company) or for every key."""
    if key is not None:
        found = _totals.get(key, Waits())
        return Waits(found.limiter_seconds, found.answer_seconds, found.requests)
    every = Waits()
    for waits in _totals.values():
        every.limiter_seconds += waits.limiter_seconds
        every.answer_seconds += waits.answer_seconds
        every.requests += waits.requests
    return every
