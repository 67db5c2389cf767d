"""The outbox as live streams read it, on each engine; on PostgreSQL, transactions that commit out of seq order.

A stream that has served an event must never later meet one that sorts before it, or it would skip it on
resume: PostgreSQL numbers rows before they commit, so the feed holds back events of transactions younger
than one still running (ADR 0030)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from orderline.application.ports import START, StreamPosition
from orderline.application.principal import PUBLIC
from orderline.storage.outbox_feed import SqlOutboxFeed
from tests.e2e.sse import write_event
from tests.support import ENGINES, Db

INSERT = (
    "INSERT INTO outbox (id, event_type, payload, occurred_at) VALUES ($1, 'ping', '{}'::jsonb, now()) RETURNING seq"
)


@pytest.fixture
async def postgres(database_url: str) -> AsyncIterator[list[asyncpg.Connection[asyncpg.Record]]]:
    """Two connections of their own, to hold transactions open (the tests using it run on PostgreSQL only)."""
    connections = [await asyncpg.connect(database_url) for _ in range(2)]
    try:
        yield connections
    finally:
        for connection in connections:
            await connection.close()


async def _insert(connection: asyncpg.Connection[asyncpg.Record]) -> int:
    return int(await connection.fetchval(INSERT, uuid.uuid4()))


async def test_a_stream_starts_after_the_newest_event_and_reads_what_follows_in_order(db: Db) -> None:
    feed = SqlOutboxFeed(db)
    before = await write_event(db, None, "ping")
    head = await feed.head(PUBLIC, None)

    written = [await write_event(db, None, "ping") for _ in range(3)]
    batch = await feed.after(PUBLIC, head, None, limit=10)

    # On PostgreSQL the head stays behind the oldest transaction running anywhere in the cluster (transaction ids
    # are cluster-wide: another test's database counts), so it may sit just before the event written first.
    assert [entry.position.seq for entry in batch.entries] in (written, [before, *written])
    assert not batch.held_back
    assert (await feed.after(PUBLIC, batch.entries[-1].position, None, limit=10)).entries == []


async def test_a_batch_is_never_larger_than_asked(db: Db) -> None:
    feed = SqlOutboxFeed(db)
    written = [await write_event(db, None, "ping") for _ in range(5)]

    batch = await feed.after(PUBLIC, START, None, limit=2)

    assert [entry.position.seq for entry in batch.entries] == written[:2]


async def test_an_event_is_found_by_its_seq_only_in_its_own_orders_stream(db: Db) -> None:
    feed = SqlOutboxFeed(db)
    order_id = str(uuid.uuid4())
    seq = await write_event(db, order_id)

    assert (await feed.position_of(PUBLIC, seq, uuid.UUID(order_id))) is not None
    assert (await feed.position_of(PUBLIC, seq, None)) is not None
    assert (await feed.position_of(PUBLIC, seq, uuid.uuid4())) is None
    assert (await feed.position_of(PUBLIC, seq + 1000, None)) is None


@pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)
async def test_an_event_numbered_earlier_but_committed_later_is_served_not_skipped(
    db: Db, postgres: list[asyncpg.Connection[asyncpg.Record]]
) -> None:
    feed = SqlOutboxFeed(db)
    early, late = postgres
    start = await feed.head(PUBLIC, None)
    async with early.transaction():
        first = await _insert(early)
        async with late.transaction():
            second = await _insert(late)
        held = await feed.after(PUBLIC, start, None, limit=10)

    served = await feed.after(PUBLIC, start, None, limit=10)

    assert first < second
    assert held.entries == []
    assert held.held_back
    assert [entry.position.seq for entry in served.entries] == [first, second]


@pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)
async def test_an_older_transaction_that_numbers_its_event_last_still_comes_first_and_resuming_skips_nothing(
    db: Db, postgres: list[asyncpg.Connection[asyncpg.Record]]
) -> None:
    feed = SqlOutboxFeed(db)
    older, younger = postgres
    start = await feed.head(PUBLIC, None)
    async with older.transaction():
        await older.fetchval("SELECT pg_current_xact_id()")  # it has written something: it holds an id
        async with younger.transaction():
            numbered_first = await _insert(younger)
        held = await feed.after(PUBLIC, start, None, limit=10)
        numbered_last = await _insert(older)

    served = await feed.after(PUBLIC, start, None, limit=10)
    resumed = await feed.position_of(PUBLIC, numbered_last, None)

    assert held.entries == []
    assert held.held_back
    assert [entry.position.seq for entry in served.entries] == [numbered_last, numbered_first]
    assert resumed is not None
    assert [entry.position.seq for entry in (await feed.after(PUBLIC, resumed, None, limit=10)).entries] == [
        numbered_first
    ]


@pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)
async def test_a_rolled_back_event_leaves_a_gap_that_holds_nothing_back(
    db: Db, postgres: list[asyncpg.Connection[asyncpg.Record]]
) -> None:
    feed = SqlOutboxFeed(db)
    connection, _ = postgres
    start = await feed.head(PUBLIC, None)
    transaction = connection.transaction()
    await transaction.start()
    await _insert(connection)
    await transaction.rollback()

    after = await write_event(db, None, "ping")
    batch = await feed.after(PUBLIC, start, None, limit=10)

    assert [entry.position.seq for entry in batch.entries] == [after]
    assert batch.held_back is False
    assert isinstance(batch.entries[0].position, StreamPosition)
