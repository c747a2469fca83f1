"""Talking to a connected provider: an authenticated, rate-limited session, and disconnecting.

Every provider call from a job goes through `call()`: it opens a `ProviderSession` whose httpx
client waits for the deployment-wide rate limiter before each request and turns a provider's 429
into a cool-down all workers honour; a 401 (`AccessTokenExpired`) refreshes the token once and
retries; a refused refresh marks the connection as needing reconnection.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import ContextVar
from functools import cache
from typing import Any

import certifi
import httpx

from ledgerbridge import metrics, oauth, provider_waits, vault
from ledgerbridge.db import write_transaction
from ledgerbridge.errors import AccessTokenExpired, LedgerBridgeError, RateLimited
from ledgerbridge.jobs import loads
from ledgerbridge.plugins import get_registry
from ledgerbridge.provider import METERED_COST, ConnectionOptions, ProviderSession
from ledgerbridge.providerhttp import retry_after_seconds
from ledgerbridge.ratelimit import Limits, RateLimiter, WindowFull, make_limiter
from ledgerbridge.settings import get_settings
from ledgerbridge.tables import Connection, ConnectionStatus, ExternalLink, NumberPolicy, RecordType, utcnow

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@cache
def limiter() -> RateLimiter:
    return make_limiter(get_settings().broker_url)


def limiter_key(connection: Connection) -> str:
    return f"{connection.provider}:{connection.tenant_id or connection.id}"


def provider_limits(provider: str) -> Limits:
    """The plugin's published limits, with `LEDGERBRIDGE_<KEY>_RATE_LIMITS` overriding any of them."""
    caps = get_registry().provider(provider).capabilities
    figures: dict[str, int | None] = {
        "per_minute": caps.requests_per_minute, "per_day": caps.requests_per_day,
        "concurrent": caps.concurrent_requests, "app_per_minute": caps.app_requests_per_minute,
    }
    figures.update((name, value or None) for name, value in get_settings().provider(provider).rate_limits)
    return Limits(figures["per_minute"], figures["per_day"], figures["concurrent"],
                  app_key=f"{provider}:app" if figures["app_per_minute"] else None,
                  app_per_minute=figures["app_per_minute"])


@cache
def tls_context() -> ssl.SSLContext:
    """Loading the CA bundle costs ~20 ms; a session is opened per provider call, so load it once."""
    return ssl.create_default_context(cafile=certifi.where())


#: A request whose allowance comes back later than this is not sent: the run waits in the queue
#: (a day's allowance used up). Longer than any minute window, so per-minute pacing always waits.
DEFER_AFTER = 90.0


#: How long closing a read waits for a slot taken ahead to be granted before it gives it up.
CLOSE_WAIT_SECONDS = 1.0

#: Set in a task whose requests someone wants listed (a paged read's call it may drop: what it sent
#: is then counted as spent for nothing, `provider_waits.record_discarded`); each request's path
#: and query are appended as it is let through.
SENT: ContextVar[list[str] | None] = ContextVar("ledgerbridge_sent_requests", default=None)


class HeldSlot:
    """A limiter slot held by a task of its own: granted when `granted` resolves, given back when
    `give_back()` is called.

    Why a task: giving a slot back writes the limiter's ledger, and on SQLite that write waits for
    the write lock an import's page holds while it is applied. Held here, the answer goes on to its
    caller at once and the ledger is written when the lock allows, which only ever counts the call
    a little longer than it lasted.
    """

    def __init__(self, key: str, limits: Limits, cost: int, gate: asyncio.Event | None = None) -> None:
        self.cost = cost
        loop = asyncio.get_running_loop()
        self.granted: asyncio.Future[None] = loop.create_future()
        self._done = asyncio.Event()
        self.task = loop.create_task(self._hold(key, limits, cost, gate))

    async def _hold(self, key: str, limits: Limits, cost: int, gate: asyncio.Event | None) -> None:
        """`gate`: the ledger is written only while it is set (see `LimitedTransport`)."""
        try:
            if gate is not None:
                await gate.wait()
            async with limiter().slot(key, limits, cost, defer_after=DEFER_AFTER):
                self.granted.set_result(None)
                await self._done.wait()
                if gate is not None:
                    await gate.wait()
        except asyncio.CancelledError:
            self.granted.cancel()
            raise
        except Exception as failed:  # WindowFull or a database error: the request waiting for it raises it
            if not self.granted.done():
                self.granted.set_exception(failed)
            else:
                raise

    @property
    def settled(self) -> bool:
        """Nothing of it waits for the ledger: granted, and in use or given back for good."""
        return self.granted.done() and (not self._done.is_set() or self.task.done())

    def give_back(self) -> None:
        self._done.set()

    async def close(self) -> None:
        """Give the slot back and wait until the ledger says so. A grant still being written is let
        finish first (cancelled inside a database call, its write would land after the caller's event
        loop is gone); one waiting for a later rate window is given up after CLOSE_WAIT_SECONDS."""
        self._done.set()
        if not self.granted.done():
            await asyncio.wait({self.granted}, timeout=CLOSE_WAIT_SECONDS)
        if not self.granted.done():
            self.task.cancel()
        elif not self.granted.cancelled():
            self.granted.exception()  # a refusal nobody asked for is not an error to report
        with suppress(asyncio.CancelledError, Exception):
            await self.task


class LimitedTransport(httpx.AsyncBaseTransport):
    """Waits for the tenant's allowance before each request; a 429 cools every worker down.

    `grant_ahead` (a paged read that asks for its next page as soon as the current one is in): as
    each request is let through, the next one's slot is taken already, while this one is answered,
    so the next page's request leaves as soon as its cursor is known instead of after a write to the
    limiter's ledger; and slots are given back off the answer's path (`HeldSlot`). Costs: one slot
    more in flight meanwhile, and the one taken after the last page is given back unused (counted
    as one call) when the read ends. `ledger_gate`: those slots' ledger writes wait while it is
    clear (a paged read on SQLite clears it while its caller applies a page: a write started then
    would sleep in SQLite's busy handler, in steps of up to 100 ms, past the moment the lock frees).
    """

    def __init__(self, key: str, limits: Limits, inner: httpx.AsyncBaseTransport | None = None, *,
                 grant_ahead: bool = False, ledger_gate: asyncio.Event | None = None):
        self.key = key
        self.limits = limits
        self.inner = inner or httpx.AsyncHTTPTransport(retries=1, verify=tls_context())
        self.grant_ahead = grant_ahead
        self.ledger_gate = ledger_gate
        self.let_through = 0  # requests sent so far
        self._next: HeldSlot | None = None
        self._held: set[HeldSlot] = set()

    def settled(self) -> bool:
        """No slot of this transport waits for the limiter's ledger (to be granted or given back)."""
        return all(slot.settled for slot in self._held)

    def _hold(self, cost: int) -> HeldSlot:
        slot = HeldSlot(self.key, self.limits, cost, self.ledger_gate)
        self._held.add(slot)
        slot.task.add_done_callback(lambda _: self._held.discard(slot))
        return slot

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        cost = int(request.extensions.get(METERED_COST, 1))
        asked = time.perf_counter()
        sent = SENT.get()
        if sent is not None:
            sent.append(request.url.raw_path.decode("ascii"))
        try:
            if self.grant_ahead:
                response = await self._send_held(request, cost)
            else:
                async with limiter().slot(self.key, self.limits, cost, defer_after=DEFER_AFTER):
                    granted = time.perf_counter()
                    provider_waits.record_granted(self.key)
                    response = await self.inner.handle_async_request(request)
                    # Timed before the slot is given back: the release waits for the database (on
                    # SQLite, for a write lock an import may hold), which is not the provider's time.
                    provider_waits.record(self.key, granted - asked, time.perf_counter() - granted)
        except WindowFull as full:
            provider = get_registry().provider(self.key.split(":", 1)[0]).name
            raise RateLimited(
                f"{provider}'s allowance of calls for this company is used up until "
                f"{time.strftime('%H:%M UTC', time.gmtime(time.time() + full.wait))}; nothing was sent.",
                fix="Nothing to do: the run waits and goes on by itself when the allowance comes back.",
                retry_after=full.wait,
            ) from None
        metrics.provider_answered(self.key, response.status_code)
        if response.status_code == 429:
            await limiter().cooldown(self.key, retry_after_seconds(response.headers.get("retry-after")))
        return response

    async def _send_held(self, request: httpx.Request, cost: int) -> httpx.Response:
        """The request in the slot taken ahead for it (or a new one), the next one's taken meanwhile."""
        asked = time.perf_counter()
        slot, self._next = self._next, None
        if slot is not None and slot.cost != cost:
            slot.give_back()
            slot = None
        if slot is None:
            slot = self._hold(cost)
        try:
            await asyncio.shield(slot.granted)
        except asyncio.CancelledError:
            await slot.close()
            raise
        granted = time.perf_counter()
        provider_waits.record_granted(self.key)
        self.let_through += 1
        if self._next is None:  # requests side by side share the one slot taken ahead
            self._next = self._hold(cost)
        try:
            response = await self.inner.handle_async_request(request)
        finally:
            slot.give_back()
        provider_waits.record(self.key, granted - asked, time.perf_counter() - granted)
        return response

    def give_back_ahead(self) -> None:
        """No request will come for the slot taken ahead (this transport is replaced)."""
        slot, self._next = self._next, None
        if slot is not None:
            slot.give_back()

    async def aclose(self) -> None:
        """Give back every slot still held (the one taken for a request that never came) and wait
        until the ledger has them."""
        self._next = None
        for slot in list(self._held):
            await slot.close()
        await self.inner.aclose()


async def _options(connection: Connection) -> ConnectionOptions:
    account_remote_id = None
    if connection.default_income_account_id:
        link = await ExternalLink.select(ExternalLink.remote_id).where(
            (ExternalLink.connection == connection.id)
            & (ExternalLink.record_type == RecordType.account)
            & (ExternalLink.record_id == connection.default_income_account_id)
        ).first()
        account_remote_id = link["remote_id"] if link else None
    return ConnectionOptions(
        export_as_draft=connection.export_as_draft,
        number_policy="provider" if connection.number_policy == NumberPolicy.provider else "ours",
        default_income_account_id=account_remote_id,
    )


async def load(connection_id: int | None) -> Connection:
    """The connection a run or request is about; gone means it was deleted meanwhile."""
    connection = await Connection.objects().where(Connection.id == connection_id).first()
    if connection is None:
        raise LedgerBridgeError(f"Connection {connection_id} no longer exists.", code="not_found")
    return connection


async def open_session(connection_id: int, *, force_refresh: bool = False,
                       transport: LimitedTransport | None = None) -> ProviderSession:
    token, connection = await oauth.access_token(connection_id, force_refresh=force_refresh)
    transport = transport or LimitedTransport(limiter_key(connection), provider_limits(connection.provider))
    return ProviderSession(
        provider=connection.provider,
        connection_id=connection.id,
        tenant_id=connection.tenant_id,
        environment=connection.environment,
        access_token=token,
        settings=get_settings().provider(connection.provider),
        http=httpx.AsyncClient(
            transport=transport, timeout=HTTP_TIMEOUT, headers={"Authorization": f"Bearer {token}"}
        ),
        options=await _options(connection),
        provider_data=loads(connection.provider_data),
    )


async def call(connection_id: int, hook: str, **kwargs: Any) -> Any:
    """Call a provider hook for this connection, refreshing the access token once on a 401."""
    row = await Connection.select(Connection.provider).where(Connection.id == connection_id).first()
    if row is None:
        raise LedgerBridgeError(f"Connection {connection_id} no longer exists.", code="not_found")
    provider = row["provider"]
    metrics.remember_provider(connection_id, provider)
    for attempt in (0, 1):
        session = await open_session(connection_id, force_refresh=attempt == 1)
        try:
            return await get_registry().call(provider, hook, session=session, **kwargs)
        except AccessTokenExpired:
            if attempt == 1:
                raise
        finally:
            await session.http.aclose()
    raise AssertionError("unreachable")


class ReadSession:
    """One provider session kept open across the calls of a paged read.

    Why: `call` opens a session per call (the connection's rows, its token, its options and a new
    TCP connection), which a read of 500 pages paid 500 times. A 401 still refreshes the token once
    and retries that call, as `call` does. Use as `async with ReadSession(connection_id) as read`.
    `grant_ahead`: each request's limiter slot is taken while the one before is answered
    (`LimitedTransport`), for a read that asks for its next page at once. Calls may run side by
    side (an import asks for two pages at once): a 401 on both refreshes the token once, and a
    session replaced meanwhile is closed only when the read ends, since a call beside it may still
    be using it.
    """

    def __init__(self, connection_id: int, *, grant_ahead: bool = False) -> None:
        self.connection_id = connection_id
        self.grant_ahead = grant_ahead
        self._transports: list[LimitedTransport] = []  # the current one last
        #: Set while the read's caller holds no page (see `LimitedTransport`'s `ledger_gate`); only
        #: SQLite, whose one write lock the page's transaction holds, keeps it clear meanwhile.
        self.ledger_open = asyncio.Event()
        self.ledger_open.set()
        self.provider = ""
        self.limiter_key = ""
        self._session: ProviderSession | None = None
        self._sessions: list[ProviderSession] = []
        self._opening = asyncio.Lock()

    async def __aenter__(self) -> ReadSession:
        connection = await load(self.connection_id)
        self.provider, self.limiter_key = connection.provider, limiter_key(connection)
        metrics.remember_provider(self.connection_id, self.provider)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._session = None
        sessions, self._sessions = self._sessions, []
        for session in sessions:
            await session.http.aclose()

    @property
    def sent(self) -> int:
        """Requests this read has sent so far (with `grant_ahead`)."""
        return sum(transport.let_through for transport in self._transports)

    def settled(self) -> bool:
        """No request of this read waits for the limiter's ledger: a paged read opens its page's
        write transaction only then, since on SQLite the ledger's writes need the same lock."""
        return all(transport.settled() for transport in self._transports)

    async def _open(self, stale: ProviderSession | None, force_refresh: bool) -> ProviderSession:
        """The session to call through: a new one when there is none yet or `stale` (refused with a
        401) is still the current one; else the one a call beside this one opened meanwhile."""
        async with self._opening:
            if self._session is not None and self._session is not stale:
                return self._session
            if self._transports:
                self._transports[-1].give_back_ahead()
            transport = LimitedTransport(self.limiter_key, provider_limits(self.provider),
                                         grant_ahead=self.grant_ahead, ledger_gate=self.ledger_open)
            self._transports.append(transport)
            session = await open_session(self.connection_id, force_refresh=force_refresh, transport=transport)
            self._sessions.append(session)
            self._session = session
            return session

    async def call(self, hook: str, **kwargs: Any) -> Any:
        """The hook's answer through the open session (opened on first use)."""
        session = self._session
        for attempt in (0, 1):
            if session is None or attempt == 1:
                session = await self._open(session, force_refresh=attempt == 1)
            try:
                return await get_registry().call(self.provider, hook, session=session, **kwargs)
            except AccessTokenExpired:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


async def disconnect(connection_id: int, also: Callable[[], Awaitable[Any]] | None = None) -> Connection:
    """Revoke at the provider (best effort) and forget the tokens; every record and link stays.
    `also` runs inside the transaction that forgets them (the audit entry of who disconnected)."""
    connection = await load(connection_id)
    if connection.refresh_token_enc:
        session = None
        try:
            session = await open_session(connection_id)
            await oauth.revoke(connection.provider, session=session,
                               refresh_token=vault.decrypt(connection.refresh_token_enc))
        except Exception:  # revocation is a courtesy; the local disconnect must happen regardless
            pass
        finally:
            if session is not None:
                await session.http.aclose()
    async with write_transaction():
        await Connection.update(
            {
                Connection.access_token_enc: "",
                Connection.refresh_token_enc: "",
                Connection.access_expires_at: None,
                Connection.refresh_expires_at: None,
                Connection.token_version: Connection.token_version + 1,
            }
        ).where(Connection.id == connection_id)
        if also is not None:
            await also()
    await oauth.set_status(connection, ConnectionStatus.disconnected, "Disconnected by a user.")
    return connection


def touch(connection: Connection) -> dict[Any, Any]:
    return {Connection.last_synced_at: utcnow(), Connection.updated_at: utcnow()}
