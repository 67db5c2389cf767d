"""`orderline worker` and `serve` as real processes, delivering to a real HTTP receiver on 127.0.0.1.

kill -9 in the middle of a batch loses nothing; a receiver failing for a while gets every event, each order's
in order; two workers on one database never deliver an event twice; `serve` runs the worker itself on SQLite
only; SIGTERM stops a worker cleanly.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.process import run, serving, working
from tests.support import ENGINES, TEST_GATEWAY_SECRET, TEST_JWT_SECRET, Db
from tests.webhooks import Received, a_subscription, deliveries_of, events_written, receiving

# Short timeouts (so a killed worker's leases run out in 7 s), quick retries, loopback receivers allowed.
FAST = {
    "ORDERLINE_WEBHOOKS_ALLOW_PRIVATE": "true",
    "ORDERLINE_WEBHOOK_CONNECT_TIMEOUT": "0.5",
    "ORDERLINE_WEBHOOK_READ_TIMEOUT": "0.5",
    "ORDERLINE_WEBHOOK_WRITE_TIMEOUT": "0.5",
    "ORDERLINE_WEBHOOK_POOL_TIMEOUT": "0.5",
    "ORDERLINE_WEBHOOK_BACKOFF_BASE": "0.05",
    "ORDERLINE_WEBHOOK_BACKOFF_CAP": "0.2",
    "ORDERLINE_WORKER_POLL_SECONDS": "0.05",
    "ORDERLINE_REFUND_POLL_SECONDS": "0",
}


def env(database_url: str, **settings: str) -> dict[str, str]:
    return {
        "ORDERLINE_DATABASE_URL": database_url,
        "ORDERLINE_JWT_SECRET": TEST_JWT_SECRET,
        "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET,
        **FAST,
        **{f"ORDERLINE_{name.upper()}": value for name, value in settings.items()},
    }


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not seen within {within:g} s: {what}"
        await asyncio.sleep(0.05)


async def all_delivered(db: Db, subscription: uuid.UUID, count: int) -> bool:
    rows = await deliveries_of(db, subscription)
    return len(rows) == count and all(row["status"] == "DELIVERED" for row in rows)


def by_event(received: list[Received]) -> collections.Counter[str]:
    for request in received:
        assert request.headers["webhook-id"] == request.event["eventId"]  # every attempt: the event's own id
    return collections.Counter(request.headers["webhook-id"] for request in received)


async def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_the_batch_in_flight(
    database_url: str, db: Db, tmp_path: Path
) -> None:
    def slowly(_received: Received, _count: int) -> int:
        time.sleep(0.02)  # the receiver takes a moment, so a batch is always in flight
        return 204

    orders = [uuid.uuid4() for _ in range(20)]
    with receiving(slowly) as receiver:
        subscription = await a_subscription(db, receiver.url())
        written = await events_written(db, *((f"order.step{step}", order) for step in range(10) for order in orders))
        settings = env(database_url, webhook_concurrency="16", webhook_per_subscription="16")

        with working(cwd=tmp_path, env=settings) as dying:
            await eventually(lambda: _received_at_least(receiver.received, 60), "a third of the deliveries")
            os.kill(dying.pid, signal.SIGKILL)
            dying.process.wait(timeout=10)
        with working(cwd=tmp_path, env=settings):
            await eventually(lambda: all_delivered(db, subscription, len(written)), "every event delivered")

    counts = by_event(receiver.received)
    assert set(counts) == {str(event_id) for event_id in written}  # none lost
    assert sum(1 for seen in counts.values() if seen > 1) <= 16  # repeats: at most the deliveries in flight
    assert max(counts.values()) <= 2
    for order in orders:  # and each order's events still arrived in turn
        sent = [request.headers["webhook-id"] for request in receiver.received if _order(request) == str(order)]
        expected = [str(event_id) for event_id in written if str(event_id) in sent]
        assert [event_id for event_id, _ in itertools.groupby(sent)] == expected


async def test_a_receiver_that_fails_for_a_while_then_recovers_gets_every_event_in_order_per_order(
    database_url: str, db: Db, tmp_path: Path
) -> None:
    orders = [uuid.uuid4() for _ in range(5)]
    with receiving(lambda _received, count: 500 if count < 40 else 204) as receiver:
        subscription = await a_subscription(db, receiver.url())
        written = await events_written(db, *((f"order.step{step}", order) for step in range(4) for order in orders))

        with working(cwd=tmp_path, env=env(database_url, webhook_max_attempts="100")):
            await eventually(lambda: all_delivered(db, subscription, len(written)), "every event delivered")

    assert len(receiver.received) >= 40 + len(written)  # the 40 failures, retried, then each event once more
    for order in orders:
        sent = [request.headers["webhook-id"] for request in receiver.received if _order(request) == str(order)]
        in_turn = [event_id for event_id, _ in itertools.groupby(sent)]  # an event's retries come together
        assert in_turn == [str(event_id) for event_id in written if str(event_id) in set(sent)]
        assert len(in_turn) == 4


async def test_two_workers_on_one_database_deliver_a_burst_of_500_events_once_each(
    database_url: str, db: Db, tmp_path: Path
) -> None:
    with receiving() as receiver:
        subscription = await a_subscription(db, receiver.url())
        # A read timeout lets the sender try again an event the receiver got but answered late: at least once, as
        # webhooks are (receivers deduplicate by webhook-id). On a loaded machine this test's receiver (one Python
        # process answering 32 senders) passed 0.5 s; what is tested here is that no event is claimed twice.
        settings = env(database_url, webhook_concurrency="16", webhook_per_subscription="32", webhook_read_timeout="10")

        with working(cwd=tmp_path, env=settings), working(cwd=tmp_path, env=settings):
            written = await events_written(db, *((f"order.burst{n % 5}", uuid.uuid4()) for n in range(500)))
            await eventually(lambda: all_delivered(db, subscription, 500), "every event delivered")

    counts = by_event(receiver.received)
    assert set(counts) == {str(event_id) for event_id in written}
    assert max(counts.values()) == 1


async def test_a_worker_stops_cleanly_on_sigterm(database_url: str, tmp_path: Path) -> None:
    with working(cwd=tmp_path, env=env(database_url)) as worker:
        worker.wait_until_started()
        worker.process.send_signal(signal.SIGTERM)

        assert worker.process.wait(timeout=30) == 0
        assert "worker stopped" in worker.output()


@pytest.mark.parametrize("fresh_database", [ENGINES[0]], indirect=True)
async def test_serve_on_sqlite_delivers_webhooks_itself_unless_told_not_to(
    database_url: str, db: Db, tmp_path: Path
) -> None:
    with receiving() as receiver:
        subscription = await a_subscription(db, receiver.url())
        with serving("--no-worker", cwd=tmp_path, env=env(database_url)):
            await events_written(db, ("order.created", uuid.uuid4()))
            await asyncio.sleep(0.5)
            assert receiver.received == []

        with serving(cwd=tmp_path, env=env(database_url)):
            await eventually(lambda: all_delivered(db, subscription, 1), "the event delivered by serve")


@pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)
async def test_serve_on_postgresql_runs_no_worker_and_says_to_run_orderline_worker(
    database_url: str, db: Db, tmp_path: Path
) -> None:
    with receiving() as receiver:
        await a_subscription(db, receiver.url())
        with serving(cwd=tmp_path, env=env(database_url)) as server:
            await events_written(db, ("order.created", uuid.uuid4()))
            await asyncio.sleep(0.5)

            assert receiver.received == []
            assert "run `orderline worker` beside it" in server.output()


async def test_a_test_ping_through_the_api_reaches_the_receiver_signed_with_the_secret_the_api_gave(
    database_url: str, tmp_path: Path
) -> None:
    settings = env(database_url)
    made = run(
        "keys", "create", "--name", "hooks", "--scopes", "write:webhooks", cwd=tmp_path, env=os.environ | settings
    )
    headers = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    # serve runs the worker itself on SQLite; on PostgreSQL it runs in a process of its own.
    worker = working(cwd=tmp_path, env=settings) if database_url.startswith("postgresql") else nullcontext()
    with receiving() as receiver, serving(cwd=tmp_path, env=settings) as server, worker:
        async with httpx.AsyncClient(base_url=server.base, headers=headers) as api:
            created = (await api.post("/v1/webhooks", json={"url": receiver.url(), "events": ["order.*"]})).json()
            ping = (await api.post(f"/v1/webhooks/{created['id']}/test")).json()
            await eventually(lambda: _received_at_least(receiver.received, 1), "the ping")

            async def delivered() -> bool:
                listed = (await api.get(f"/v1/webhooks/{created['id']}/deliveries")).json()["data"]
                return [delivery["status"] for delivery in listed] == ["DELIVERED"]

            await eventually(delivered, "the delivery listed as DELIVERED")

    [request] = receiver.received
    event = Webhook(created["secret"]).verify(request.body, request.headers)
    assert (event["eventId"], event["eventType"]) == (ping["eventId"], "ping")
    assert request.headers["webhook-id"] == ping["eventId"]


async def _received_at_least(received: list[Received], count: int) -> bool:
    return len(received) >= count


def _order(request: Received) -> str:
    order: str = request.event["data"]["orderId"]
    return order
