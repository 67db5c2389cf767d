"""Every state change writes its events to the outbox in the same transaction as the change and its audit entry;
a refused or rolled-back command writes none. On SQLite and PostgreSQL, through the use cases as `serve` wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest

from orderline.application.audit import Action, AuditEntry, EntityType, Record
from orderline.application.bulk_cancel import BulkCancel
from orderline.application.events import EventType, envelope
from orderline.application.gateway import ChargeOutcome, PaymentGateway
from orderline.application.order_edits import RemoveLine
from orderline.application.orders import CancelOrder, LineRequest, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.ports import EventRecord, Sighted
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.address import Address
from orderline.domain.errors import (
    OrderNotCancellable,
    OrderNotPayable,
    OutOfStock,
    PaymentDeclined,
    PaymentMismatch,
)
from orderline.domain.money import Money
from orderline.domain.order import CancelReason
from orderline.gateways.testmode import DECLINED, REFUND_FAILS_LATER, REFUNDS_LATER
from orderline.http.api.event_wire import NativeBodies
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.driver import UniqueViolation
from tests.outbox import outbox, types
from tests.support import (
    ADMIN,
    CLERK,
    ENGINES,
    FAST_HASHER,
    START,
    Db,
    GatewayInFront,
    SteppingClock,
    a_card_input,
    a_pet,
    an_order,
    approve,
    in_status,
)

AFTER_THE_REFUND_DELAY = timedelta(seconds=3)  # the test gateway settles asynchronous refunds after 2 s
PAID = ["payment.succeeded", "order.statusChanged", "order.processed"]
CANCELLED = ["order.statusChanged", "order.cancelled", "order.processed"]

Flow = Callable[[UseCases, SteppingClock], Awaitable[UUID]]


async def placed(use_cases: UseCases, _: SteppingClock) -> UUID:
    return (await an_order(use_cases, await a_pet(use_cases), by=CLERK)).id


async def paid(use_cases: UseCases, _: SteppingClock) -> UUID:
    return (await approve(use_cases, await an_order(use_cases, await a_pet(use_cases), by=CLERK))).id


async def declined(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)
    with contextlib.suppress(PaymentDeclined):
        await use_cases.payments.pay(ADMIN, PayOrder(order.id, str(order.total), "USD", a_card_input(DECLINED)))
    return order.id


async def cancelled(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)
    return (await use_cases.orders.cancel(CLERK, CancelOrder(order.id, CancelReason.FRAUD))).id


async def refunded_at_once(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases), by=CLERK))
    return (await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))).id


async def cancel_pending(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases), by=CLERK), REFUNDS_LATER)
    return (await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))).id


async def refunded_later(use_cases: UseCases, clock: SteppingClock) -> UUID:
    order_id = await cancel_pending(use_cases, clock)
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()
    return order_id


async def refund_failed(use_cases: UseCases, clock: SteppingClock) -> UUID:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases), by=CLERK), REFUND_FAILS_LATER)
    await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()
    return order.id


async def shipped(use_cases: UseCases, _: SteppingClock) -> UUID:
    return (await in_status(use_cases, await a_pet(use_cases), "SHIPPED")).id


async def delivered(use_cases: UseCases, _: SteppingClock) -> UUID:
    return (await in_status(use_cases, await a_pet(use_cases), "DELIVERED")).id


async def force_cancelled(use_cases: UseCases, clock: SteppingClock) -> UUID:
    order_id = await shipped(use_cases, clock)
    return (await use_cases.orders.cancel(ADMIN, CancelOrder(order_id), force=True)).id


async def erased(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)
    await use_cases.orders.erase(ADMIN, order.id)
    return order.id


async def erased_then_refunded(use_cases: UseCases, clock: SteppingClock) -> UUID:
    """Erased while its cancel's refund was pending; the refund settles after (audited, but no event)."""
    order_id = await cancel_pending(use_cases, clock)
    await use_cases.orders.erase(ADMIN, order_id)
    clock.advance(AFTER_THE_REFUND_DELAY)
    assert await use_cases.refunds.settle_pending() == 1
    return order_id


async def erased_then_refund_failed(use_cases: UseCases, clock: SteppingClock) -> UUID:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases), by=CLERK), REFUND_FAILS_LATER)
    await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))
    await use_cases.orders.erase(ADMIN, order.id)
    clock.advance(AFTER_THE_REFUND_DELAY)
    assert await use_cases.refunds.settle_pending() == 1
    return order.id


async def item_removed(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await an_order(use_cases, await a_pet(use_cases, stock=2), quantity=2, by=CLERK)
    return (await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 1))).id


async def item_removed_and_refunded(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases, stock=2), quantity=2, by=CLERK))
    return (await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 1))).id


async def last_item_removed(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)
    return (await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1))).id


async def billing_address_changed(use_cases: UseCases, _: SteppingClock) -> UUID:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)
    address = Address("1 Main Street", "London", "N1 1AA", "GB")
    return (await use_cases.order_edits.change_billing_address(CLERK, order.id, address)).id


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (placed, ["order.created"]),
        (paid, ["order.created", *PAID]),
        (declined, ["order.created", "payment.failed"]),
        (cancelled, ["order.created", *CANCELLED]),
        (refunded_at_once, ["order.created", *PAID, "order.statusChanged", "order.cancelRequested",
                            "refund.succeeded", *CANCELLED]),
        (cancel_pending, ["order.created", *PAID, "order.statusChanged", "order.cancelRequested"]),
        (refunded_later, ["order.created", *PAID, "order.statusChanged", "order.cancelRequested",
                          "refund.succeeded", *CANCELLED]),
        (refund_failed, ["order.created", *PAID, "order.statusChanged", "order.cancelRequested",
                         "refund.failed", "order.statusChanged", "order.processed"]),
        (shipped, ["order.created", *PAID, "order.statusChanged"]),
        (delivered, ["order.created", *PAID, "order.statusChanged", "order.statusChanged", "order.processed"]),
        (force_cancelled, ["order.created", *PAID, "order.statusChanged", "order.statusChanged",
                           "order.cancelRequested", "refund.succeeded", *CANCELLED]),
        (erased, ["order.created", "order.erased"]),
        # A refund settling after its order was erased makes no event (docs/webhooks.md): its order is gone.
        (erased_then_refunded, ["order.created", *PAID, "order.statusChanged", "order.cancelRequested",
                                "order.erased"]),
        (erased_then_refund_failed, ["order.created", *PAID, "order.statusChanged", "order.cancelRequested",
                                     "order.erased"]),
        (item_removed, ["order.created", "order.itemRemoved"]),
        (item_removed_and_refunded, ["order.created", *PAID, "order.itemRemoved", "refund.succeeded"]),
        (last_item_removed, ["order.created", *CANCELLED]),
        (billing_address_changed, ["order.created", "order.updated"]),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)  # fmt: skip
async def test_each_use_case_writes_exactly_its_events(
    use_cases: UseCases, db: Db, clock: SteppingClock, flow: Flow, expected: list[str]
) -> None:
    order_id = await flow(use_cases, clock)

    assert await types(db) == expected
    assert {event.order_id for event in await outbox(db)} == {order_id}


async def test_an_event_is_its_envelope_with_the_order_as_the_native_api_shows_it(use_cases: UseCases, db: Db) -> None:
    order_id = await paid(use_cases, SteppingClock())

    created, succeeded, changed, processed = await outbox(db, order_id)

    order = NativeBodies().order(await use_cases.orders.get(ADMIN, order_id))
    assert set(created.payload) == {"eventId", "eventType", "timestamp", "data"}
    assert (created.payload["eventId"], created.payload["eventType"]) == (str(created.id), "order.created")
    assert created.data["order"]["status"] == "PLACED"
    assert succeeded.data["order"] == changed.data["order"] == processed.data["order"] == order
    assert (changed.data["previousStatus"], changed.data["newStatus"]) == ("PLACED", "APPROVED")
    assert changed.data["changedBy"] == f"api_key:{ADMIN.id}"
    assert changed.data["changedAt"] == order["updatedAt"]
    assert succeeded.data["payment"]["status"] == "SUCCEEDED"
    receipt = succeeded.data["receipt"]
    assert receipt["receiptId"] == "rcp_" + UUID(succeeded.data["payment"]["id"]).hex
    assert receipt["receiptUrl"] == f"http://127.0.0.1:8000/v1/receipts/{receipt['receiptId']}"


async def test_a_cancel_tells_why_and_who(use_cases: UseCases, db: Db) -> None:
    order_id = await cancelled(use_cases, SteppingClock())

    *_, cancel = [event for event in await outbox(db, order_id) if event.event_type == "order.cancelled"]

    assert {k: cancel.data[k] for k in ("reason", "note", "forced", "changedBy")} == {
        "reason": "FRAUD",
        "note": None,
        "forced": False,
        "changedBy": f"api_key:{CLERK.id}",
    }
    assert cancel.data["order"]["status"] == "CANCELLED"


async def test_a_force_cancel_completed_by_its_refund_is_forced(use_cases: UseCases, db: Db) -> None:
    order_id = await force_cancelled(use_cases, SteppingClock())

    [cancel] = [event for event in await outbox(db, order_id) if event.event_type == "order.cancelled"]
    [refund] = [event for event in await outbox(db, order_id) if event.event_type == "refund.succeeded"]

    assert cancel.data["forced"] is True
    assert refund.data["refund"]["reason"] == "ORDER_CANCELLED"
    assert refund.data["order"]["status"] == "CANCELLED"


async def test_an_erasure_event_carries_no_personal_data(use_cases: UseCases, db: Db) -> None:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)

    await use_cases.orders.erase(ADMIN, order.id)

    *_, event = await outbox(db, order.id)
    assert event.data == {
        "orderId": str(order.id),
        "number": order.number,
        "erasedAt": event.payload["timestamp"],
        "changedBy": f"api_key:{ADMIN.id}",
    }


async def test_taking_units_off_tells_the_item_and_how_many(use_cases: UseCases, db: Db) -> None:
    order_id = await item_removed_and_refunded(use_cases, SteppingClock())

    *_, removed, refund = await outbox(db, order_id)

    assert (removed.data["itemId"], removed.data["quantity"]) == (1, 1)
    assert removed.data["order"]["items"][0]["quantity"] == 1
    assert (refund.data["refund"]["reason"], refund.data["refund"]["amount"]) == ("ITEMS_REMOVED", "150.00")


async def test_bulk_cancel_writes_each_orders_cancel(use_cases: UseCases, db: Db) -> None:
    pet = await a_pet(use_cases, stock=2)
    first, second = await an_order(use_cases, pet, by=CLERK), await an_order(use_cases, pet, by=CLERK)

    await use_cases.orders.bulk_cancel(ADMIN, BulkCancel([first.id, second.id]))

    assert await types(db, first.id) == await types(db, second.id) == ["order.created", *CANCELLED]


async def _refused_cancel(use_cases: UseCases) -> Callable[[], Awaitable[object]]:
    order = await in_status(use_cases, await a_pet(use_cases), "SHIPPED")
    return lambda: use_cases.orders.cancel(ADMIN, CancelOrder(order.id))  # not forced: shipped is too late


async def _wrong_amount(use_cases: UseCases) -> Callable[[], Awaitable[object]]:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)
    return lambda: use_cases.payments.pay(ADMIN, PayOrder(order.id, "1.00", "USD", a_card_input()))


async def _out_of_stock(use_cases: UseCases) -> Callable[[], Awaitable[object]]:
    pet = await a_pet(use_cases)
    await an_order(use_cases, pet)
    return lambda: use_cases.orders.place(CLERK, PlaceOrder([LineRequest(pet.id)]))


@pytest.mark.parametrize(
    ("arrange", "refusal"),
    [(_refused_cancel, OrderNotCancellable), (_wrong_amount, PaymentMismatch), (_out_of_stock, OutOfStock)],
    ids=["not-cancellable", "payment-mismatch", "out-of-stock"],
)
async def test_a_refused_command_writes_no_event(
    use_cases: UseCases,
    db: Db,
    arrange: Callable[[UseCases], Awaitable[Callable[[], Awaitable[object]]]],
    refusal: type[Exception],
) -> None:
    act = await arrange(use_cases)
    before = await outbox(db)

    with pytest.raises(refusal):
        await act()

    assert await outbox(db) == before


class _SameIdEvents:
    """Makes one event with the same id for every transaction that records something: the second one's outbox
    INSERT breaks the unique eventId, as any failure to write the outbox would."""

    def events(self, entries: Sequence[AuditEntry], seen: Sighted) -> list[EventRecord]:
        return [envelope(UUID(int=1), EventType.PING, START, {})]


def _entry(number: int) -> AuditEntry:
    return Record(Action.USER_UPDATED, EntityType.USER, UUID(int=number)).entry(UUID(int=number), ADMIN, START)


async def _append_and_commit(database: Db, entry: AuditEntry) -> None:
    async with database.transaction() as uow:
        await uow.audit.append(entry)
        await uow.commit()


async def test_a_change_whose_events_cannot_be_written_is_not_committed(database_url: str, db: Db) -> None:
    database = await open_database(DatabaseUrl.parse(database_url), events=_SameIdEvents())
    try:
        await _append_and_commit(database, _entry(1))

        with pytest.raises(UniqueViolation):
            await _append_and_commit(database, _entry(2))
    finally:
        await database.close()

    async with db.snapshot() as uow:
        assert await uow.audit.get(UUID(int=1)) is not None
        assert await uow.audit.get(UUID(int=2)) is None, "the audit entry went without its events"
    assert len(await outbox(db)) == 1


async def test_a_transaction_left_without_commit_writes_no_event(database_url: str, db: Db) -> None:
    database = await open_database(DatabaseUrl.parse(database_url), events=_SameIdEvents())
    try:
        async with database.transaction() as uow:
            await uow.audit.append(_entry(1))  # and no commit: rolled back
    finally:
        await database.close()

    assert await outbox(db) == []


@pytest.mark.parametrize("fresh_database", [ENGINES[1]], indirect=True)  # LISTEN/NOTIFY is PostgreSQL's
async def test_on_postgresql_a_commit_with_events_notifies_the_newest_seq(
    use_cases: UseCases, db: Db, database_url: str
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(database_url)
    try:
        await listener.add_listener("orderline_outbox", lambda *args: heard.put_nowait(args[3]))

        order_id = await paid(use_cases, SteppingClock())

        seqs = [await asyncio.wait_for(heard.get(), timeout=5) for _ in range(2)]
    finally:
        await listener.close()
    stored = await outbox(db, order_id)
    assert seqs == [str(stored[0].seq), str(stored[-1].seq)]  # one per committing transaction: its newest seq


async def test_two_cancels_at_once_write_one_cancels_events(use_cases: UseCases, db: Db) -> None:
    order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)

    outcomes = await asyncio.gather(
        *(use_cases.orders.cancel(CLERK, CancelOrder(order.id)) for _ in range(2)), return_exceptions=True
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Order", "OrderNotCancellable"]
    assert await types(db, order.id) == ["order.created", *CANCELLED]


class CancelsWhileCharging(GatewayInFront):
    """The test gateway, with the order's cancel committing while the charge is asked (between Pay Order's two
    transactions): the charge then succeeds for an order that is no longer payable."""

    def __init__(self, gateway: PaymentGateway) -> None:
        super().__init__(gateway)
        self.meanwhile: Callable[[], Awaitable[object]] | None = None

    async def charge(self, payment_id: UUID, amount: Money, card_token: str) -> ChargeOutcome:
        if self.meanwhile is not None:
            await self.meanwhile()
        return await self._gateway.charge(payment_id, amount, card_token)


async def test_a_charge_captured_after_the_order_was_cancelled_is_told_and_so_is_its_refund(
    settings: Settings, clock: SteppingClock, db: Db
) -> None:
    gateways: list[CancelsWhileCharging] = []

    def in_front(gateway: PaymentGateway) -> PaymentGateway:
        gateways.append(CancelsWhileCharging(gateway))
        return gateways[0]

    use_cases = await build(settings, clock=clock, hasher=FAST_HASHER, gateway=in_front)
    try:
        order = await an_order(use_cases, await a_pet(use_cases), by=CLERK)
        gateways[0].meanwhile = lambda: use_cases.orders.cancel(CLERK, CancelOrder(order.id))

        with pytest.raises(OrderNotPayable):
            await use_cases.payments.pay(CLERK, PayOrder(order.id, str(order.total), "USD", a_card_input()))
    finally:
        await use_cases.close()

    events = await outbox(db, order.id)
    assert [event.event_type for event in events] == [
        "order.created",
        *CANCELLED,
        "payment.succeeded",
        "refund.succeeded",
    ]
    paid, refunded = events[-2:]
    assert (paid.data["order"]["status"], paid.data["payment"]["status"]) == ("CANCELLED", "SUCCEEDED")
    assert refunded.data["refund"]["reason"] == "LATE_CHARGE"
    assert refunded.data["refund"]["paymentId"] == paid.data["payment"]["id"]
