"""Provider rate limits, enforced across every worker of a deployment.

Providers meter calls per tenant (QuickBooks: 500 a minute and 10 at once per company; Xero: 60 a
minute, 5 at once and 5,000 a day per organisation). Limiting inside one process is not enough
when several workers share a tenant, so the counters live where all workers see them: Redis when
the deployment has a broker, the database otherwise.

Windows slide in six steps (a minute is counted as its last six ten-second buckets), which keeps a
burst at a window's edge from doubling the allowance. A 429 from the provider sets a cool-down that
every worker honours, whatever our own counters say.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

from ledgerbridge.db import current_engine, write_transaction
from ledgerbridge.tables import RateWindow

STEPS = 6


@dataclass(frozen=True)
class Limits:
    per_minute: int | None = None
    per_day: int | None = None
    concurrent: int | None = None


@dataclass(frozen=True)
class Usage:
    last_minute: int
    last_day: int
    in_flight: int
    cooldown_seconds: float


class Backend(Protocol):
    async def try_acquire(self, key: str, limits: Limits, token: str, hold: float, cost: int = 1) -> float:
        """Take `cost` calls' allowance and return 0, or return how long to wait before trying again."""

    async def release(self, key: str, token: str) -> None: ...

    async def cooldown(self, key: str, seconds: float) -> None: ...

    async def usage(self, key: str) -> Usage: ...


def _windows(limits: Limits) -> list[tuple[str, int, int]]:
    """(name, window seconds, allowance) for each configured window."""
    out = []
    if limits.per_minute:
        out.append(("m", 60, limits.per_minute))
    if limits.per_day:
        out.append(("d", 86400, limits.per_day))
    return out


class DatabaseBackend:
    """Counters in the `rate_window` table; the embedded default's shared limiter."""

    async def try_acquire(self, key: str, limits: Limits, token: str, hold: float, cost: int = 1) -> float:
        now = time.time()
        async with write_transaction():
            await self._serialise(key)
            cool = await RateWindow.select(RateWindow.window_start).where(RateWindow.key == f"{key}:cool").first()
            if cool and cool["window_start"] > now:
                return cool["window_start"] - now
            for name, window, allowance in _windows(limits):
                step = window // STEPS
                bucket = int(now // step) * step
                rows = await RateWindow.select(RateWindow.window_start, RateWindow.calls.as_alias("calls")).where(
                    (RateWindow.key == f"{key}:{name}") & (RateWindow.window_start > bucket - window)
                )
                if sum(row["calls"] for row in rows) + min(cost, allowance) > allowance:
                    oldest = min(row["window_start"] for row in rows)
                    return max(0.05, oldest + window - now)
            if limits.concurrent:
                busy = await RateWindow.select(RateWindow.id).where(
                    RateWindow.key.like(f"{key}:run:%") & (RateWindow.window_start > now)
                )
                if len(busy) >= limits.concurrent:
                    return 0.05
                await RateWindow(key=f"{key}:run:{token}", window_start=int(now + hold) + 1, calls=1).save()
            for name, window, _ in _windows(limits):
                step = window // STEPS
                bucket = int(now // step) * step
                hit = await RateWindow.update({RateWindow.calls: RateWindow.calls + cost}).where(
                    (RateWindow.key == f"{key}:{name}") & (RateWindow.window_start == bucket)
                ).returning(RateWindow.id)
                if not hit:
                    await RateWindow(key=f"{key}:{name}", window_start=bucket, calls=cost).save()
            await RateWindow.delete().where(
                (RateWindow.key.like(f"{key}:%")) & (RateWindow.window_start < now - 86400)
            )
        return 0.0

    async def _serialise(self, key: str) -> None:
        """On PostgreSQL, one acquirer per key at a time (SQLite's write lock already does this)."""
        if current_engine().engine_type == "postgres":
            await RateWindow.raw("SELECT pg_advisory_xact_lock(hashtext({}))", key)

    async def release(self, key: str, token: str) -> None:
        async with write_transaction():
            await RateWindow.delete().where(RateWindow.key == f"{key}:run:{token}")

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
        minute = sum(r["calls"] for r in rows if r["key"] == f"{key}:m" and r["window_start"] > now - 60 - 10)
        day = sum(r["calls"] for r in rows if r["key"] == f"{key}:d" and r["window_start"] > now - 86400 - 14400)
        running = sum(1 for r in rows if r["key"].startswith(f"{key}:run:") and r["window_start"] > now)
        cool = max((r["window_start"] - now for r in rows if r["key"] == f"{key}:cool"), default=0.0)
        return Usage(minute, day, running, max(0.0, cool))


_ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local hold = tonumber(ARGV[2])
local token = ARGV[3]
local concurrent = tonumber(ARGV[4])
local base = KEYS[1]
local cool = tonumber(redis.call('GET', base .. ':cool') or '0')
if cool > now then return tostring(cool - now) end
local cost = tonumber(ARGV[5])
local n = (#ARGV - 5) / 3
for i = 0, n - 1 do
  local name = ARGV[6 + i * 3]
  local window = tonumber(ARGV[7 + i * 3])
  local allowance = tonumber(ARGV[8 + i * 3])
  local step = math.floor(window / 6)
  local bucket = math.floor(now / step) * step
  local total = 0
  local oldest = nil
  for b = bucket - window + step, bucket, step do
    local c = tonumber(redis.call('GET', base .. ':' .. name .. ':' .. b) or '0')
    if c > 0 and oldest == nil then oldest = b end
    total = total + c
  end
  if total + math.min(cost, allowance) > allowance then
    return tostring(math.max(0.05, (oldest or bucket) + window - now))
  end
end
if concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', base .. ':run', '-inf', now)
  if redis.call('ZCARD', base .. ':run') >= concurrent then return '0.05' end
  redis.call('ZADD', base .. ':run', now + hold, token)
  redis.call('EXPIRE', base .. ':run', math.ceil(hold) + 60)
end
for i = 0, n - 1 do
  local name = ARGV[6 + i * 3]
  local window = tonumber(ARGV[7 + i * 3])
  local step = math.floor(window / 6)
  local bucket = math.floor(now / step) * step
  local k = base .. ':' .. name .. ':' .. bucket
  redis.call('INCRBY', k, cost)
  redis.call('EXPIRE', k, window + step)
end
return '0'
"""


class RedisBackend:
    """The same algorithm as `DatabaseBackend`, atomic in one Lua script."""

    def __init__(self, url: str):
        self._url = url
        self._clients: dict[int, aioredis.Redis] = {}

    def _client(self):  # one client per event loop: redis.asyncio connections are loop-bound
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.from_url(self._url)
        return client

    async def try_acquire(self, key: str, limits: Limits, token: str, hold: float, cost: int = 1) -> float:
        args: list[object] = [time.time(), hold, token, limits.concurrent or 0, cost]
        for name, window, allowance in _windows(limits):
            args += [name, window, allowance]
        wait = await self._client().eval(_ACQUIRE_LUA, 1, f"lb:rl:{key}", *args)
        return float(wait)

    async def release(self, key: str, token: str) -> None:
        await self._client().zrem(f"lb:rl:{key}:run", token)

    async def cooldown(self, key: str, seconds: float) -> None:
        await self._client().set(f"lb:rl:{key}:cool", time.time() + seconds, ex=int(seconds) + 1)

    async def usage(self, key: str) -> Usage:
        client = self._client()
        now = time.time()
        total = {}
        for name, window in (("m", 60), ("d", 86400)):
            step = window // STEPS
            bucket = int(now // step) * step
            keys = [f"lb:rl:{key}:{name}:{b}" for b in range(bucket - window + step, bucket + 1, step)]
            total[name] = sum(int(v or 0) for v in await client.mget(keys))
        in_flight = await client.zcount(f"lb:rl:{key}:run", now, "+inf")
        cool = float(await client.get(f"lb:rl:{key}:cool") or 0)
        return Usage(total["m"], total["d"], in_flight, max(0.0, cool - now))


class RateLimiter:
    """Waits for a provider's allowance before each call; one per process, shared by all jobs."""

    def __init__(self, backend: Backend, max_hold: float = 120.0):
        self.backend = backend
        self.max_hold = max_hold

    @asynccontextmanager
    async def slot(self, key: str, limits: Limits, cost: int = 1) -> AsyncIterator[None]:
        """One request's turn; `cost` is how many calls the provider meters it as (batch items)."""
        token = uuid.uuid4().hex
        while True:
            wait = await self.backend.try_acquire(key, limits, token, self.max_hold, cost)
            if wait <= 0:
                break
            await asyncio.sleep(min(wait, 5.0))
        try:
            yield
        finally:
            if limits.concurrent:
                await self.backend.release(key, token)

    async def cooldown(self, key: str, seconds: float) -> None:
        await self.backend.cooldown(key, seconds)

    async def usage(self, key: str) -> Usage:
        return await self.backend.usage(key)


def make_limiter(broker_url: str) -> RateLimiter:
    if broker_url.startswith("redis"):
        return RateLimiter(RedisBackend(broker_url))
    return RateLimiter(DatabaseBackend())
