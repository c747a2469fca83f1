"""`lanes.Ahead`: batches are checked ahead of the lanes, in order, never more than its depth ahead,
and a check that fails ends the run in the run's own task."""

from __future__ import annotations

import asyncio

import pytest
from ledgerbridge.sync.lanes import Ahead


async def test_items_come_in_order_and_at_most_depth_are_prepared_ahead():
    prepared: list[int] = []

    async def prepare(item: int) -> str:
        prepared.append(item)
        await asyncio.sleep(0)
        return f"checked {item}"

    ahead = Ahead(prepare, list(range(10)), depth=3)
    seen = []
    async for item, ready in ahead:
        await asyncio.sleep(0.01)  # the consumer is slower: the producer waits at its depth
        seen.append((item, ready))
        assert len(prepared) - len(seen) <= 3 + 1  # the queue's depth, and the one being put
    assert seen == [(n, f"checked {n}") for n in range(10)]


async def test_a_failed_check_is_raised_to_the_consumer_after_the_items_before_it():
    async def prepare(item: int) -> int:
        if item == 2:
            raise ValueError("item 2 cannot be checked")
        return item

    seen = []
    with pytest.raises(ValueError, match="item 2"):
        async for item, _ in Ahead(prepare, [0, 1, 2, 3], depth=5):
            seen.append(item)
    assert seen == [0, 1]


async def test_the_producer_stays_near_a_consumer_that_keeps_taking_and_runs_ahead_when_it_stalls(monkeypatch):
    """`near`: checks far ahead wait while the lanes are sending (they would take the processor from
    the sends going out now), and go on up to the depth once the consumer is held up."""
    from ledgerbridge.sync import lanes

    monkeypatch.setattr(lanes, "STALL", 0.05)
    prepared: list[int] = []

    async def prepare(item: int) -> int:
        prepared.append(item)
        return item

    ahead = Ahead(prepare, list(range(40)), depth=30, near=3)
    taken = 0
    async for _item, _ in ahead:
        taken += 1
        if taken < 10:  # taking steadily: the producer is never more than `near` ahead
            await asyncio.sleep(0)
            assert len(prepared) <= taken + 3
        elif taken == 10:  # held up (as by the provider's window): the producer runs on to its depth
            for _ in range(200):
                if len(prepared) >= taken + 30:
                    break
                await asyncio.sleep(0.01)
            assert len(prepared) >= taken + 30
    assert taken == 40 and prepared == list(range(40))


async def test_a_free_lane_sends_before_the_last_answer_is_written_and_every_answer_is_written_in_order():
    """`Lanes`: a lane is free once its request is answered; the answer's bookkeeping (`finish`) runs
    while every lane is busy or at `drain`, in the order the sends were done, never more than `width`
    of them waiting."""
    from ledgerbridge.sync.lanes import Lanes

    events: list[str] = []
    answers = {n: asyncio.Event() for n in range(6)}

    async def send(n: int) -> int:
        events.append(f"send {n}")
        await answers[n].wait()
        return n

    async def finish(n: int) -> None:
        events.append(f"finish {n}")

    lanes = Lanes(2)
    await lanes.submit(send(0), finish)
    await lanes.submit(send(1), finish)
    answers[0].set()
    await lanes.submit(send(2), finish)  # lane 0 is free: sent before answer 0 is written
    await asyncio.sleep(0)
    assert events == ["send 0", "send 1", "send 2"]
    answers[1].set()
    answers[2].set()
    await lanes.submit(send(3), finish)
    await asyncio.sleep(0)
    assert "send 3" in events
    for n in (3, 4, 5):
        answers[n].set()
    await lanes.submit(send(4), finish)
    await lanes.submit(send(5), finish)
    await lanes.drain()
    finishes = [event for event in events if event.startswith("finish")]
    assert finishes == [f"finish {n}" for n in range(6)]
    assert events.index("send 2") < events.index("finish 0")
