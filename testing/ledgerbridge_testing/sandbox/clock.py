"""A clock whose speed tests can change.

Provider behaviour is full of time: tokens live an hour, rate limits count per minute, CDC looks back
30 days, webhooks retry after 10 s, 20 s, 5 min. A test cannot wait for any of that, and it must never
depend on how fast the machine is. So every sandbox reads time from a :class:`SandboxClock`:

* ``scale`` makes simulated time run faster than real time (``scale=60`` turns a minute into a
  second); ``scale=0`` freezes it, so only :meth:`SandboxClock.advance` moves it and tests become fully
  deterministic.
* :meth:`SandboxClock.advance` jumps forward (never backward: providers never see time go back).

All readings derive from one monotonic real clock, so wall-clock adjustments on the host cannot make
tokens expire early or rate windows misbehave.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class ClockError(ValueError):
    """Raised for an invalid clock setting (negative scale, going back in time)."""


class SandboxClock:
    """Simulated time = start + scale x real elapsed time + manual advances.

    ``monotonic()`` gives simulated seconds for measuring intervals; ``now()`` gives a timezone-aware
    UTC datetime for timestamps. Both are consistent with each other.
    """

    def __init__(
        self,
        scale: float = 1.0,
        start: datetime | None = None,
        real_monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if scale < 0:
            raise ClockError("time scale must be >= 0")
        self._real = real_monotonic
        self._lock = threading.Lock()
        self._scale = float(scale)
        self._start_wall = (start or datetime.now(UTC)).astimezone(UTC)
        self._real_anchor = self._real()
        self._sim_anchor = 0.0  # simulated seconds elapsed at the real anchor

    @property
    def scale(self) -> float:
        """Current speed factor (0 means frozen)."""
        return self._scale

    def monotonic(self) -> float:
        """Simulated seconds since the clock was created; never decreases."""
        with self._lock:
            return self._sim_anchor + (self._real() - self._real_anchor) * self._scale

    def now(self) -> datetime:
        """Simulated current time as an aware UTC datetime."""
        return self._start_wall + timedelta(seconds=self.monotonic())

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward, e.g. to expire a token or pass a retry delay."""
        if seconds < 0:
            raise ClockError("the sandbox clock cannot go backwards")
        with self._lock:
            self._sim_anchor += seconds

    def set_scale(self, scale: float) -> None:
        """Change the speed from now on without a jump in simulated time."""
        if scale < 0:
            raise ClockError("time scale must be >= 0")
        with self._lock:
            real_now = self._real()
            self._sim_anchor += (real_now - self._real_anchor) * self._scale
            self._real_anchor = real_now
            self._scale = float(scale)

    def real_seconds(self, simulated_seconds: float) -> float:
        """How long to really wait for ``simulated_seconds`` to pass.

        A frozen clock cannot pass time by waiting, so delays are then taken literally (in real seconds):
        a "slow response" fault still delays the response.
        """
        if self._scale <= 0:
            return max(simulated_seconds, 0.0)
        return max(simulated_seconds, 0.0) / self._scale

    async def sleep(self, simulated_seconds: float) -> None:
        """Await for a simulated duration (see :meth:`real_seconds` for a frozen clock)."""
        await asyncio.sleep(self.real_seconds(simulated_seconds))

    def snapshot(self) -> dict[str, object]:
        """JSON-friendly state for the control API."""
        return {"now": self.now().isoformat(), "scale": self._scale, "monotonic": self.monotonic()}
