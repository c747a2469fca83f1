"""The clock that sessions, API keys and sign-in throttling read.

One replaceable function, so tests move time forward instead of waiting.
"""

from __future__ import annotations

from datetime import datetime

from ledgerbridge.tables import utcnow


def now() -> datetime:
    """The clock for sessions and throttling; tests replace it instead of waiting."""
    return utcnow()
