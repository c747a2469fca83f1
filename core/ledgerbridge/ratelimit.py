"""Provider rate limits, enforced across every worker of a deployment.

Providers meter calls per tenant (QuickBooks: 500 a minute and 10 at once per company, batch items
metered one each; Xero: 60 a minute, 5 at once and 5,000 a rolling day per organisation, and 10,000
a minute per app across all organisations). Limiting inside one process is not enough when several
workers, and the imports, polls and exports of one company, share a tenant, so the ledger of calls
lives where all of them see it: Redis when the deployment has a broker, the database otherwise.

Why a ledger of calls rather than counters per time bucket: the providers count a true sliding
window from the moment *they* saw the call, which is after we granted it. So each granted call is
an entry that counts against every window while it is in flight, and from its answer (when the
provider has surely counted it) for the window's length. That can never let more through in any
provider window than the allowance, and it tells exactly when the oldest calls leave the window,
so a waiting request sleeps until that moment and no longer (no fixed sleeps). A call whose
process died in flight counts as answered when its hold lapses. A 429 from the provider sets a
cool-down that every worker honours, whatever the ledger says.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis

from ledgerbridge.db import current_engine, fetch_raw, write_transaction
from ledgerbridge.tables import RateWindow

MINUTE = 60
DAY = 86400
#: The answer "wait until a call in flight is answered": how long to wait before looking again when
#: the release happens in another process (one in this process wakes the waiter at once).
RELEASE_WAIT = 0.1
#: Shortest wait ever returned for a window, so a caller never spins.
MIN_WAIT = 0.01
#: The key of the rows `DatabaseBackend._check` reads back as a window's sum (no ledger key has it).
SUM_KEY = "=sum"
_ROWS_SINCE = 'SELECT "key", window_start, "count" AS calls FROM rate_window WHERE "key" LIKE ? AND window_start > ?'
#: Entries are kept this long: the day's usage is shown and checked before a bulk export.
KEEP = DAY + MINUTE


@dataclass(frozen=True)
class Limits:
    """One tenant's published limits, and the app-wide minute limit some providers add (Xero)."""

    per_minute: int | None = None
    per_day: int | None = None
    concurrent: int | None = None
    app_key: str | None = None  # the limiter key every tenant of this app shares
    app_per_minute: int | None = None


@dataclass(frozen=True)
class Usage:
    last_minute: int
    last_day: int
    in_flight: int
    cooldown_seconds: float


@dataclass(frozen=True)
class Scope:
    """One ledger a call is written to: its key, its windows (seconds, allowance) and in-flight cap."""

    key: str
    windows: tuple[tuple[int, int], ...]
    concurrent: int


def scopes(key: str, limits: Limits) -> list[Scope]:
    """The tenant's ledger, and the app's when the provider limits the app across tenants too."""
    windows = tuple((seconds, allowance) for seconds, allowance in ((MINUTE, limits.per_minute),
                                                                    (DAY, limits.per_day)) if allowance)
    out = [Scope(key, windows, limits.concurrent or 0)]
    if limits.app_key and limits.app_per_minute:
        out.append(Scope(limits.app_key, ((MINUTE, limits.app_per_minute),), 0))
    return out


def wait_for(entries: list[tuple[float, int, bool]], now: float, window: int, allowance: int, cost: int) -> float:
    """0 when `cost` more fits the window, else how long until enough of `entries` leave it.

    `entries` are (stamp, cost, in flight) sorted by stamp, already limited to the window. A cost
    above the whole allowance needs an empty window (it could never fit otherwise). When the calls
    that must leave are still in flight, the answer is RELEASE_WAIT: their leaving starts only once
    they are answered.
    """
    total = sum(c for _, c, _ in entries)
    need = total + min(cost, allowance) - allowance
    if need <= 0:
        return 0.0
    freed = 0
    for stamp, c, in_flight in entries:
        freed += c
        if freed >= need:
            if in_flight and stamp > now:
                return RELEASE_WAIT
            return max(MIN_WAIT, stamp + window - now)
    return RELEASE_WAIT


class Backend(Protocol):
    async def try_acquire(self, key: str, limits: Limits, token: str, hold: float, cost: int = 1) -> float:
        """Take `cost` calls' allowance and return 0, or return how long to wait before trying again."""

    async def release(self, key: str, token: str, limits: Limits | None = None) -> None:
        """The call was answered: it counts from now for each window's length, and is no longer in flight."""

    async def cooldown(self, key: str, seconds: float) -> None: ...

    async def usage(self, key: str) -> Usage: ...


class DatabaseBackend:
    """The ledger in the `rate_window` table; the embedded default's shared limiter.

    One row per call and scope: key `<scope>:f:<token>` while in flight (its `window_start` is when
    its hold lapses), `<scope>:c:<token>:<ms>` once answered: `window_start` is the answer's second,
    rounded up (the column holds whole seconds), and `<ms>` the answer's moment in milliseconds,
    rounded up too, which is what the windows count from (`_stamp`). Counting from the whole second
    kept each answered call up to a second longer than the provider does: on Xero, whose second
    minute's requests each wait for a first minute's call to leave, that second was added to a bulk
    export's end. Rows written before the milliseconds were kept count from their second.
    """

    def __init__(self) -> None:
        self._swept: dict[str, float] = {}  # scope key -> when this process last deleted its old rows

    async def try_acquire(self, key: str, limits: Limits, token: str, hold: float, cost: int = 1) -> float:
        now = time.time()
        found = scopes(key, limits)
        async with write_transaction():
            await self._serialise(key)
            for scope in found:
                wait = await self._check(scope, now, cost)
                if wait > 0:
                    return wait
            rows = [(f"{scope.key}:f:{token}", math.ceil(now + hold), cost) for scope in found]
            await fetch_raw('INSERT INTO rate_window ("key", window_start, "count") VALUES '
                            + ", ".join("(?, ?, ?)" for _ in rows), *[value for row in rows for value in row])
            for scope in found:  # rows older than a day: swept once a minute per scope, not on every call
                if self._swept.get(scope.key, 0.0) < now - MINUTE:
                    self._swept[scope.key] = now
                    await fetch_raw('DELETE FROM rate_window WHERE "key" LIKE ? AND window_start < ?',
                                    f"{scope.key}:%", now - KEEP)
        return 0.0

    async def _check(self, scope: Scope, now: float, cost: int) -> float:
        """Why in this shape: a day's window holds thousands of calls, and reading them all before each
        request cost more than the request. One statement reads the shortest window's rows (they hold
        the calls in flight and the cool-down too) and the database's sum of each longer window; a
        longer window is read row by row only when its sum says it may be full."""
        prefix = f"{scope.key}:%"
        shortest = min((seconds for seconds, _ in scope.windows), default=1)
        longer = [seconds for seconds, _ in scope.windows if seconds > shortest]
        statement = _ROWS_SINCE
        params: list[Any] = [prefix, now - shortest]
        for seconds in longer:  # (SUM_KEY, the window's length, its calls)
            statement += (' UNION ALL SELECT ?, ?, COALESCE(SUM("count"), 0) FROM rate_window'
                          ' WHERE "key" LIKE ? AND window_start > ?')
            params += [SUM_KEY, seconds, prefix, now - seconds]
        rows = await fetch_raw(statement, *params)
        sums = {int(row["window_start"]): int(row["calls"]) for row in rows if row["key"] == SUM_KEY}
        cool = max((float(row["window_start"]) for row in rows if row["key"] == f"{scope.key}:cool"), default=0.0)
        if cool > now:
            return cool - now
        entries = _entries_of(scope, rows)
        for seconds, allowance in scope.windows:
            window = entries
            if seconds > shortest:
                # Rows count from `window_start` at the latest, never before their moment: a sum that
                # fits the window fits it exactly.
                if sums[seconds] + min(cost, allowance) <= allowance:
                    continue
                window = _entries_of(scope, await fetch_raw(_ROWS_SINCE, prefix, now - seconds))
            wait = wait_for([e for e in window if e[0] > now - seconds], now, seconds, allowance, cost)
            if wait > 0:
                return wait
        if scope.concurrent and sum(1 for stamp, _, flying in entries if flying and stamp > now) >= scope.concurrent:
            return RELEASE_WAIT
        return 0.0

    async def _serialise(self, key: str) -> None:
        """On PostgreSQL, one acquirer per key at a time (SQLite's write lock already does this)."""
        if current_engine().engine_type == "postgres":
            await fetch_raw("SELECT pg_advisory_xact_lock(hashtext(?))", key)

    async def release(self, key: str, token: str, limits: Limits | None = None) -> None:
        answered_ms = math.ceil(time.time() * 1000)
        answered = math.ceil(answered_ms / 1000)
        async with write_transaction():
            for scope in scopes(key, limits or Limits()):
                await fetch_raw('UPDATE rate_window SET "key" = ?, window_start = ? WHERE "key" = ?',
                                f"{scope.key}:c:{token}:{answered_ms}", answered, f"{scope.key}:f:{token}")

    async def cooldown(self, key: str, seconds: float) -> None:
        until = int(time.time() + seconds) + 1
        async with write_transaction():
            hit = await RateWindow.update({RateWindow.window_start: until}).where(
                RateWindow.key == f"{key}:cool"
            ).returning(RateWindow.id)
            if not hit:
                await RateWindow(key=f"{key}:cool", window_start=until, calls=0).save()

    async def usage(self, key: str) -> Usage:
        now = time.time()
        rows = await RateWindow.select(
            RateWindow.key, RateWindow.window_start, RateWindow.calls.as_alias("calls")
        ).where(RateWindow.key.like(f"{key}:%"))
        calls = [r for r in rows if r["key"].startswith((f"{key}:f:", f"{key}:c:"))]
        minute = sum(r["calls"] for r in calls if r["window_start"] > now - MINUTE)
        day = sum(r["calls"] for r in calls if r["window_start"] > now - DAY)
        running = sum(1 for r in calls if r["key"].startswith(f"{key}:f:") and r["window_start"] > now)
        cool = max((r["window_start"] - now for r in rows if r["key"] == f"{key}:cool"), default=0.0)
        return Usage(minute, day, running, max(0.0, cool))


def _entries_of(scope: Scope, rows: list[Any]) -> list[tuple[float, int, bool]]:
    """(stamp, cost, in flight) of the ledger rows of calls, sorted by stamp (`wait_for`'s order)."""
    calls, answered = f"{scope.key}:f:", f"{scope.key}:c:"
    return sorted((_stamp(row["key"], row["window_start"], scope.key), int(row["calls"]), row["key"].startswith(calls))
                  for row in rows if row["key"].startswith((calls, answered)))


def _stamp(key: str, window_start: int, scope_key: str) -> float:
    """When a ledger row counts from: an answered call's moment to the millisecond where its key keeps
    it (`<scope>:c:<token>:<ms>`), else its `window_start`."""
    answered = f"{scope_key}:c:"
    if key.startswith(answered):
        _, _, ms = key[len(answered):].partition(":")
        if ms.isdigit():
            return int(ms) / 1000
    return float(window_start)


# KEYS: one ledger prefix per scope. ARGV: now, hold, token, cost, then per scope: its in-flight cap,
# its number of windows, and (seconds, allowance) for each. Per scope `P`: `P:e` (token -> stamp),
# `P:c` (token -> cost), `P:f` (tokens in flight -> hold lapse), `P:cool`.
_ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local hold = tonumber(ARGV[2])
local token = ARGV[3]
local cost = tonumber(ARGV[4])
local RELEASE = tonumber(ARGV[5])
local MINWAIT = tonumber(ARGV[6])
local KEEP = tonumber(ARGV[7])
local pos = 8
for i, base in ipairs(KEYS) do
  local cool = tonumber(redis.call('GET', base .. ':cool') or '0')
  if cool > now then return tostring(cool - now) end
  local concurrent = tonumber(ARGV[pos])
  local nwin = tonumber(ARGV[pos + 1])
  pos = pos + 2
  for w = 1, nwin do
    local window = tonumber(ARGV[pos])
    local allowance = tonumber(ARGV[pos + 1])
    pos = pos + 2
    local entries = redis.call('ZRANGEBYSCORE', base .. ':e', '(' .. tostring(now - window), '+inf', 'WITHSCORES')
    local costs = {}
    local total = 0
    for j = 1, #entries, 2 do
      local c = tonumber(redis.call('HGET', base .. ':c', entries[j]) or '1')
      costs[#costs + 1] = c
      total = total + c
    end
    local need = total + math.min(cost, allowance) - allowance
    if need > 0 then
      local freed = 0
      for j = 1, #costs do
        freed = freed + costs[j]
        if freed >= need then
          local stamp = tonumber(entries[2 * j])
          if stamp > now and redis.call('ZSCORE', base .. ':f', entries[2 * j - 1]) then return tostring(RELEASE) end
          return tostring(math.max(MINWAIT, stamp + window - now))
        end
      end
      return tostring(RELEASE)
    end
  end
  if concurrent > 0 then
    redis.call('ZREMRANGEBYSCORE', base .. ':f', '-inf', now)
    if redis.call('ZCARD', base .. ':f') >= concurrent then return tostring(RELEASE) end
  end
end
for i, base in ipairs(KEYS) do
  local old = redis.call('ZRANGEBYSCORE', base .. ':e', '-inf', now - KEEP, 'LIMIT', 0, 500)
  if #old > 0 then
    redis.call('ZREM', base .. ':e', unpack(old))
    redis.call('HDEL', base .. ':c', unpack(old))
  end
  redis.call('ZADD', base .. ':e', now + hold, token)
  redis.call('HSET', base .. ':c', token, cost)
  redis.call('ZADD', base .. ':f', now + hold, token)
  for _, suffix in ipairs({':e', ':c', ':f'}) do redis.call('EXPIRE', base .. suffix, math.ceil(KEEP + hold)) end
end
return '0'
"""

_RELEASE_LUA = """
local now = tonumber(ARGV[1])
for i, base in ipairs(KEYS) do
  if redis.call('ZREM', base .. ':f', ARGV[2]) == 1 or redis.call('ZSCORE', base .. ':e', ARGV[2]) then
    redis.call('ZADD', base .. ':e', 'XX', now, ARGV[2])
  end
end
return 0
"""


class RedisBackend:
    """The same ledger as `DatabaseBackend`, atomic in one Lua script."""

    def __init__(self, url: str):
        self._url = url
        self._clients: dict[int, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:  # one client per event loop: redis.asyncio connections are loop-bound
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.from_url(self._url)
        return client

    async def try_acquire(self, key: str, limits: Limits, token: str, hold: float, cost: int = 1) -> float:
        found = scopes(key, limits)
        args: list[str | int | float] = [time.time(), hold, token, cost, RELEASE_WAIT, MIN_WAIT, KEEP]
        for scope in found:
            args += [scope.concurrent, len(scope.windows)]
            for seconds, allowance in scope.windows:
                args += [seconds, allowance]
        wait = await self._client().eval(_ACQUIRE_LUA, len(found), *[f"lb:rl:{s.key}" for s in found], *args)
        return float(wait)

    async def release(self, key: str, token: str, limits: Limits | None = None) -> None:
        found = scopes(key, limits or Limits())
        await self._client().eval(_RELEASE_LUA, len(found), *[f"lb:rl:{s.key}" for s in found], time.time(), token)

    async def cooldown(self, key: str, seconds: float) -> None:
        await self._client().set(f"lb:rl:{key}:cool", time.time() + seconds, ex=int(seconds) + 1)

    async def usage(self, key: str) -> Usage:
        client = self._client()
        now = time.time()
        base = f"lb:rl:{key}"
        entries: list[Any] = await client.zrangebyscore(f"{base}:e", now - DAY, "+inf", withscores=True)
        costs = await client.hmget(f"{base}:c", [member for member, _ in entries]) if entries else []
        minute = sum(int(c or 1) for (_, stamp), c in zip(entries, costs, strict=True) if float(stamp) > now - MINUTE)
        day = sum(int(c or 1) for c in costs)
        in_flight = await client.zcount(f"{base}:f", now, "+inf")
        cool = float(await client.get(f"{base}:cool") or 0)
        return Usage(minute, day, in_flight, max(0.0, cool - now))


class WindowFull(Exception):
    """The allowance comes back later than a worker should wait in place (a day's limit is used up)."""

    def __init__(self, wait: float):
        super().__init__(f"the allowance comes back in {wait:.0f} s")
        self.wait = wait


class RateLimiter:
    """Waits for a provider's allowance before each call; one per process, shared by all jobs."""

    def __init__(self, backend: Backend, max_hold: float = 120.0):
        self.backend = backend
        self.max_hold = max_hold
        self._released: dict[tuple[int, str], asyncio.Event] = {}

    @asynccontextmanager
    async def slot(self, key: str, limits: Limits, cost: int = 1, *,
                   defer_after: float | None = None) -> AsyncIterator[None]:
        """One request's turn; `cost` is how many calls the provider meters it as (batch items).

        Waits exactly as long as the ledger says (or until a call of this process is answered, when
        the wait is for a call in flight); raises `WindowFull` instead when the wait is longer than
        `defer_after`, so nothing is sent and the caller can defer its work.
        """
        token = uuid.uuid4().hex
        while True:
            wait = await self.backend.try_acquire(key, limits, token, self.max_hold, cost)
            if wait <= 0:
                break
            if defer_after is not None and wait > defer_after:
                raise WindowFull(wait)
            await self._pause(key, wait)
        try:
            yield
        finally:
            await self.backend.release(key, token, limits)
            self._event(key).set()

    def _event(self, key: str) -> asyncio.Event:
        """This loop's signal that a call of `key` was answered (asyncio events are loop-bound)."""
        slot = (id(asyncio.get_running_loop()), key)
        event = self._released.get(slot)
        if event is None:
            event = self._released[slot] = asyncio.Event()
        return event

    async def _pause(self, key: str, wait: float) -> None:
        if wait > RELEASE_WAIT:
            await asyncio.sleep(min(wait, 5.0))  # looked at again within 5 s: a cool-down may be set meanwhile
            return
        event = self._event(key)
        event.clear()
        try:
            await asyncio.wait_for(event.wait(), timeout=wait)
        except TimeoutError:
            pass

    async def cooldown(self, key: str, seconds: float) -> None:
        await self.backend.cooldown(key, seconds)

    async def usage(self, key: str) -> Usage:
        return await self.backend.usage(key)


def make_limiter(broker_url: str) -> RateLimiter:
    if broker_url.startswith("redis"):
        return RateLimiter(RedisBackend(broker_url))
    return RateLimiter(DatabaseBackend())
