"""One provider session for the batch requests of an export run, shared by its lanes.

Why: `connections.call` opens a session per request: the connection's row, its access token, its
options (each a database connection of its own on SQLite) and a new TCP connection. A Xero export of
6,000 invoices paid that 120 times, and in its first minute that work is what spreads the 60 requests
whose spread carries into the export's end time (the second minute's wait for the first's to leave).
`connections.ReadSession` keeps one session open across calls, refreshing the token once on a 401 as
`call` does; the lanes share it, each request still taking its own rate-limiter slot. Its first call
goes alone, so the lanes do not each open a session of their own.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from ledgerbridge.connections import ReadSession


class BatchSession:
    """`connections.ReadSession` for concurrent callers: use as `async with BatchSession(id) as s`."""

    def __init__(self, connection_id: int) -> None:
        self._read = ReadSession(connection_id)
        self._first = asyncio.Lock()
        self._opened = False

    async def __aenter__(self) -> BatchSession:
        await self._read.__aenter__()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self._read.__aexit__(kind, error, trace)

    async def call(self, hook: str, **kwargs: Any) -> Any:
        """The hook's answer through the shared session (opened by the first call, alone)."""
        if not self._opened:
            async with self._first:
                if not self._opened:
                    try:
                        return await self._read.call(hook, **kwargs)
                    finally:
                        self._opened = True
        return await self._read.call(hook, **kwargs)
