"""Sign-in throttling: 5 failed attempts for one email within 15 minutes pause sign-in."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from ledgerbridge.db import write_transaction
from ledgerbridge.identity import clock
from ledgerbridge.tables import RateWindow

MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = timedelta(minutes=15)


def _throttle_key(email: str) -> str:
    # Hashed: the limiter table is shared and should not collect email addresses.
    return "login:" + hashlib.sha256(email.encode()).hexdigest()[:48]


async def throttled_for(email: str) -> float:
    """Seconds until `email` may try again; 0 when it may now.

    Failures are rows in the shared `RateWindow` table (one per second with a failure), so every
    server process sees the same count. Sign-in pauses while 5 failures lie within 15 minutes,
    until the oldest of those 5 leaves the window.
    """
    at = int(clock.now().timestamp())
    window = int(FAILED_LOGIN_WINDOW.total_seconds())
    rows = (
        await RateWindow.select(RateWindow.window_start, RateWindow.calls.as_alias("calls"))
        .where((RateWindow.key == _throttle_key(email)) & (RateWindow.window_start > at - window))
        .order_by(RateWindow.window_start, ascending=False)
    )
    seen = 0
    for row in rows:
        seen += row["calls"]
        if seen >= MAX_FAILED_LOGINS:
            return max(0.0, float(row["window_start"] + window - at))
    return 0.0


async def record_failure(email: str) -> None:
    key = _throttle_key(email)
    at = int(clock.now().timestamp())
    async with write_transaction():
        bumped = (
            await RateWindow.update({RateWindow.calls: RateWindow.calls + 1})
            .where((RateWindow.key == key) & (RateWindow.window_start == at))
            .returning(RateWindow.id)
        )
        if not bumped:
            await RateWindow(key=key, window_start=at, calls=1).save()
        await RateWindow.delete().where(
            (RateWindow.key == key) & (RateWindow.window_start <= at - int(FAILED_LOGIN_WINDOW.total_seconds()))
        )


async def clear_failures(email: str) -> None:
    async with write_transaction():
        await RateWindow.delete().where(RateWindow.key == _throttle_key(email))
