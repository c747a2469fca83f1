"""The shared rate limiter on both backends: allowances, metered batch costs, concurrency, cool-down."""

from __future__ import annotations

import pytest
from ledgerbridge import ratelimit
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


async def test_a_call_counts_until_a_minute_after_its_answer_not_its_start(backend, request):
    """The provider counts a call when it sees it, after we granted it: while it is in flight the next
    caller waits for its answer, and once answered, for the minute that follows the answer."""
    name, limits = key(request.node.nodeid), Limits(per_minute=1)
    assert await backend.try_acquire(name, limits, "first", 30) == 0
    in_flight = await backend.try_acquire(name, limits, "second", 30)
    assert 0 < in_flight <= ratelimit.RELEASE_WAIT  # until the first is answered, not a guessed minute
    await backend.release(name, "first", limits)
    answered = await backend.try_acquire(name, limits, "second", 30)
    assert 58 <= answered <= 61  # exactly until the answer leaves the window
    assert (await backend.usage(name)).in_flight == 0


async def test_an_answered_call_leaves_the_window_a_minute_after_its_answer_not_after_the_next_whole_second(
        backend, request):
    """The ledger keeps an answer's moment to the millisecond: rounding it up to the second kept each
    call up to a second longer than the provider does, which a bulk export on Xero paid at its end."""
    name, limits = key(request.node.nodeid), Limits(per_minute=1)
    assert await backend.try_acquire(name, limits, "first", 30) == 0
    await backend.release(name, "first", limits)
    assert 59 <= await backend.try_acquire(name, limits, "second", 30) <= 60.001


async def test_a_metered_batch_waits_only_until_enough_of_the_oldest_calls_leave(backend, request):
    name, limits = key(request.node.nodeid), Limits(per_minute=10)
    for token, cost in (("a", 4), ("b", 4)):
        assert await backend.try_acquire(name, limits, token, 30, cost=cost) == 0
        await backend.release(name, token, limits)
    # 8 used: a batch of 2 fits; then one of 5 needs the two oldest gone: a minute from their answers.
    assert await backend.try_acquire(name, limits, "c", 30, cost=2) == 0
    await backend.release(name, "c", limits)
    assert 58 <= await backend.try_acquire(name, limits, "d", 30, cost=5) <= 61
    assert (await backend.usage(name)).last_minute == 10


async def test_the_app_wide_minute_counts_every_tenant(backend, request):
    """Xero limits an app across all organisations too: two tenants share that ledger."""
    app = key(request.node.nodeid + "app")
    one, two = key(request.node.nodeid + "1"), key(request.node.nodeid + "2")
    limits = Limits(per_minute=10, app_key=app, app_per_minute=3)
    assert await backend.try_acquire(one, limits, "a", 30) == 0
    assert await backend.try_acquire(one, limits, "b", 30) == 0
    assert await backend.try_acquire(two, limits, "c", 30) == 0
    assert await backend.try_acquire(two, limits, "d", 30) > 0  # its own minute is empty; the app's is not
    await backend.release(two, "c", limits)
    assert (await backend.usage(app)).last_minute == 3 and (await backend.usage(two)).in_flight == 0


async def test_a_used_up_day_is_refused_at_once_instead_of_waited_for(backend, request):
    name, limits = key(request.node.nodeid), Limits(per_minute=100, per_day=2)
    limiter = RateLimiter(backend)
    for _ in range(2):
        async with limiter.slot(name, limits, defer_after=90):
            pass
    with pytest.raises(ratelimit.WindowFull) as full:
        async with limiter.slot(name, limits, defer_after=90):
            raise AssertionError("sent beyond the day's allowance")
    assert full.value.wait > 86000
    assert (await limiter.usage(name)).last_day == 2


async def test_the_database_ledger_counts_a_day_of_calls_it_no_longer_reads_row_by_row(database, request):
    """The database ledger reads only the last minute's rows before each call and sums the rest of
    the day in the database: calls an hour old still count against the day, to the second they left."""
    import time

    from ledgerbridge.db import write_transaction
    from ledgerbridge.tables import RateWindow

    backend, name = DatabaseBackend(), key(request.node.nodeid)
    limits = Limits(per_minute=100, per_day=3)
    hour_ago = int(time.time()) - 3600
    async with write_transaction():
        for token in ("a", "b"):  # answered an hour ago: outside the minute's rows, inside the day
            await RateWindow(key=f"{name}:c:{token}:{hour_ago * 1000}", window_start=hour_ago, calls=1).save()
    assert await backend.try_acquire(name, limits, "c", 30) == 0  # the day's sum (2) leaves room for one
    await backend.release(name, "c", limits)
    wait = await backend.try_acquire(name, limits, "d", 30)
    assert 86400 - 3600 - 5 < wait <= 86400 - 3600  # full: the oldest leaves a day after its answer
    assert (await backend.usage(name)).last_day == 3
