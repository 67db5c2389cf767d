"""Paying orders and the cancellation saga (refunds through the test gateway), on SQLite and PostgreSQL.

The test gateway's card numbers choose the outcome (see orderline.gateways.testmode): 4242 refunds at
once, 3220 and 5126 refund asynchronously — settled after the refund delay, as the SteppingClock tells.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from uuid import UUID

import pytest

from orderline.application.gateway import InvalidCallback
from orderline.application.orders import CancelOrder, LineRequest, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.principal import PUBLIC
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.application.vouchers import VoucherDraft
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.errors import OrderNotPayable, PaymentDeclined, PaymentMismatch
from orderline.domain.order import Order
from orderline.domain.payment import (
    CardInput,
    OrderPaymentStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus
from orderline.gateways.testmode import (
    DECLINED,
    REFUND_FAILS_LATER,
    REFUND_FAILURE,
    REFUNDS_LATER,
    SUCCEEDS,
    TestModeGateway,
    new_secret,
)
from tests.support import ADMIN, FAST_HASHER, Db, SteppingClock, a_pet, an_order

AFTER_THE_REFUND_DELAY = timedelta(seconds=3)  # the test gateway settles asynchronous refunds after 2 s
HOLDER = "Ada Lovelace"


def a_card(number: str) -> CardInput:
    return CardInput(number, "123", 12, 2030, {"name": HOLDER, "address_city": "London"})


async def pay(
    use_cases: UseCases, order: Order, number: str = SUCCEEDS, *, amount: str | None = None, currency: str | None = None
) -> Payment:
    command = PayOrder(order.id, amount or str(order.total), currency or order.currency, a_card(number))
    return await use_cases.payments.pay(ADMIN, command)


async def cancel(use_cases: UseCases, order: Order) -> Order:
    return await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))


async def a_paid_order(use_cases: UseCases, pet: Pet, number: str = SUCCEEDS) -> Order:
    order = await an_order(use_cases, pet)
    await pay(use_cases, order, number)
    return await use_cases.orders.get(ADMIN, order.id)


async def a_cancel_pending_order(use_cases: UseCases, pet: Pet, number: str = REFUNDS_LATER) -> Order:
    order = await a_paid_order(use_cases, pet, number)
    return await cancel(use_cases, order)


async def money_facts(db: Db, order_id: UUID) -> tuple[list[Payment], list[Refund]]:
    """The payments and refunds recorded for an order (read from the database, erased orders too)."""
    async with db.snapshot() as uow:
        return await uow.payments.of_order(order_id), await uow.payments.refunds_of(order_id)


async def reserved(use_cases: UseCases, pet: Pet) -> int:
    return (await use_cases.catalogue.get_pet(PUBLIC, pet.id)).stock.reserved


def the_callback_signer(settings: Settings) -> TestModeGateway:
    """A test gateway signing callbacks with the service's configured callback secret."""
    assert settings.test_gateway_secret is not None, "the test settings name the gateway's callback secret"
    return TestModeGateway(SteppingClock(), timedelta(seconds=2), settings.test_gateway_secret)


def minor_units_moved(facts: list[Payment] | list[Refund]) -> int:
    """How much money the SUCCEEDED payments (or refunds) moved, in minor units."""
    return sum(fact.amount.amount_minor for fact in facts if fact.status == "SUCCEEDED")


def a_bad_callback(settings: Settings, reference: str, flaw: str) -> tuple[dict[str, str], bytes]:
    """A callback about ``reference`` that must not pass the signature check."""
    if flaw == "signed-with-another-secret":
        return TestModeGateway(SteppingClock(), timedelta(seconds=2), new_secret()).signed_callback(reference)
    headers, body = the_callback_signer(settings).signed_callback(reference)
    if flaw == "body-changed-after-signing":
        return headers, body.replace(b"refund.updated", b"refund.updatex")
    assert flaw == "unsigned", flaw
    return {name: value for name, value in headers.items() if name != "webhook-signature"}, body


@pytest.fixture
async def second(settings: Settings, clock: SteppingClock) -> AsyncIterator[UseCases]:
    """Another process's view of the same database (its own connections and locks), on the same clock."""
    other = await build(settings, clock=clock, hasher=FAST_HASHER)
    try:
        yield other
    finally:
        await other.close()


# Paying


async def test_a_successful_payment_approves_the_order_and_keeps_only_the_cards_last_four_digits(
    use_cases: UseCases,
) -> None:
    cat = await a_pet(use_cases, fee="150.00")
    order = await an_order(use_cases, cat)

    payment = await pay(use_cases, order, SUCCEEDS)

    stored = await use_cases.orders.get(ADMIN, order.id)
    assert (stored.status, stored.payment_status) == (OrderStatus.APPROVED, OrderPaymentStatus.PAID)
    assert stored.paid_at is not None
    assert [r.payment for r in (await use_cases.payments.of_order(ADMIN, order.id)).items] == [payment]
    assert (payment.status, str(payment.amount), payment.amount.currency) == (PaymentStatus.SUCCEEDED, "150.00", "USD")
    assert (payment.card.last4, payment.card.masked) == ("4242", "************4242")
    assert SUCCEEDS not in repr(payment)


async def test_a_declined_card_is_refused_naming_the_failed_payment_and_the_order_stays_unpaid(
    use_cases: UseCases,
) -> None:
    cat = await a_pet(use_cases)
    order = await an_order(use_cases, cat)

    with pytest.raises(PaymentDeclined) as declined:
        await pay(use_cases, order, DECLINED)

    [failed] = [r.payment for r in (await use_cases.payments.of_order(ADMIN, order.id)).items]
    assert declined.value.details["payment_id"] == str(failed.id)
    assert failed.status is PaymentStatus.FAILED
    stored = await use_cases.orders.get(ADMIN, order.id)
    assert (stored.status, stored.payment_status, stored.paid_at) == (
        OrderStatus.PLACED,
        OrderPaymentStatus.UNPAID,
        None,
    )


async def test_after_a_declined_card_another_card_pays_the_order(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases)
    order = await an_order(use_cases, cat)
    with pytest.raises(PaymentDeclined):
        await pay(use_cases, order, DECLINED)

    payment = await pay(use_cases, order, SUCCEEDS)

    assert payment.status is PaymentStatus.SUCCEEDED
    statuses = [r.payment.status for r in (await use_cases.payments.of_order(ADMIN, order.id)).items]
    assert statuses == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    stored = await use_cases.orders.get(ADMIN, order.id)
    assert (stored.status, stored.payment_status) == (OrderStatus.APPROVED, OrderPaymentStatus.PAID)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("149.99", "USD"), ("150.01", "USD"), ("150.00", "EUR")],
    ids=["less", "more", "another-currency"],
)
async def test_a_payment_that_is_not_the_orders_total_is_refused_and_records_nothing(
    use_cases: UseCases, amount: str, currency: str
) -> None:
    cat = await a_pet(use_cases, fee="150.00", currency="USD")
    order = await an_order(use_cases, cat)

    with pytest.raises(PaymentMismatch):
        await pay(use_cases, order, SUCCEEDS, amount=amount, currency=currency)

    assert (await use_cases.payments.of_order(ADMIN, order.id)).items == []
    assert await use_cases.orders.get(ADMIN, order.id) == order


@pytest.mark.parametrize("status", ["APPROVED", "CANCEL_PENDING", "CANCELLED"])
async def test_an_order_that_is_no_longer_placed_takes_no_payment(use_cases: UseCases, status: str) -> None:
    cat = await a_pet(use_cases)
    order = await an_order(use_cases, cat)
    if status != "CANCELLED":
        await pay(use_cases, order, REFUNDS_LATER)
    if status != "APPROVED":
        await cancel(use_cases, order)
    before = await use_cases.orders.get(ADMIN, order.id), (await use_cases.payments.of_order(ADMIN, order.id)).items

    with pytest.raises(OrderNotPayable) as refused:
        await pay(use_cases, order, SUCCEEDS)

    assert refused.value.details["current_status"] == status
    after = await use_cases.orders.get(ADMIN, order.id), (await use_cases.payments.of_order(ADMIN, order.id)).items
    assert after == before


# Cancelling


async def test_cancelling_a_placed_order_cancels_it_at_once_and_releases_its_stock(use_cases: UseCases, db: Db) -> None:
    cat = await a_pet(use_cases, stock=2)
    await an_order(use_cases, cat)  # another customer's, holding the other unit
    order = await an_order(use_cases, cat)

    cancelled = await cancel(use_cases, order)

    assert (cancelled.status, cancelled.payment_status) == (OrderStatus.CANCELLED, OrderPaymentStatus.UNPAID)
    assert await use_cases.orders.get(ADMIN, order.id) == cancelled
    assert await reserved(use_cases, cat) == 1
    assert await money_facts(db, order.id) == ([], [])


async def test_cancelling_an_order_paid_by_a_card_that_refunds_at_once_refunds_it_and_cancels(
    use_cases: UseCases,
    db: Db,
) -> None:
    cat = await a_pet(use_cases)
    order = await a_paid_order(use_cases, cat, SUCCEEDS)

    cancelled = await cancel(use_cases, order)

    assert (cancelled.status, cancelled.payment_status) == (OrderStatus.CANCELLED, OrderPaymentStatus.REFUNDED)
    assert cancelled.cancelled_at is not None
    assert await use_cases.orders.get(ADMIN, order.id) == cancelled
    [payment], [refund] = await money_facts(db, order.id)
    assert (refund.status, refund.payment_id, refund.amount) == (RefundStatus.SUCCEEDED, payment.id, payment.amount)


async def test_cancelling_a_paid_order_releases_its_stock_and_gives_its_voucher_use_back_once(
    use_cases: UseCases,
) -> None:
    cat = await a_pet(use_cases, stock=2)
    await use_cases.vouchers.create(ADMIN, VoucherDraft("TENOFF", percent_off=10))
    place = PlaceOrder([LineRequest(cat.id)], voucher_code="TENOFF")
    await use_cases.orders.place(ADMIN, place)  # another order holding a unit and a use
    order = (await use_cases.orders.place(ADMIN, place)).order
    await pay(use_cases, order, SUCCEEDS)

    await cancel(use_cases, order)

    assert await reserved(use_cases, cat) == 1
    assert (await use_cases.vouchers.get(ADMIN, "TENOFF")).uses == 1


async def test_cancelling_an_order_whose_refund_is_asynchronous_waits_in_cancel_pending_holding_its_stock(
    use_cases: UseCases,
    db: Db,
) -> None:
    cat = await a_pet(use_cases)
    order = await a_paid_order(use_cases, cat, REFUNDS_LATER)

    pending = await cancel(use_cases, order)

    assert (pending.status, pending.payment_status) == (OrderStatus.CANCEL_PENDING, OrderPaymentStatus.REFUND_PENDING)
    assert pending.cancelled_at is None
    assert await use_cases.orders.get(ADMIN, order.id) == pending
    _, [refund] = await money_facts(db, order.id)
    assert refund.status is RefundStatus.PENDING
    assert await reserved(use_cases, cat) == 1


async def test_cancelling_a_cancel_pending_order_again_answers_it_unchanged_and_starts_no_second_refund(
    use_cases: UseCases,
    db: Db,
) -> None:
    cat = await a_pet(use_cases)
    pending = await a_cancel_pending_order(use_cases, cat)

    again = await cancel(use_cases, pending)

    assert again == pending
    _, refunds = await money_facts(db, pending.id)
    assert len(refunds) == 1


async def test_an_asynchronous_refund_that_succeeds_completes_the_cancel_and_releases_the_stock_once(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    cat = await a_pet(use_cases, stock=2)
    await an_order(use_cases, cat)  # another customer's, holding the other unit
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)
    clock.advance(AFTER_THE_REFUND_DELAY)

    settled = await use_cases.refunds.settle_pending()

    assert settled == 1
    stored = await use_cases.orders.get(ADMIN, pending.id)
    assert (stored.status, stored.payment_status) == (OrderStatus.CANCELLED, OrderPaymentStatus.REFUNDED)
    assert stored.cancelled_at is not None
    _, [refund] = await money_facts(db, pending.id)
    assert refund.status is RefundStatus.SUCCEEDED
    assert await reserved(use_cases, cat) == 1


async def test_settling_pending_refunds_before_the_gateway_has_settled_them_changes_nothing(
    use_cases: UseCases,
) -> None:
    cat = await a_pet(use_cases)
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)

    settled = await use_cases.refunds.settle_pending()

    assert settled == 0
    assert await use_cases.orders.get(ADMIN, pending.id) == pending
    assert await reserved(use_cases, cat) == 1


async def test_settling_pending_refunds_again_after_they_settled_changes_nothing(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    cat = await a_pet(use_cases, stock=2)
    await an_order(use_cases, cat)
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()
    before = await use_cases.orders.get(ADMIN, pending.id), await money_facts(db, pending.id)

    settled = await use_cases.refunds.settle_pending()

    assert settled == 0
    assert (await use_cases.orders.get(ADMIN, pending.id), await money_facts(db, pending.id)) == before
    assert await reserved(use_cases, cat) == 1


async def test_an_asynchronous_refund_that_fails_rolls_the_order_back_to_approved_holding_its_stock(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    cat = await a_pet(use_cases)
    pending = await a_cancel_pending_order(use_cases, cat, REFUND_FAILS_LATER)
    clock.advance(AFTER_THE_REFUND_DELAY)

    settled = await use_cases.refunds.settle_pending()

    assert settled == 1
    stored = await use_cases.orders.get(ADMIN, pending.id)
    assert (stored.status, stored.payment_status) == (OrderStatus.APPROVED, OrderPaymentStatus.REFUND_FAILED)
    assert (stored.cancel_reason, stored.cancel_note, stored.cancel_requested_at, stored.cancelled_at) == (
        None,
        None,
        None,
        None,
    )
    _, [refund] = await money_facts(db, pending.id)
    assert (refund.status, refund.failure_message) == (RefundStatus.FAILED, REFUND_FAILURE)
    assert await reserved(use_cases, cat) == 1


async def test_a_failed_refund_is_audited_as_a_failed_cancel_with_the_gateways_reason(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    cat = await a_pet(use_cases)
    pending = await a_cancel_pending_order(use_cases, cat, REFUND_FAILS_LATER)
    clock.advance(AFTER_THE_REFUND_DELAY)

    await use_cases.refunds.settle_pending()

    query = AuditQuery(entity_id=str(pending.id), action="ORDER_CANCEL_FAILED")
    [entry] = (await use_cases.audit_log.list(ADMIN, query)).items
    assert entry.reason == REFUND_FAILURE
    assert entry.changes["status"] == {"before": "CANCEL_PENDING", "after": "APPROVED"}
    assert entry.changes["paymentStatus"] == {"before": "REFUND_PENDING", "after": "REFUND_FAILED"}


@pytest.mark.parametrize(
    ("card", "action", "reason"),
    [(REFUNDS_LATER, "REFUND_SUCCEEDED", None), (REFUND_FAILS_LATER, "REFUND_FAILED", REFUND_FAILURE)],
)
async def test_a_refund_that_settles_after_its_order_was_erased_is_still_audited(
    use_cases: UseCases, clock: SteppingClock, db: Db, card: str, action: str, reason: str | None
) -> None:
    """The order is gone, so no cancel completes or rolls back; whether the money went back is still recorded."""
    pending = await a_cancel_pending_order(use_cases, await a_pet(use_cases), card)
    await use_cases.orders.erase(ADMIN, pending.id)
    clock.advance(AFTER_THE_REFUND_DELAY)

    assert await use_cases.refunds.settle_pending() == 1

    _, [refund] = await money_facts(db, pending.id)
    [entry] = (await use_cases.audit_log.list(ADMIN, AuditQuery(entity_id=str(pending.id), action=action))).items
    assert entry.changes == {"refundId": {"before": None, "after": str(refund.id)}}
    assert entry.reason == reason
    actions = [e.action for e in (await use_cases.audit_log.list(ADMIN, AuditQuery(entity_id=str(pending.id)))).items]
    assert sorted(actions) == sorted(["ORDER_CREATED", "PAYMENT_SUCCEEDED", "ORDER_CANCEL_REQUESTED", "ORDER_ERASED",
                                      action])  # fmt: skip


async def test_a_cancel_completed_by_its_refund_is_audited_with_the_reason_it_was_asked_with(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    pending = await a_cancel_pending_order(use_cases, await a_pet(use_cases))  # reason: CUSTOMER_REQUEST
    clock.advance(AFTER_THE_REFUND_DELAY)

    await use_cases.refunds.settle_pending()

    query = AuditQuery(entity_id=str(pending.id), action="ORDER_CANCELLED")
    [entry] = (await use_cases.audit_log.list(ADMIN, query)).items
    assert entry.reason == "CUSTOMER_REQUEST"


async def test_an_order_whose_refund_failed_can_be_cancelled_again_with_a_new_refund(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    cat = await a_pet(use_cases)
    pending = await a_cancel_pending_order(use_cases, cat, REFUND_FAILS_LATER)
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()

    again = await cancel(use_cases, pending)

    assert (again.status, again.payment_status) == (OrderStatus.CANCEL_PENDING, OrderPaymentStatus.REFUND_PENDING)
    [payment], refunds = await money_facts(db, pending.id)
    assert [(r.payment_id, r.status) for r in refunds] == [
        (payment.id, RefundStatus.FAILED),
        (payment.id, RefundStatus.PENDING),
    ]


# The gateway's signed callback


async def test_a_signed_gateway_callback_settles_a_pending_refund(
    use_cases: UseCases, settings: Settings, clock: SteppingClock, db: Db
) -> None:
    cat = await a_pet(use_cases, stock=2)
    await an_order(use_cases, cat)
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)
    _, [refund] = await money_facts(db, pending.id)
    assert refund.reference is not None
    headers, body = the_callback_signer(settings).signed_callback(refund.reference)
    clock.advance(AFTER_THE_REFUND_DELAY)

    settled = await use_cases.refunds.on_callback(headers, body)

    assert (settled.id, settled.status) == (refund.id, RefundStatus.SUCCEEDED)
    stored = await use_cases.orders.get(ADMIN, pending.id)
    assert (stored.status, stored.payment_status) == (OrderStatus.CANCELLED, OrderPaymentStatus.REFUNDED)
    assert await reserved(use_cases, cat) == 1


async def test_a_signed_callback_before_the_gateway_has_settled_leaves_the_refund_pending(
    use_cases: UseCases, settings: Settings, db: Db
) -> None:
    cat = await a_pet(use_cases)
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)
    _, [refund] = await money_facts(db, pending.id)
    assert refund.reference is not None
    headers, body = the_callback_signer(settings).signed_callback(refund.reference)

    answered = await use_cases.refunds.on_callback(headers, body)

    assert answered == refund
    assert await use_cases.orders.get(ADMIN, pending.id) == pending


@pytest.mark.parametrize("flaw", ["signed-with-another-secret", "body-changed-after-signing", "unsigned"])
async def test_a_callback_that_fails_its_signature_check_is_refused_and_changes_nothing(
    use_cases: UseCases, settings: Settings, clock: SteppingClock, flaw: str, db: Db
) -> None:
    cat = await a_pet(use_cases)
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)
    _, [refund] = await money_facts(db, pending.id)
    assert refund.reference is not None
    headers, body = a_bad_callback(settings, refund.reference, flaw)
    clock.advance(AFTER_THE_REFUND_DELAY)

    with pytest.raises(InvalidCallback):
        await use_cases.refunds.on_callback(headers, body)

    assert await use_cases.orders.get(ADMIN, pending.id) == pending
    _, refunds = await money_facts(db, pending.id)
    assert refunds == [refund]
    assert await reserved(use_cases, cat) == 1


# A payment racing a cancel


async def after_yields(turns: int, work: Awaitable[object]) -> object:
    """``work``, started after giving the event loop ``turns`` turns (so the other side gets ahead)."""
    for _ in range(turns):
        await asyncio.sleep(0)
    return await work


async def test_a_payment_racing_a_cancel_never_keeps_money_for_the_cancelled_order(
    use_cases: UseCases, second: UseCases, db: Db
) -> None:
    rounds = 12
    cat = await a_pet(use_cases, stock=rounds)
    orders = [await an_order(use_cases, cat) for _ in range(rounds)]

    outcomes = []
    for i, order in enumerate(orders):
        payer, canceller = (use_cases, second) if i % 2 == 0 else (second, use_cases)
        head_start = i // 2  # the canceller waits longer and longer, so the payment gets further each time
        outcomes.append(
            await asyncio.gather(
                pay(payer, order, SUCCEEDS),
                after_yields(head_start, cancel(canceller, order)),
                return_exceptions=True,
            )
        )

    for order, (paid, cancelled) in zip(orders, outcomes, strict=True):
        assert isinstance(paid, Payment | OrderNotPayable), paid
        assert isinstance(cancelled, Order), cancelled
        stored = await use_cases.orders.get(ADMIN, order.id)
        payments, refunds = await money_facts(db, order.id)
        captured = [p for p in payments if p.status is PaymentStatus.SUCCEEDED]
        refunded = {r.payment_id for r in refunds if r.status is RefundStatus.SUCCEEDED}
        assert stored.status is OrderStatus.CANCELLED
        assert stored.payment_status is (OrderPaymentStatus.REFUNDED if captured else OrderPaymentStatus.UNPAID)
        assert all(p.status is not PaymentStatus.PROCESSING for p in payments)
        assert minor_units_moved(refunds) <= minor_units_moved(payments)
        assert {p.id for p in captured} <= refunded
    pet = await use_cases.catalogue.get_pet(PUBLIC, cat.id)
    assert (pet.stock.reserved, pet.stock.free) == (0, rounds)


# Erasure


async def test_erasing_a_cancel_pending_order_releases_its_stock_once_and_its_refund_still_settles(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    cat = await a_pet(use_cases, stock=2)
    await an_order(use_cases, cat)  # another customer's, holding the other unit
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)
    await use_cases.orders.erase(ADMIN, pending.id)
    clock.advance(AFTER_THE_REFUND_DELAY)

    settled = await use_cases.refunds.settle_pending()

    assert settled == 1
    _, [refund] = await money_facts(db, pending.id)
    assert refund.status is RefundStatus.SUCCEEDED
    assert await reserved(use_cases, cat) == 1


async def test_erasing_an_order_keeps_its_payments_money_facts_but_forgets_the_card_holder(
    use_cases: UseCases,
    db: Db,
) -> None:
    cat = await a_pet(use_cases, fee="150.00")
    pending = await a_cancel_pending_order(use_cases, cat, REFUNDS_LATER)
    [before], _ = await money_facts(db, pending.id)

    await use_cases.orders.erase(ADMIN, pending.id)

    [after], _ = await money_facts(db, pending.id)
    assert (after.id, after.amount, after.status, after.card.last4) == (
        before.id,
        before.amount,
        PaymentStatus.SUCCEEDED,
        "3220",
    )
    assert (before.card.name, before.card.address_city) == (HOLDER, "London")
    assert (after.card.name, after.card.address_city) == (None, None)
