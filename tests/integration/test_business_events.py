"""One log line per business event, and the counts /metrics shows, from what the use cases committed.

On SQLite and PostgreSQL, through the use cases wired as `orderline serve` wires them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from orderline.application.business_events import BusinessCounts, EventName
from orderline.application.operations import PENDING_READ_TIMEOUT_SECONDS, Operations
from orderline.application.orders import CancelOrder
from orderline.application.payments import PayOrder
from orderline.application.use_cases import UseCases
from orderline.domain.errors import OrderNotCancellable, PaymentDeclined
from orderline.domain.order import CancelReason
from orderline.gateways.testmode import DECLINED, REFUND_FAILS_LATER, REFUNDS_LATER
from orderline.storage.database import DatabaseUrl, open_database
from tests.support import ADMIN, Db, SteppingClock, a_card_input, a_pet, an_order, approve, in_status

AFTER_THE_REFUND_DELAY = timedelta(seconds=3)  # the test gateway settles asynchronous refunds after 2 s
EVENTS = {name.value for name in EventName}

Flow = Callable[[UseCases, SteppingClock], Awaitable[object]]


async def placed(use_cases: UseCases, _: SteppingClock) -> None:
    await an_order(use_cases, await a_pet(use_cases))


async def paid(use_cases: UseCases, _: SteppingClock) -> None:
    await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)))


async def declined(use_cases: UseCases, _: SteppingClock) -> None:
    order = await an_order(use_cases, await a_pet(use_cases))
    with contextlib.suppress(PaymentDeclined):
        await use_cases.payments.pay(ADMIN, PayOrder(order.id, str(order.total), "USD", a_card_input(DECLINED)))


async def cancelled(use_cases: UseCases, _: SteppingClock) -> None:
    order = await an_order(use_cases, await a_pet(use_cases))
    await use_cases.orders.cancel(ADMIN, CancelOrder(order.id, CancelReason.FRAUD))


async def cancelled_and_refunded(use_cases: UseCases, _: SteppingClock) -> None:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)))
    await use_cases.orders.cancel(ADMIN, CancelOrder(order.id, CancelReason.DUPLICATE))


async def refund_failed(use_cases: UseCases, clock: SteppingClock) -> None:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)), REFUND_FAILS_LATER)
    await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()


async def delivered(use_cases: UseCases, _: SteppingClock) -> None:
    await in_status(use_cases, await a_pet(use_cases), "DELIVERED")


async def erased(use_cases: UseCases, _: SteppingClock) -> None:
    order = await an_order(use_cases, await a_pet(use_cases))
    await use_cases.orders.erase(ADMIN, order.id)


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (placed, ["order placed"]),
        (paid, ["order placed", "payment succeeded"]),
        (declined, ["order placed", "payment failed"]),
        (cancelled, ["order placed", "order cancelled"]),
        (
            cancelled_and_refunded,
            ["order placed", "payment succeeded", "order cancel requested", "refund succeeded", "order cancelled"],
        ),
        (refund_failed, ["order placed", "payment succeeded", "order cancel requested", "refund failed"]),
        (delivered, ["order placed", "payment succeeded", "order shipped", "order delivered"]),
        (erased, ["order placed", "order erased"]),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
async def test_each_committed_business_event_is_one_log_line(
    use_cases: UseCases, clock: SteppingClock, flow: Flow, expected: list[str]
) -> None:
    with capture_logs() as lines:
        await flow(use_cases, clock)

    assert [line["event"] for line in lines if line["event"] in EVENTS] == expected


async def test_a_cancelled_order_logs_its_reason(use_cases: UseCases, clock: SteppingClock) -> None:
    with capture_logs() as lines:
        await cancelled(use_cases, clock)

    [line] = [line for line in lines if line["event"] == "order cancelled"]
    assert (line["reason"], line["forced"]) == ("FRAUD", False)


async def test_a_refused_command_logs_no_business_event_and_counts_nothing(use_cases: UseCases) -> None:
    shipped = await in_status(use_cases, await a_pet(use_cases), "SHIPPED")
    before = (await use_cases.operations.readings()).events

    with capture_logs() as lines, pytest.raises(OrderNotCancellable):
        await use_cases.orders.cancel(ADMIN, CancelOrder(shipped.id))  # not forced: shipped is too late

    assert [line for line in lines if line["event"] in EVENTS] == []
    assert (await use_cases.operations.readings()).events == before


async def test_committed_events_are_counted_cancellations_by_reason(use_cases: UseCases, clock: SteppingClock) -> None:
    await cancelled(use_cases, clock)
    await cancelled_and_refunded(use_cases, clock)
    await declined(use_cases, clock)

    counted = (await use_cases.operations.readings()).events

    assert counted == {
        (EventName.ORDER_PLACED, ""): 3,
        (EventName.ORDER_CANCELLED, "FRAUD"): 1,
        (EventName.ORDER_CANCELLED, "DUPLICATE"): 1,
        (EventName.PAYMENT_SUCCEEDED, ""): 1,
        (EventName.PAYMENT_FAILED, ""): 1,
        (EventName.CANCEL_REQUESTED, ""): 1,
        (EventName.REFUND_SUCCEEDED, ""): 1,
    }


async def test_a_cancel_completed_by_a_later_refund_is_counted_under_the_reason_it_was_asked_with(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)), REFUNDS_LATER)
    await use_cases.orders.cancel(ADMIN, CancelOrder(order.id, CancelReason.OUT_OF_STOCK))
    clock.advance(AFTER_THE_REFUND_DELAY)

    await use_cases.refunds.settle_pending()

    counted = (await use_cases.operations.readings()).events
    assert counted[EventName.ORDER_CANCELLED, "OUT_OF_STOCK"] == 1


async def test_refunds_pending_are_read_from_the_database_until_they_settle(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)), REFUNDS_LATER)
    await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))
    pending = (await use_cases.operations.readings()).refunds_pending
    clock.advance(AFTER_THE_REFUND_DELAY)

    await use_cases.refunds.settle_pending()

    assert pending == 1
    assert (await use_cases.operations.readings()).refunds_pending == 0


async def test_the_pool_usage_counts_a_connection_in_use_while_a_transaction_holds_it(db: Db) -> None:
    idle = db.usage()

    async with db.snapshot():
        busy = db.usage()

    assert (busy.in_use, busy.idle) == (idle.in_use + 1, idle.idle - 1)
    assert busy.in_use + busy.idle <= busy.limit


async def test_refunds_pending_are_left_out_when_the_database_cannot_answer_in_time(database_url: str) -> None:
    database = await open_database(DatabaseUrl.parse(database_url), pool_size=1)
    operations = Operations(database, BusinessCounts())
    try:
        async with database.snapshot():  # the only connection, held: the read waits for it
            started = time.monotonic()
            readings = await operations.readings()
            waited = time.monotonic() - started
    finally:
        await database.close()

    assert readings.refunds_pending is None
    assert readings.pool.in_use == 1
    assert waited < 10 * PENDING_READ_TIMEOUT_SECONDS  # does not hang
