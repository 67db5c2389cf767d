"""A live stream's loop on a fake outbox feed: batches, heartbeats, wake-ups, its end, and the stream limits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from orderline.application.event_stream import (
    BATCH,
    EventStream,
    Heartbeat,
    OutboxBell,
    StreamClock,
    StreamedEvent,
    StreamItem,
    StreamSlots,
    StreamTiming,
    TooManyStreams,
)
from orderline.application.ports import START, OutboxBatch, OutboxEntry, StreamPosition
from orderline.application.principal import Principal, PrincipalKind

QUIET = StreamTiming(heartbeat=3600, poll=3600, max_seconds=0)


class FakeFeed:
    """An outbox of ``size`` events (None: endless), counting the reads a stream makes."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size
        self.reads = 0

    async def head(self, tenant: uuid.UUID, order_id: uuid.UUID | None) -> StreamPosition:
        return START

    async def position_of(self, tenant: uuid.UUID, seq: int, order_id: uuid.UUID | None) -> StreamPosition | None:
        return StreamPosition(0, seq)

    async def after(
        self, tenant: uuid.UUID, position: StreamPosition, order_id: uuid.UUID | None, limit: int
    ) -> OutboxBatch:
        self.reads += 1
        last = position.seq + limit if self.size is None else min(self.size, position.seq + limit)
        seqs = range(position.seq + 1, last + 1)
        return OutboxBatch([OutboxEntry(StreamPosition(0, seq), "ping", "{}") for seq in seqs])


def _streams(feed: FakeFeed, bell: OutboxBell | None = None, timing: StreamTiming = QUIET) -> EventStream:
    db: Any = None  # never touched: these tests follow a stream already opened
    return EventStream(db, feed, bell or OutboxBell(), StreamSlots(10, 10), timing)


def _follow(streams: EventStream, released: list[bool] | None = None) -> AsyncGenerator[StreamItem]:
    return streams.follow(None, START, lambda: (released if released is not None else []).append(True))


async def test_a_consumer_that_stops_reading_holds_one_batch_and_the_stream_reads_no_further() -> None:
    feed = FakeFeed()
    items = _follow(_streams(feed))

    first = await anext(items)
    await asyncio.sleep(0)

    assert first == StreamedEvent(1, "ping", "{}")
    assert feed.reads == 1
    await items.aclose()


async def test_a_stream_reads_on_batch_after_batch_while_events_wait() -> None:
    feed = FakeFeed(size=BATCH * 2 + 1)
    items = _follow(_streams(feed))

    seqs = [item.seq for item in [await anext(items) for _ in range(BATCH * 2 + 1)] if isinstance(item, StreamedEvent)]

    assert seqs == list(range(1, BATCH * 2 + 2))
    await items.aclose()


async def test_a_quiet_stream_sends_heartbeats() -> None:
    items = _follow(_streams(FakeFeed(size=0), timing=StreamTiming(heartbeat=0.01, poll=3600, max_seconds=0)))

    assert isinstance(await anext(items), Heartbeat)
    await items.aclose()


async def test_a_ring_wakes_a_waiting_stream_which_reads_what_is_new() -> None:
    feed, bell = FakeFeed(size=0), OutboxBell()
    items = _follow(_streams(feed, bell))
    waiting = asyncio.ensure_future(anext(items))
    await asyncio.sleep(0.01)  # let it read (nothing) and start waiting; the outcome does not depend on it

    feed.size = 1
    bell.ring()

    assert await waiting == StreamedEvent(1, "ping", "{}")
    await items.aclose()


async def test_stopping_ends_every_stream_cleanly_and_gives_its_slot_back() -> None:
    bell, released = OutboxBell(), list[bool]()
    items = _follow(_streams(FakeFeed(size=0), bell), released)
    waiting = asyncio.ensure_future(anext(items))
    await asyncio.sleep(0)

    bell.stop()

    with pytest.raises(StopAsyncIteration):
        await waiting
    assert released == [True]


async def test_a_stream_ends_when_its_time_is_up() -> None:
    items = _follow(_streams(FakeFeed(size=0), timing=StreamTiming(heartbeat=3600, poll=3600, max_seconds=0.01)))

    assert [item async for item in items] == []


def _someone() -> Principal:
    return Principal(PrincipalKind.USER, uuid.uuid4())


def test_a_principal_past_its_limit_is_refused_until_it_closes_a_stream() -> None:
    slots, alice = StreamSlots(limit=10, per_principal=2), _someone()
    first = slots.take(alice)
    slots.take(alice)

    with pytest.raises(TooManyStreams):
        slots.take(alice)
    first()
    first()  # giving a slot back twice gives it back once
    slots.take(alice)
    with pytest.raises(TooManyStreams):
        slots.take(alice)


def test_past_the_overall_limit_everyone_is_refused() -> None:
    slots = StreamSlots(limit=2, per_principal=2)
    slots.take(_someone())
    slots.take(_someone())

    with pytest.raises(TooManyStreams):
        slots.take(_someone())
    assert slots.open == 2


class StoppedClock:
    """An event loop's clock that does not move: only the waits a stream asks for are tested."""

    def time(self) -> float:
        return 100.0


def test_while_events_are_held_back_a_stream_reads_again_soon_then_less_and_less_often() -> None:
    loop: Any = StoppedClock()
    quiet = StreamClock(loop, StreamTiming(heartbeat=3600, poll=1.0, max_seconds=0))

    held = [quiet.wait(held_back=True) for _ in range(6)]
    released = quiet.wait(held_back=False)
    held_again = quiet.wait(held_back=True)

    assert held == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0]
    assert (released, held_again) == (1.0, 0.05)
