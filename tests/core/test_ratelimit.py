"""The shared rate limiter on both backends: allowances, metered batch costs, concurrency, cool-down."""

from __future__ import annotations

import pytest
from ledgerbridge.ratelimit import DatabaseBackend, Limits, RateLimiter, RedisBackend


@pytest.fixture(params=["database", "redis"])
async def backend(request, database):
    if request.param == "database":
        return DatabaseBackend()
    return RedisBackend(request.getfixturevalue("redis_url"))


def key(request_node: str) -> str:
    return f"test:{abs(hash(request_node))}"


async def test_the_per_minute_allowance_is_never_exceeded(backend, request):
    name, limits = key(request.node.nodeid), Limits(per_minute=5)
    waits = [await backend.try_acquire(name, limits, f"t{n}", 10) for n in range(6)]
    assert waits[:5] == [0.0] * 5 and waits[5] > 0
    usage = await backend.usage(name)
    assert usage.last_minute == 5


async def test_a_metered_batch_costs_its_items(backend, request):
    name, limits = key(request.node.nodeid), Limits(per_minute=10)
    assert await backend.try_acquire(name, limits, "a", 10, cost=8) == 0
    assert await backend.try_acquire(name, limits, "b", 10, cost=3) > 0  # 8 + 3 > 10: wait
    assert await backend.try_acquire(name, limits, "c", 10, cost=2) == 0
    assert (await backend.usage(name)).last_minute == 10
    # A cost above the whole allowance still gets through once the window is empty, never deadlocks.
    other = key(request.node.nodeid + "big")
    assert await backend.try_acquire(other, limits, "d", 10, cost=50) == 0


async def test_concurrency_is_capped_until_a_slot_is_released(backend, request):
    name, limits = key(request.node.nodeid), Limits(concurrent=2)
    assert await backend.try_acquire(name, limits, "one", 30) == 0
    assert await backend.try_acquire(name, limits, "two", 30) == 0
    assert await backend.try_acquire(name, limits, "three", 30) > 0
    await backend.release(name, "one")
    assert await backend.try_acquire(name, limits, "three", 30) == 0


async def test_a_429_cools_every_caller_down(backend, request):
    name = key(request.node.nodeid)
    limiter = RateLimiter(backend)
    await limiter.cooldown(name, 30)
    assert await backend.try_acquire(name, Limits(per_minute=100), "x", 10) > 20
    assert (await limiter.usage(name)).cooldown_seconds > 20
