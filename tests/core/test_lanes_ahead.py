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
