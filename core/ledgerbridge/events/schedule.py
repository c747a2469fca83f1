"""When a failed delivery is tried again: the published schedule.

After the first attempt (at once), retries wait 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h and
24 h: ten attempts over about 3 days and 3.5 hours. When the last one fails the endpoint is disabled
and its owners are told; its undelivered events wait for it to be enabled again.
`LEDGERBRIDGE_WEBHOOK_RETRY_SCHEDULE` replaces the waits (tests use short ones).
"""

from __future__ import annotations

from ledgerbridge.settings import get_settings

DEFAULT_RETRY_WAITS: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400)


def retry_waits() -> tuple[float, ...]:
    return get_settings().webhook_retry_schedule or DEFAULT_RETRY_WAITS


def next_wait(attempts_made: int) -> float | None:
    """Seconds before the next attempt after `attempts_made` failed ones; None: give up."""
    waits = retry_waits()
    if attempts_made < 1 or attempts_made > len(waits):
        return None
    return float(waits[attempts_made - 1])
