"""Editing an open order on a real database, on SQLite and PostgreSQL: units taken off its lines (stock
released once, priced again, refunded in part when paid) and its billing address changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from orderline.application.audit import Action
from orderline.application.errors import InvalidInput, NotFound, PreconditionFailed
from orderline.application.order_edits import RemoveLine
from orderline.application.orders import CancelOrder, LineRequest, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.principal import PUBLIC, PrincipalKind, Scope
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.application.vouchers import VoucherDraft
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.address import Address
from orderline.domain.errors import OrderNotEditable, VoucherNotApplicable
from orderline.domain.money import Money
from orderline.domain.order import CancelReason, Order
from orderline.domain.payment import OrderPaymentStatus, Refund, RefundStatus
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus
from orderline.gateways.testmode import REFUND_FAILS_LATER, REFUNDS_LATER, SUCCEEDS
from orderline.storage.unit_of_work import SqlUnitOfWork
from tests.support import ADMIN, CLERK, FAST_HASHER, Db, SteppingClock, a_card_input, a_pet, a_principal, in_status

AFTER_THE_REFUND_DELAY = timedelta(seconds=3)  # the test gateway settles asynchronous refunds after 2 s
S = OrderStatus


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[UseCases]:
    """Another process's view of the same database: its own connections and locks."""
    other = await build(settings, hasher=FAST_HASHER)
    try:
        yield other
    finally:
        await other.close()


async def two_line_order(use_cases: UseCases, voucher: str | None = None) -> tuple[Order, Pet, Pet]:
    """3 cats at 10.00 (line 1) and 1 fish at 5.00 (line 2): 35.00 before any voucher."""
    cat = await a_pet(use_cases, "Whiskers", stock=5, fee="10.00")
    fish = await a_pet(use_cases, "Nemo", stock=5, fee="5.00")
    command = PlaceOrder([LineRequest(cat.id, 3), LineRequest(fish.id, 1)], voucher_code=voucher)
    return (await use_cases.orders.place(CLERK, command)).order, cat, fish


async def paid(use_cases: UseCases, order: Order, card: str = SUCCEEDS) -> Order:
    await use_cases.payments.pay(CLERK, PayOrder(order.id, str(order.total), order.currency, a_card_input(card)))
    return await use_cases.orders.get(ADMIN, order.id)


async def refunds_of(db: Db, order: Order) -> list[Refund]:
    async with db.snapshot() as uow:
        return await uow.payments.refunds_of(order.id)


async def stored_amounts(db: Db, order: Order) -> tuple[str, str]:
    """What the order's row says was captured and refunded, read back from the database."""
    async with db.snapshot() as uow:
        stored = await uow.orders.get(order.id)
    assert stored is not None
    return str(stored.payment_summary.captured), str(stored.payment_summary.refunded)


async def reserved(use_cases: UseCases, pet: Pet) -> int:
    return (await use_cases.catalogue.get_pet(PUBLIC, pet.id)).stock.reserved


async def test_taking_units_off_a_line_releases_them_and_prices_the_order_again(use_cases: UseCases) -> None:
    order, cat, fish = await two_line_order(use_cases)

    edited = await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 2))

    stored = await use_cases.orders.get(ADMIN, order.id)
    assert stored == edited
    assert [(line.id, line.quantity) for line in stored.lines] == [(1, 1), (2, 1)]
    assert (str(stored.subtotal), str(stored.total), stored.version) == ("15.00", "15.00", order.version + 1)
    assert (await reserved(use_cases, cat), await reserved(use_cases, fish)) == (1, 1)


async def test_removing_a_whole_line_leaves_the_others_with_their_ids(use_cases: UseCases) -> None:
    order, cat, _ = await two_line_order(use_cases)

    await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1))

    stored = await use_cases.orders.get(ADMIN, order.id)
    assert [(line.id, line.name, line.quantity) for line in stored.lines] == [(2, "Nemo", 1)]
    assert str(stored.total) == "5.00"
    assert await reserved(use_cases, cat) == 0


async def test_the_removal_is_audited_with_the_quantities_and_totals_before_and_after(use_cases: UseCases) -> None:
    order, _, _ = await two_line_order(use_cases)

    await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 1, CancelReason.OUT_OF_STOCK))

    query = AuditQuery(entity_id=str(order.id), action=Action.ORDER_LINE_REMOVED)
    [entry] = (await use_cases.audit_log.list(ADMIN, query)).items
    assert entry.reason == "OUT_OF_STOCK"
    assert entry.changes == {
        "itemId": {"before": 1, "after": 1},
        "quantity": {"before": 3, "after": 2},
        "subtotal": {"before": "35.00", "after": "25.00"},
        "total": {"before": "35.00", "after": "25.00"},
    }


async def test_two_removals_of_the_same_line_at_once_release_its_stock_once(
    use_cases: UseCases, second: UseCases
) -> None:
    order, cat, _ = await two_line_order(use_cases)

    outcomes = await asyncio.gather(
        use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1)),
        second.order_edits.remove_line(CLERK, RemoveLine(order.id, 1)),
        return_exceptions=True,
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["NotFound", "Order"], outcomes
    assert (await reserved(use_cases, cat), (await use_cases.catalogue.get_pet(PUBLIC, cat.id)).stock.free) == (0, 5)
    assert str((await use_cases.orders.get(ADMIN, order.id)).total) == "5.00"


async def test_taking_the_last_units_cancels_the_order_and_keeps_its_lines(use_cases: UseCases) -> None:
    order, cat, fish = await two_line_order(use_cases)
    await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 2))

    cancelled = await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 3, CancelReason.DUPLICATE))

    assert (cancelled.status, cancelled.cancel_reason) == (S.CANCELLED, CancelReason.DUPLICATE)
    assert [(line.id, line.quantity) for line in cancelled.lines] == [(1, 3)]
    assert (await reserved(use_cases, cat), await reserved(use_cases, fish)) == (0, 0)


async def test_a_voucher_whose_minimum_no_longer_holds_is_released_and_its_use_given_back_once(
    use_cases: UseCases,
) -> None:
    minimum = Money.parse("30.00", "USD")
    await use_cases.vouchers.create(ADMIN, VoucherDraft("TENOFF", percent_off=10, min_subtotal=minimum))
    order, _, _ = await two_line_order(use_cases, voucher="TENOFF")
    assert str(order.total) == "31.50"

    edited = await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 1))
    await use_cases.orders.cancel(CLERK, CancelOrder(order.id))

    assert (edited.voucher_code, str(edited.discount_total), str(edited.total)) == (None, "0.00", "25.00")
    assert (await use_cases.vouchers.get(ADMIN, "TENOFF")).uses == 0


async def test_a_voucher_below_its_minimum_is_refused_at_placement(use_cases: UseCases) -> None:
    minimum = Money.parse("50.00", "USD")
    await use_cases.vouchers.create(ADMIN, VoucherDraft("TENOFF", percent_off=10, min_subtotal=minimum))

    with pytest.raises(VoucherNotApplicable) as refused:
        await two_line_order(use_cases, voucher="TENOFF")

    assert refused.value.details == {"reason": "minimum"}


async def test_a_paid_order_gets_the_difference_back_at_once_and_stays_approved(use_cases: UseCases, db: Db) -> None:
    order, _, _ = await two_line_order(use_cases)
    order = await paid(use_cases, order, SUCCEEDS)

    edited = await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 2))

    assert (edited.status, edited.payment_status, str(edited.total)) == (
        S.APPROVED, OrderPaymentStatus.PARTIALLY_REFUNDED, "15.00")  # fmt: skip
    assert await stored_amounts(db, order) == ("35.00", "20.00")
    [refund] = await refunds_of(db, order)
    assert (str(refund.amount), refund.status, refund.partial) == ("20.00", RefundStatus.SUCCEEDED, True)


async def test_a_later_cancel_refunds_only_what_is_left(use_cases: UseCases, db: Db) -> None:
    order, _, _ = await two_line_order(use_cases)
    order = await paid(use_cases, order, SUCCEEDS)
    await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 2))

    cancelled = await use_cases.orders.cancel(CLERK, CancelOrder(order.id))

    assert (cancelled.status, cancelled.payment_status) == (S.CANCELLED, OrderPaymentStatus.REFUNDED)
    assert [str(r.amount) for r in await refunds_of(db, order)] == ["20.00", "15.00"]
    assert await stored_amounts(db, order) == ("35.00", "35.00")  # all paid came back, though the total shrank


async def test_an_asynchronous_partial_refund_settles_later_and_moves_no_status(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    order, _, _ = await two_line_order(use_cases)
    order = await paid(use_cases, order, REFUNDS_LATER)

    pending = await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 2))
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()

    settled = await use_cases.orders.get(ADMIN, order.id)
    assert (pending.status, pending.payment_status) == (S.APPROVED, OrderPaymentStatus.REFUND_PENDING)
    assert (settled.status, settled.payment_status) == (S.APPROVED, OrderPaymentStatus.PARTIALLY_REFUNDED)
    pending_amounts = (str(pending.payment_summary.captured), str(pending.payment_summary.refunded))
    assert pending_amounts == ("35.00", "0.00")  # a refund still with the gateway has given nothing back
    assert await stored_amounts(db, order) == ("35.00", "5.00")


async def test_a_failed_partial_refund_leaves_the_removal_standing_and_shows_refund_failed(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    order, cat, _ = await two_line_order(use_cases)
    order = await paid(use_cases, order, REFUND_FAILS_LATER)

    await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 1))
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()

    settled = await use_cases.orders.get(ADMIN, order.id)
    assert (settled.status, settled.payment_status, str(settled.total)) == (
        S.APPROVED, OrderPaymentStatus.REFUND_FAILED, "25.00")  # fmt: skip
    assert await stored_amounts(db, order) == ("35.00", "0.00")
    assert await reserved(use_cases, cat) == 2
    query = AuditQuery(entity_id=str(order.id), action=Action.REFUND_FAILED)
    assert len((await use_cases.audit_log.list(ADMIN, query)).items) == 1


async def test_a_cancel_while_a_partial_refund_is_pending_refunds_the_rest_and_waits_for_its_own_refund(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    order, _, _ = await two_line_order(use_cases)
    order = await paid(use_cases, order, REFUNDS_LATER)
    await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 2))

    pending = await use_cases.orders.cancel(CLERK, CancelOrder(order.id))
    clock.advance(AFTER_THE_REFUND_DELAY)
    await use_cases.refunds.settle_pending()

    settled = await use_cases.orders.get(ADMIN, order.id)
    assert pending.status is S.CANCEL_PENDING
    assert (settled.status, settled.payment_status) == (S.CANCELLED, OrderPaymentStatus.REFUNDED)
    assert sorted(str(r.amount) for r in await refunds_of(db, order)) == ["30.00", "5.00"]
    assert await stored_amounts(db, order) == ("35.00", "35.00")


@pytest.mark.parametrize("status", ["SHIPPED", "DELIVERED", "CANCELLED"])
async def test_an_order_that_is_not_open_is_not_editable_and_unchanged(use_cases: UseCases, status: str) -> None:
    cat = await a_pet(use_cases, stock=2)
    order = await in_status(use_cases, cat, status)

    with pytest.raises(OrderNotEditable) as refused:
        await use_cases.order_edits.remove_line(ADMIN, RemoveLine(order.id, 1))

    assert refused.value.details["current_status"] == status
    assert await use_cases.orders.get(ADMIN, order.id) == order


async def test_an_unknown_item_is_not_found_and_a_quantity_beyond_the_line_is_invalid(use_cases: UseCases) -> None:
    order, _, _ = await two_line_order(use_cases)

    with pytest.raises(NotFound) as unknown:
        await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 3))
    with pytest.raises(InvalidInput) as too_many:
        await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 4))

    assert unknown.value.details == {"entity": "item", "id": "3"}
    assert (too_many.value.field, too_many.value.kind) == ("quantity", "out-of-range")
    assert await use_cases.orders.get(ADMIN, order.id) == order


async def test_another_customers_order_is_not_found(use_cases: UseCases) -> None:
    order, _, _ = await two_line_order(use_cases)
    stranger = a_principal(Scope.READ_ORDERS, Scope.WRITE_ORDERS, kind=PrincipalKind.USER)

    with pytest.raises(NotFound):
        await use_cases.order_edits.remove_line(stranger, RemoveLine(order.id, 1))


async def test_a_stale_expected_version_is_refused(use_cases: UseCases) -> None:
    order, _, _ = await two_line_order(use_cases)
    await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 1, 1))

    with pytest.raises(PreconditionFailed):
        await use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, 2, expected_version=order.version))


async def test_a_new_billing_address_is_a_new_row_and_the_old_one_stays(use_cases: UseCases, db: Db) -> None:
    cat = await a_pet(use_cases, stock=1)
    first = Address("1 Main St", "Springfield", "12345", "US")
    order = (await use_cases.orders.place(CLERK, PlaceOrder([LineRequest(cat.id)], billing_address=first))).order
    second_address = Address("2 High St", "Oxford", "OX1 1AA", "GB")

    changed = await use_cases.order_edits.change_billing_address(CLERK, order.id, second_address, order.version)

    assert (await use_cases.orders.get(ADMIN, order.id)).billing_address == changed.billing_address == second_address
    async with db.snapshot() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        rows = await uow.connection.fetch_all("SELECT city FROM billing_addresses ORDER BY city")
    assert [row["city"] for row in rows] == ["Oxford", "Springfield"]


async def test_a_paid_orders_billing_address_does_not_change(use_cases: UseCases) -> None:
    cat = await a_pet(use_cases, stock=1)
    order = await in_status(use_cases, cat, "APPROVED")

    with pytest.raises(OrderNotEditable):
        await use_cases.order_edits.change_billing_address(
            ADMIN, order.id, Address("1 Main St", "Springfield", "12345", "US")
        )
