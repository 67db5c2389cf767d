"""Webhook delivery on both engines: the worker in this process, sending to a real HTTP receiver on 127.0.0.1.

Outbox rows and subscriptions are written with SQL, as the outbox and /v1/webhooks write them.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from orderline.application.use_cases import UseCases
from orderline.bootstrap import build, worker_beside
from orderline.config import Settings
from tests.support import FAST_HASHER, TEST_GATEWAY_SECRET, Db, engine_settings
from tests.webhooks import (
    OTHER_SECRET,
    SECRET,
    Received,
    a_subscription,
    always,
    deliveries_of,
    events_written,
    receiving,
    subscription_state,
)

ORDER = uuid.UUID("0193a1b2-0000-7000-8000-000000000001")


def fast(database_url: str, **fields: Any) -> Settings:
    """Retries within milliseconds, short timeouts, loopback receivers allowed, no payment recovery."""
    values: dict[str, Any] = {
        "refund_poll_seconds": 0,
        "test_gateway_secret": TEST_GATEWAY_SECRET,
        "webhooks_allow_private": True,
        "webhook_backoff_base": 0.02,
        "webhook_backoff_cap": 0.1,
        "worker_poll_seconds": 0.05,
        "webhook_connect_timeout": 2,
        "webhook_read_timeout": 2,
        "webhook_write_timeout": 2,
        "webhook_pool_timeout": 2,
    }
    return engine_settings(database_url, **(values | fields))


@asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[UseCases]:
    """The use cases (the real clock) with the worker running beside them until the block ends."""
    use_cases = await build(settings, hasher=FAST_HASHER)
    try:
        async with worker_beside(settings, use_cases):
            yield use_cases
    finally:
        await use_cases.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    """Poll ``check`` (the worker and the receiver run elsewhere: there is no event to wait on here)."""
    try:
        async with asyncio.timeout(within):
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not seen within {within:g} s: {what}") from None


async def settled(db: Db, subscription_id: uuid.UUID, count: int) -> bool:
    rows = await deliveries_of(db, subscription_id)
    return len(rows) == count and all(row["status"] != "PENDING" for row in rows)


async def test_a_delivery_verifies_with_the_standardwebhooks_library(database_url: str, db: Db) -> None:
    with receiving() as receiver:
        await a_subscription(db, receiver.url())
        [event_id] = await events_written(db, ("order.created", ORDER))

        async with worker(fast(database_url)):
            await eventually(lambda: _count(receiver.on("/hook"), 1), "the delivery")

    [request] = receiver.on("/hook")
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["eventId"] == str(event_id)
    assert request.headers["webhook-id"] == str(event_id)
    assert request.headers["Content-Type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER_SECRET).verify(request.body, request.headers)


async def test_events_go_to_the_active_subscriptions_whose_patterns_match_and_order_callbacks_to_their_order(
    database_url: str, db: Db
) -> None:
    other_order = uuid.uuid4()
    with receiving() as receiver:
        orders_only = await a_subscription(db, receiver.url("/orders"), ["order.*"])
        await a_subscription(db, receiver.url("/payments"), ["payment.succeeded"])
        await a_subscription(db, receiver.url("/all"), ["*"])
        await a_subscription(db, receiver.url("/inactive"), ["*"], active=False)
        await a_subscription(db, receiver.url("/callback"), ["order.processed"], order_id=ORDER)
        await events_written(
            db,
            ("order.created", ORDER),
            ("payment.succeeded", other_order),
            ("order.processed", other_order),
            ("order.processed", ORDER),
        )
        await events_written(db, ("ping", None), subscription_id=orders_only)

        async with worker(fast(database_url)):
            await eventually(lambda: _count(receiver.received, 10), "every delivery")
            await asyncio.sleep(0.2)  # room for a wrong extra delivery to arrive

    def types(path: str) -> list[str]:
        return sorted(event["eventType"] for event in receiver.events(path))

    assert types("/orders") == ["order.created", "order.processed", "order.processed", "ping"]
    assert types("/payments") == ["payment.succeeded"]
    assert types("/all") == ["order.created", "order.processed", "order.processed", "payment.succeeded"]
    assert types("/inactive") == []
    assert [event["data"]["orderId"] for event in receiver.events("/callback")] == [str(ORDER)]


async def test_a_receiver_answering_410_disables_its_subscription_and_its_other_deliveries_stop(
    database_url: str, db: Db
) -> None:
    with receiving(always(410)) as receiver:
        subscription = await a_subscription(db, receiver.url())
        await events_written(db, ("order.created", ORDER), ("order.statusChanged", ORDER))
        await events_written(db, ("order.created", uuid.uuid4()))

        async with worker(fast(database_url)):
            await eventually(lambda: _disabled(db, subscription), "the subscription disabled")
            await asyncio.sleep(0.3)  # room for a wrong further attempt

    assert await subscription_state(db, subscription) == (False, "the receiver answered 410 Gone")
    first, second, other_order = [
        (row["status"], row["last_status_code"]) for row in await deliveries_of(db, subscription)
    ]
    assert (first, second) == (("DEAD", 410), ("PENDING", None))
    assert other_order in {("DEAD", 410), ("PENDING", None)}  # sent at the same time as the first, or not
    assert len(receiver.received) == 1 + (other_order[0] == "DEAD")


async def test_a_delivery_is_dead_after_the_maximum_attempts_each_with_the_same_webhook_id(
    database_url: str, db: Db
) -> None:
    with receiving(always(500)) as receiver:
        subscription = await a_subscription(db, receiver.url())
        [event_id] = await events_written(db, ("order.created", ORDER))

        async with worker(fast(database_url, webhook_max_attempts=3)):
            await eventually(lambda: settled(db, subscription, 1), "the delivery dead")

    [delivery] = await deliveries_of(db, subscription)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("DEAD", 3, 500)
    assert delivery["last_response"] == "noted"
    assert [request.headers["webhook-id"] for request in receiver.received] == [str(event_id)] * 3


async def test_during_a_rotation_each_delivery_is_signed_with_both_secrets_until_the_previous_expires(
    database_url: str, db: Db
) -> None:
    with receiving() as receiver:
        await a_subscription(
            db, receiver.url("/rotating"), previous_secret=OTHER_SECRET, previous_expires_in=timedelta(hours=1)
        )
        await a_subscription(
            db, receiver.url("/expired"), previous_secret=OTHER_SECRET, previous_expires_in=timedelta(hours=-1)
        )
        await events_written(db, ("order.created", ORDER))

        async with worker(fast(database_url)):
            await eventually(lambda: _count(receiver.received, 2), "both deliveries")

    [rotating] = receiver.on("/rotating")
    assert len(rotating.headers["webhook-signature"].split(" ")) == 2
    assert len(rotating.headers["X-Webhook-Signature"].split(",v1=")) == 3
    Webhook(SECRET).verify(rotating.body, rotating.headers)
    Webhook(OTHER_SECRET).verify(rotating.body, rotating.headers)
    [expired] = receiver.on("/expired")
    assert len(expired.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER_SECRET).verify(expired.body, expired.headers)


async def test_a_destination_on_a_private_address_is_refused_unless_allowed(database_url: str, db: Db) -> None:
    with receiving() as receiver:
        subscription = await a_subscription(db, receiver.url())
        await events_written(db, ("order.created", ORDER))

        async with worker(fast(database_url, webhooks_allow_private=False, webhook_max_attempts=2)):
            await eventually(lambda: settled(db, subscription, 1), "the delivery dead")

    [delivery] = await deliveries_of(db, subscription)
    assert delivery["status"] == "DEAD"
    assert delivery["last_response"].startswith("destination refused: webhooks cannot be sent to http://127.0.0.1:")
    assert delivery["last_response"].endswith("its host is or resolves to 127.0.0.1, which is not a public address")
    assert receiver.received == []


async def test_a_receiver_that_never_answers_does_not_hold_up_other_subscriptions(database_url: str, db: Db) -> None:
    release = threading.Event()

    def hang(received: Received, _count: int) -> int:
        if received.path == "/silent":
            release.wait(30)
        return 204

    with receiving(hang) as receiver:
        await a_subscription(db, receiver.url("/silent"))
        await a_subscription(db, receiver.url("/prompt"))
        await events_written(db, *(("order.created", uuid.uuid4()) for _ in range(20)))
        settings = fast(database_url, webhook_concurrency=4, webhook_per_subscription=2, webhook_read_timeout=30)

        try:
            async with worker(settings):
                await eventually(lambda: _count(receiver.on("/prompt"), 20), "the prompt receiver's events")
                silent_meanwhile = len(receiver.on("/silent"))
                release.set()
        finally:
            release.set()

    assert silent_meanwhile <= 2


async def test_a_later_event_of_an_order_waits_for_an_earlier_one_still_undispatched(database_url: str, db: Db) -> None:
    settings = fast(database_url)
    use_cases = await build(settings, hasher=FAST_HASHER)
    try:
        subscription = await a_subscription(db, "http://127.0.0.1:9/hook")
        first, second = await events_written(db, ("order.created", ORDER), ("order.statusChanged", ORDER))
        await _dispatch_only(db, second, subscription)  # as a second relay on PostgreSQL may commit first

        before = await use_cases.deliveries.claim(10, lease=timedelta(seconds=30), per_subscription=10)
        await use_cases.deliveries.relay(10)
        after = await use_cases.deliveries.claim(10, lease=timedelta(seconds=30), per_subscription=10)
    finally:
        await use_cases.close()

    assert before == []
    assert [delivery.event_id for delivery in after] == [first]


async def _dispatch_only(db: Db, event_id: uuid.UUID, subscription: uuid.UUID) -> None:
    async with db.transaction() as uow:
        row = await uow.connection.fetch_one("SELECT seq FROM outbox WHERE id = :id", {"id": event_id})
        assert row is not None
        await uow.connection.execute(
            "INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_seq, order_id, status, attempts,"
            " next_attempt_at, created_at) VALUES (:id, :sub, :event, :seq, :order, 'PENDING', 0,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            {"id": uuid.uuid4(), "sub": subscription, "event": event_id, "seq": row["seq"], "order": ORDER},
        )
        await uow.connection.execute(
            "UPDATE outbox SET dispatched_at = CURRENT_TIMESTAMP WHERE id = :id", {"id": event_id}
        )
        await uow.commit()


async def _count(requests: list[Any], at_least: int) -> bool:
    return len(requests) >= at_least


async def _disabled(db: Db, subscription: uuid.UUID) -> bool:
    active, _ = await subscription_state(db, subscription)
    return not active
