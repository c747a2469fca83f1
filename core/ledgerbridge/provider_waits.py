"""Time a process spent waiting on providers: for the rate limiter's permission, and for answers.

Why: an import's wall time mixes our own processing with the provider's paging and its limits.
Timed where every provider request passes (the session's limited transport), these totals let a
benchmark compare the import with what the provider's limits allow. An import asks for its next
page while it applies the current one, so those waits overlap our work: what it spent blocked,
waiting for a page that had not arrived yet (`blocked_seconds`, timed by the paged read), is what
wall time minus our own processing leaves. Per process and cumulative; read a difference around a
phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Waits:
    """Seconds spent waiting for the limiter and for provider answers, and the requests sent."""

    limiter_seconds: float = 0.0
    answer_seconds: float = 0.0
    requests: int = 0
    blocked_seconds: float = 0.0  # a paged read waiting for a page (limiter and answer, not overlapped)
    granted: int = 0  # requests let through by the limiter so far (some may still await their answer)
    #: Requests whose answers a paged read dropped (asked early, past the end or on a wrong guess):
    #: their paths and queries, so a benchmark can leave the provider's time on them out of the ideal.
    #: Only the latest DISCARDED_KEPT are kept (a server runs imports for months); `discarded_total`
    #: counts them all.
    discarded: list[str] = field(default_factory=list)
    discarded_total: int = 0

    def minus(self, earlier: Waits) -> Waits:
        return Waits(self.limiter_seconds - earlier.limiter_seconds, self.answer_seconds - earlier.answer_seconds,
                     self.requests - earlier.requests, self.blocked_seconds - earlier.blocked_seconds,
                     self.granted - earlier.granted, self.discarded[len(self.discarded) - min(
                         len(self.discarded), self.discarded_total - earlier.discarded_total):],
                     self.discarded_total - earlier.discarded_total)


#: Dropped requests' paths kept per limiter key: what a benchmark's phase needs, bounded in a server.
DISCARDED_KEPT = 1000

_totals: dict[str, Waits] = {}


def record(key: str, limiter_seconds: float, answer_seconds: float) -> None:
    """One provider request: how long its slot took to be granted, and its answer to arrive."""
    waits = _totals.setdefault(key, Waits())
    waits.limiter_seconds += limiter_seconds
    waits.answer_seconds += answer_seconds
    waits.requests += 1


def record_granted(key: str) -> None:
    """The limiter let a request through: a paged read that asked for its next page ahead waits for
    this before it opens the page's write transaction, since on SQLite the database limiter needs
    the write lock that transaction would hold until it commits."""
    _totals.setdefault(key, Waits()).granted += 1


def record_blocked(key: str, seconds: float) -> None:
    """A paged read waited `seconds` for its next page: the part of the provider's time our own
    processing did not cover."""
    _totals.setdefault(key, Waits()).blocked_seconds += seconds


def record_discarded(key: str, requests: list[str]) -> None:
    """A paged read dropped the answer to these requests (their paths and queries): asked for early,
    they turned out not to be needed."""
    waits = _totals.setdefault(key, Waits())
    waits.discarded.extend(requests)
    waits.discarded_total += len(requests)
    del waits.discarded[:-DISCARDED_KEPT]


def totals(key: str | None = None) -> Waits:
    """The totals so far, for one limiter key (a provider company) or for every key."""
    if key is not None:
        found = _totals.get(key, Waits())
        return Waits(found.limiter_seconds, found.answer_seconds, found.requests, found.blocked_seconds,
                     found.granted, list(found.discarded), found.discarded_total)
    every = Waits()
    for waits in _totals.values():
        every.limiter_seconds += waits.limiter_seconds
        every.answer_seconds += waits.answer_seconds
        every.requests += waits.requests
        every.blocked_seconds += waits.blocked_seconds
        every.granted += waits.granted
        every.discarded.extend(waits.discarded)
        every.discarded_total += waits.discarded_total
    return every
