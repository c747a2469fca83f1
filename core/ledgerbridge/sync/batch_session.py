"""One provider session for the batch requests of an export run, shared by its lanes.

Why: `connections.call` opens a session per request: the connection's row, its access token, its
options (each a database connection of its own on SQLite) and a new TCP connection. A Xero export of
6,000 invoices paid that 120 times, and in its first minute that work is what spreads the 60 requests
whose spread carries into the export's end time (the second minute's wait for the first's to leave).
Here the session is opened once, when the run's lanes start, and each request still takes its own
rate-limiter slot (the session's `connections.LimitedTransport`). A 401 refreshes the token once and
retries that request, as `connections.call` does; lanes that meet it together refresh it once.
Before each request the connection's status is read (one narrow row, not the token): a person who
disconnects mid-run stops the next batch even when revoking the token at the provider failed.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from ledgerbridge import connections, metrics
from ledgerbridge.errors import AccessTokenExpired, AuthorizationError
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import ProviderSession
from ledgerbridge.tables import Connection, ConnectionStatus


class BatchSession:
    """Use as `async with BatchSession(connection_id) as session`, then `await session.call(hook, ...)`."""

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id
        self._session: ProviderSession | None = None
        self._renewing = asyncio.Lock()
        self._retired: list[ProviderSession] = []  # replaced after a 401, closed with the rest

    async def __aenter__(self) -> BatchSession:
        self._session = await connections.open_session(self.connection_id)
        metrics.remember_provider(self.connection_id, self._session.provider)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        for session in [*self._retired, *([self._session] if self._session is not None else [])]:
            await session.http.aclose()
        self._session, self._retired = None, []

    async def call(self, hook: str, **kwargs: Any) -> Any:
        """The hook's answer through the shared session, the token refreshed once on a 401."""
        assert self._session is not None, "use BatchSession as an async context manager"
        await self._still_connected()
        session = self._session
        try:
            return await get_registry().call(session.provider, hook, session=session, **kwargs)
        except AccessTokenExpired:
            session = await self._renewed(session)
        return await get_registry().call(session.provider, hook, session=session, **kwargs)

    async def _still_connected(self) -> None:
        """Refuse as `oauth.access_token` would once the connection is disconnected or needs reconnecting."""
        row = await Connection.select(Connection.status, Connection.status_reason).where(
            Connection.id == self.connection_id).first()
        if row is None or row["status"] == ConnectionStatus.disconnected:
            raise AuthorizationError("The integration is disconnected.", code="not_connected")
        if row["status"] == ConnectionStatus.needs_reconnect:
            raise AuthorizationError(row["status_reason"] or None, code="token_expired")

    async def _renewed(self, expired: ProviderSession) -> ProviderSession:
        """A session with a refreshed token: opened by the first lane whose request met the 401, used
        as it is by the others (the expired one is closed at the end: their requests may be on it)."""
        async with self._renewing:
            if self._session is expired:
                self._retired.append(expired)
                self._session = await connections.open_session(self.connection_id, force_refresh=True)
            assert self._session is not None
            return self._session
