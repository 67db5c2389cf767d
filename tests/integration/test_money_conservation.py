"""A Hypothesis state machine over place / pay / cancel (one, many, and forced) / ship / settle refunds / erase /
take units off a line, on each engine, driving the real use cases with the test gateway's cards.

After every step one snapshot of the database must conserve money and stock: no more is refunded
than was captured (per order, per payment and in total), every refund returns a captured payment of
its order; an open paid order's customer has paid net exactly its total (more only while a refund
failed); each order's payment status is the one its facts give and fits its status; per pet, the
reserved units are exactly what reserving orders hold and the sold units exactly what shipped orders
took (erased or not); the voucher's uses are exactly the orders holding it. The model also predicts
every command's outcome, each order's status, lines and total. And the outbox agrees with the audit log:
exactly one order.statusChanged per status change the audit log records, in the same order, ending at the
order's status; one order.processed per move to APPROVED, CANCELLED or DELIVERED; and exactly one event of each
other kind per audit entry that makes it — so a refused command, which audits nothing, writes no event either.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from orderline.application.errors import NotFound
from orderline.application.order_edits import RemoveLine
from orderline.application.orders import BulkCancel, BulkOutcome, CancelOrder, LineRequest, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.use_cases import UseCases
from orderline.application.vouchers import VoucherDraft
from orderline.bootstrap import build
from orderline.domain.errors import (
    IllegalTransition,
    OrderNotCancellable,
    OrderNotEditable,
    OrderNotPayable,
    OutOfStock,
    PaymentDeclined,
    PaymentMismatch,
    VoucherNotApplicable,
)
from orderline.domain.money import Money
from orderline.domain.order import Order
from orderline.domain.payment import (
    OrderPaymentStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    net_paid,
    payment_status,
)
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus
from orderline.gateways.testmode import DECLINED, REFUND_FAILS_LATER, REFUNDS_LATER, SUCCEEDS
from orderline.http.api.event_wire import NativeBodies
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.rows import as_uuid, from_json
from orderline.storage.unit_of_work import SqlUnitOfWork
from tests.support import (
    ADMIN,
    CLERK,
    FAST_HASHER,
    TEST_GATEWAY_SECRET,
    Db,
    SteppingClock,
    a_card_input,
    a_pet_draft,
    engine_settings,
)

T = TypeVar("T")
S = OrderStatus

STOCKS = (3, 5, 8)
FEES = ("150.00", "75.50", "19.99")
VOUCHER = "HALF"
VOUCHER_USES = 2
VOUCHER_MINIMUM = 100_00  # minor units: two of the cheaper pets fall below it, so edits release the voucher
CARDS = (SUCCEEDS, DECLINED, REFUNDS_LATER, REFUND_FAILS_LATER)
AFTER_THE_REFUND_DELAY = timedelta(seconds=3)  # the test gateway settles asynchronous refunds after 2 s
MISTAKES = ("a-cent-less", "a-cent-more", "another-currency")
UNKNOWN = UUID(int=7)  # an id no order has
MAX_OPEN_ORDERS = 3  # few orders not cancelled, so the rules meet each one often and take it through the saga

# The model's own reading of the rules (not the code's constants, so a change there cannot hide here).
RESERVING = frozenset({S.PLACED, S.APPROVED, S.CANCEL_PENDING})  # while not shipped
PAYABLE = S.PLACED
SHIPPABLE = S.APPROVED
CUSTOMER_CANCELLABLE = frozenset({S.PLACED, S.APPROVED})
FORCE_CANCELLABLE = CUSTOMER_CANCELLABLE | {S.SHIPPED}
KEEPS_THE_MONEY = frozenset({OrderPaymentStatus.PAID, OrderPaymentStatus.REFUND_FAILED})
KEEPS_SOME = KEEPS_THE_MONEY | {OrderPaymentStatus.PARTIALLY_REFUNDED, OrderPaymentStatus.REFUND_PENDING}
EDITABLE = frozenset({S.PLACED, S.APPROVED})


def priced(lines: dict[int, tuple[UUID, int]], fees: dict[UUID, int], voucher: bool) -> tuple[int, bool]:
    """The model's pricing: (total in minor units, whether the voucher holds); HALF is 50 % off, rounded down."""
    subtotal = sum(fees[pet_id] * quantity for pet_id, quantity in lines.values())
    holds = voucher and subtotal >= VOUCHER_MINIMUM
    return subtotal - (subtotal * 50 // 100 if holds else 0), holds


@dataclass(slots=True)
class Due:
    """A refund the gateway has yet to settle: its order, the card paid with, whether it is partial, how much."""

    order_id: UUID
    card: str
    partial: bool
    minor: int


@dataclass(slots=True, repr=False)
class Tracked:
    """The model's view of one order."""

    id: UUID
    lines: dict[int, tuple[UUID, int]]  # item id: (pet, quantity)
    total: Money
    voucher: bool
    status: OrderStatus = S.PLACED
    shipped: bool = False
    card: str | None = None  # the test card whose charge the order captured
    erased: bool = False
    net_paid: int = 0  # captured minus refunds pending or done, in minor units

    @property
    def quantities(self) -> dict[UUID, int]:
        return dict(self.lines.values())

    def __repr__(self) -> str:
        shipped, erased = " shipped" * self.shipped, " erased" * self.erased
        return f"<order {self.id} {self.status}{shipped}{erased}, paid with {self.card}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # one line per draw in a failing example's steps
        printer.text(repr(self))

    @property
    def reserving(self) -> bool:
        return not self.erased and self.status in RESERVING and not self.shipped

    def after_cancel(self, force: bool) -> OrderStatus | None:
        """Where a cancel takes the order, or None when it must be refused."""
        if self.status is S.CANCEL_PENDING:
            return S.CANCEL_PENDING  # a second cancel answers the order as it is
        if self.status not in (FORCE_CANCELLABLE if force else CUSTOMER_CANCELLABLE):
            return None
        if self.card in {None, SUCCEEDS}:
            return S.CANCELLED  # nothing to refund, or refunded at once
        return S.CANCEL_PENDING  # until the gateway settles the refund


def a_payment(order: Tracked, card: str, mistake: str | None = None) -> PayOrder:
    """Pay the order's total with a test card, or make one of the MISTAKES in the amount."""
    amount, currency = order.total, order.total.currency
    if mistake == "another-currency":
        currency = "EUR"
    elif mistake is not None:
        amount = Money(amount.amount_minor + {"a-cent-less": -1, "a-cent-more": 1}[mistake], currency)
    return PayOrder(order.id, str(amount), currency, a_card_input(card))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one consistent read of the database holds, for every order the run has ever placed."""

    orders: dict[UUID, Order | None]  # None: erased
    payments: dict[UUID, list[Payment]]
    refunds: dict[UUID, list[Refund]]
    pets: dict[UUID, Pet]
    voucher_uses: int
    captured_minor: int  # over the whole payments table
    refunded_minor: int  # over the whole refunds table
    orphan_refunds: int  # refunds not returning a captured payment of their own order
    overrefunded: int  # payments whose refunds pending or done add up to more than they captured
    processing: int
    audited: dict[UUID, list[tuple[str, dict[str, Any]]]]  # each order's audit entries, oldest first: action, changes
    events: dict[UUID, list[tuple[str, dict[str, Any]]]]  # each order's outbox events in stream order: type, data


async def read(db: Db, order_ids: list[UUID], pet_ids: list[UUID]) -> Snapshot:
    async with db.snapshot() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        sql = uow.connection.fetch_all
        [captured] = await sql("SELECT COALESCE(SUM(amount_minor), 0) AS n FROM payments WHERE status = 'SUCCEEDED'")
        [refunded] = await sql("SELECT COALESCE(SUM(amount_minor), 0) AS n FROM refunds WHERE status = 'SUCCEEDED'")
        [orphans] = await sql(
            """SELECT COUNT(*) AS n FROM refunds r
               LEFT JOIN payments p ON p.id = r.payment_id AND p.order_id = r.order_id AND p.status = 'SUCCEEDED'
               WHERE p.id IS NULL"""
        )
        [over] = await sql(
            """SELECT COUNT(*) AS n FROM (SELECT r.payment_id FROM refunds r JOIN payments p ON p.id = r.payment_id
                                          WHERE r.status <> 'FAILED' GROUP BY r.payment_id, p.amount_minor
                                          HAVING SUM(r.amount_minor) > p.amount_minor) AS over"""
        )
        [processing] = await sql("SELECT COUNT(*) AS n FROM payments WHERE status = 'PROCESSING'")
        audited: dict[UUID, list[tuple[str, dict[str, Any]]]] = {order_id: [] for order_id in order_ids}
        for row in await sql("""SELECT entity_id, action, changes FROM audit_log WHERE entity_type = 'ORDER'
                                ORDER BY occurred_at, id"""):
            audited[UUID(row["entity_id"])].append((row["action"], from_json(row["changes"])))
        events: dict[UUID, list[tuple[str, dict[str, Any]]]] = {order_id: [] for order_id in order_ids}
        for row in await sql("SELECT order_id, event_type, payload FROM outbox ORDER BY seq"):
            events[as_uuid(row["order_id"])].append((row["event_type"], from_json(row["payload"])["data"]))
        pets = await uow.pets.get_many(pet_ids)
        voucher = await uow.vouchers.get_by_code(VOUCHER)
        assert voucher is not None
        return Snapshot(
            orders={order_id: await uow.orders.get(order_id) for order_id in order_ids},
            payments={order_id: await uow.payments.of_order(order_id) for order_id in order_ids},
            refunds={order_id: await uow.payments.refunds_of(order_id) for order_id in order_ids},
            pets=pets,
            voucher_uses=voucher.uses,
            captured_minor=int(captured["n"]),
            refunded_minor=int(refunded["n"]),
            orphan_refunds=int(orphans["n"]),
            overrefunded=int(over["n"]),
            processing=int(processing["n"]),
            audited=audited,
            events=events,
        )


def minor_units(facts: list[Payment] | list[Refund]) -> int:
    """How much the SUCCEEDED payments (or refunds) moved, in minor units."""
    return sum(fact.amount.amount_minor for fact in facts if fact.status == "SUCCEEDED")


def check_money_is_conserved(facts: Snapshot) -> None:
    for order_id, payments in facts.payments.items():
        refunds = facts.refunds[order_id]
        assert minor_units(refunds) <= minor_units(payments), (order_id, payments, refunds)
        captured = {p.id: p for p in payments if p.status is PaymentStatus.SUCCEEDED}
        for refund in refunds:
            assert refund.payment_id in captured, f"refund {refund.id} returns no captured payment of its order"
        for payment in captured.values():
            live = [r for r in refunds if r.payment_id == payment.id and r.status is not RefundStatus.FAILED]
            assert sum(r.amount.amount_minor for r in live) <= payment.amount.amount_minor, (payment, refunds)
    assert facts.refunded_minor <= facts.captured_minor
    assert facts.captured_minor == sum(minor_units(payments) for payments in facts.payments.values())
    assert facts.refunded_minor == sum(minor_units(refunds) for refunds in facts.refunds.values())
    assert facts.orphan_refunds == 0
    assert facts.overrefunded == 0
    assert facts.processing == 0


def a_failure_not_asked_again(refunds: list[Refund]) -> bool:
    """A refund failed and no refund was asked after it failed (which would have asked its amount again)."""
    return any(
        failed.status is RefundStatus.FAILED
        and failed.settled_at is not None
        and not any(r.requested_at >= failed.settled_at for r in refunds if r is not failed)
        for failed in refunds
    )


def check_payment_status_fits(order: Order, payments: list[Payment], refunds: list[Refund]) -> None:
    assert order.payment_status is payment_status(payments, refunds), (order.status, payments, refunds)
    captured = [p for p in payments if p.status is PaymentStatus.SUCCEEDED]
    refunded_or_pending = {r.payment_id for r in refunds if r.status is not RefundStatus.FAILED}
    pending = [r for r in refunds if r.status is RefundStatus.PENDING]
    # The order's row carries the money its facts give: every capture, and every refund that went through.
    returned = sum(r.amount.amount_minor for r in refunds if r.status is RefundStatus.SUCCEEDED)
    shown = order.payment_summary
    assert shown.captured.amount_minor == sum(p.amount.amount_minor for p in captured), (shown, payments)
    assert shown.refunded.amount_minor == returned, (shown, refunds)
    if order.status is S.PLACED:
        assert (captured, refunds) == ([], []), "a PLACED order has captured nothing"
    elif order.status in {S.APPROVED, S.SHIPPED}:
        assert order.payment_status in KEEPS_SOME, f"{order.status} order is {order.payment_status}"
        # What the customer has paid net is the order's total: more only while a refund of the difference failed
        # and nothing was asked since (the status may show a later refund still pending meanwhile).
        paid = net_paid(payments, refunds, order.currency)
        if order.payment_status is OrderPaymentStatus.REFUND_FAILED or a_failure_not_asked_again(refunds):
            assert paid.amount_minor >= order.total.amount_minor, (order.total, paid)
        else:
            assert paid == order.total, (order.total, paid)
    elif order.status is S.CANCEL_PENDING:
        assert pending, "a CANCEL_PENDING order waits for a refund"
        assert order.payment_status is OrderPaymentStatus.REFUND_PENDING
    elif order.status is S.CANCELLED and captured:
        # After a failed cancel refund the order goes back to APPROVED or SHIPPED, so a cancelled order keeps no
        # money — unless a partial refund asked before the cancel failed after it: an operator's to return.
        paid = net_paid(payments, refunds, order.currency)
        assert paid.amount_minor == 0 or order.payment_status is OrderPaymentStatus.REFUND_FAILED, (paid, refunds)
        assert refunded_or_pending


# Per audit action, the events of one kind it makes, besides the status change's (the model's reading of the docs).
ONE_EACH = {
    "ORDER_CREATED": ["order.created"],
    "PAYMENT_SUCCEEDED": ["payment.succeeded"],
    "PAYMENT_FAILED": ["payment.failed"],
    "ORDER_CANCEL_REQUESTED": ["order.cancelRequested"],
    "ORDER_CANCELLED": ["order.cancelled"],
    "ORDER_FORCE_CANCELLED": ["order.cancelled"],
    "ORDER_CANCEL_FAILED": ["refund.failed"],
    "REFUND_SUCCEEDED": ["refund.succeeded"],
    "REFUND_FAILED": ["refund.failed"],
    "ORDER_LINE_REMOVED": ["order.itemRemoved"],
    "ORDER_BILLING_ADDRESS_CHANGED": ["order.updated"],
    "ORDER_ERASED": ["order.erased"],
}
PROCESSED = frozenset({"APPROVED", "CANCELLED", "DELIVERED"})


def check_the_outbox_agrees_with_the_audit_log(order: Order | None, audited: list[tuple[str, dict[str, Any]]],
                                               events: list[tuple[str, dict[str, Any]]]) -> None:  # fmt: skip
    # Placing and erasing move from or to no status; a refund settling moves none.
    pairs = [(c["status"]["before"], c["status"]["after"]) for _, c in audited if "status" in c]
    moves = [(before, after) for before, after in pairs if None not in (before, after) and before != after]
    told = [(data["previousStatus"], data["newStatus"]) for kind, data in events if kind == "order.statusChanged"]
    assert told == moves, (told, moves)
    for kind, data in events:
        if kind == "order.statusChanged":
            assert data["order"]["status"] == data["newStatus"]
    # A refund settled after its order was erased is audited but makes no event: its events carry the order.
    erased = next((n for n, (action, _) in enumerate(audited) if action == "ORDER_ERASED"), len(audited))
    told_of = [action for n, (action, _) in enumerate(audited) if n < erased or not action.startswith("REFUND_")]
    expected = Counter(kind for action in told_of for kind in ONE_EACH.get(action, []))
    # A cancel completed by its refund also tells the refund that completed it.
    expected["refund.succeeded"] += sum(1 for action, c in audited if action == "ORDER_CANCELLED" and "refundId" in c)
    expected["order.processed"] += sum(1 for _, after in moves if after in PROCESSED)
    written = Counter(kind for kind, _ in events if kind != "order.statusChanged")
    assert written == +expected, (written, expected)
    if order is not None:
        assert (moves[-1][1] if moves else "PLACED") == order.status
        # The newest event's order is the order as it is now: no change to it went untold.
        *_, newest = (data["order"] for _, data in events if data.get("order") is not None)
        assert newest == NativeBodies().order(order), (newest, order)


def check_stock_is_conserved(facts: Snapshot, stocks: dict[UUID, int], erased_sold: dict[UUID, int]) -> None:
    stored = [order for order in facts.orders.values() if order is not None]
    for pet_id, pet in facts.pets.items():
        reserved = sum(
            order.quantities().get(pet_id, 0)
            for order in stored
            if order.status in RESERVING and order.shipped_at is None
        )
        sold = sum(order.quantities().get(pet_id, 0) for order in stored if order.shipped_at is not None)
        assert (pet.stock.reserved, pet.stock.sold) == (reserved, sold + erased_sold[pet_id]), pet_id
        assert pet.stock.total == stocks[pet_id]
        assert pet.stock.free >= 0


def _machine(fresh_database: Callable[[], str]) -> type[RuleBasedStateMachine]:
    class MoneyMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.clock = SteppingClock()
            wiring = engine_settings(fresh_database(), refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET)
            self.use_cases: UseCases = self.run(build(wiring, clock=self.clock, hasher=FAST_HASHER))
            self.db: Db = self.run(open_database(DatabaseUrl.parse(wiring.database_url)))
            self.stocks: dict[UUID, int] = {}
            self.orders: dict[UUID, Tracked] = {}  # every order placed, erased ones too
            self.pending: list[Due] = []  # refunds the gateway has yet to settle, oldest first
            self.fees: dict[UUID, int] = {}
            self.erased_sold: dict[UUID, int] = {}  # units of erased orders that had shipped stay sold

        def run(self, work: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(work)

        def teardown(self) -> None:
            self.run(self.use_cases.close())
            self.run(self.db.close())
            self.loop.close()

        @initialize()
        def stock_the_catalogue(self) -> None:
            for index, (stock, fee) in enumerate(zip(STOCKS, FEES, strict=True)):
                pet = self.run(
                    self.use_cases.catalogue.add_pet(ADMIN, a_pet_draft(f"pet-{index}", stock=stock, fee=fee))
                )
                self.stocks[pet.id] = stock
                self.fees[pet.id] = pet.profile.adoption_fee.amount_minor
                self.erased_sold[pet.id] = 0
            self.run(
                self.use_cases.vouchers.create(
                    ADMIN,
                    VoucherDraft(
                        VOUCHER, percent_off=50, max_uses=VOUCHER_USES, min_subtotal=Money(VOUCHER_MINIMUM, "USD")
                    ),
                )
            )

        def live(self) -> list[Tracked]:
            return [order for order in self.orders.values() if not order.erased]

        def open_orders(self) -> list[Tracked]:
            """Live orders not cancelled, newest first."""
            newest_first = sorted(self.live(), key=lambda order: order.id, reverse=True)
            return [order for order in newest_first if order.status is not S.CANCELLED]

        def pick(self, data: st.DataObject) -> Tracked:
            """A live order, an open one four times as often as a cancelled one, so the saga goes deep.

            Newest first, so a shrunk example's picks still point at the same orders when older steps go.
            """
            newest_first = sorted(self.live(), key=lambda order: order.id, reverse=True)
            return data.draw(st.sampled_from(self.open_orders() * 3 + newest_first))

        def free(self, pet_id: UUID) -> int:
            taken = sum(
                order.quantities.get(pet_id, 0)
                for order in self.orders.values()
                if order.reserving or (order.shipped and not order.erased)
            )
            return self.stocks[pet_id] - taken - self.erased_sold[pet_id]

        def voucher_holders(self) -> int:
            return sum(1 for o in self.live() if o.voucher and o.status is not S.CANCELLED)

        def pending_on(self, card: str) -> bool:
            return any(due.card == card for due in self.pending)

        @precondition(lambda self: len(self.open_orders()) < MAX_OPEN_ORDERS)
        @rule(data=st.data(), voucher=st.booleans())
        def place(self, data: st.DataObject, voucher: bool) -> None:
            pets = data.draw(st.lists(st.sampled_from(sorted(self.stocks)), min_size=1, max_size=2, unique=True))
            quantities = {pet_id: data.draw(st.integers(1, 2)) for pet_id in pets}
            items = {n: line for n, line in enumerate(quantities.items(), start=1)}
            total, holds = priced(items, self.fees, voucher)
            voucher_ok = not voucher or (self.voucher_holders() < VOUCHER_USES and holds)
            stock_ok = all(quantity <= self.free(pet_id) for pet_id, quantity in quantities.items())
            lines = [LineRequest(pet_id, quantity) for pet_id, quantity in quantities.items()]
            command = PlaceOrder(lines, voucher_code=VOUCHER if voucher else None)
            try:
                order = self.run(self.use_cases.orders.place(CLERK, command)).order
            except VoucherNotApplicable:
                assert not voucher_ok
                return
            except OutOfStock:
                assert voucher_ok
                assert not stock_ok
                return
            assert voucher_ok
            assert stock_ok
            assert order.total.amount_minor == total
            self.orders[order.id] = Tracked(order.id, items, order.total, voucher)

        @precondition(lambda self: self.live())
        @rule(data=st.data(), card=st.sampled_from(CARDS))
        def pay(self, data: st.DataObject, card: str) -> None:
            order = self.pick(data)
            before = self.run(self.money_of(order.id))
            try:
                payment = self.run(self.use_cases.payments.pay(CLERK, a_payment(order, card)))
            except OrderNotPayable:
                assert order.status is not PAYABLE
                assert self.run(self.money_of(order.id)) == before, "a refused payment changed something"
                return
            except PaymentDeclined:
                assert (order.status, card) == (PAYABLE, DECLINED)
                return  # recorded FAILED; the invariant sees the order still PLACED and UNPAID
            assert (order.status, payment.status) == (PAYABLE, PaymentStatus.SUCCEEDED)
            assert card != DECLINED
            order.status, order.card, order.net_paid = S.APPROVED, card, order.total.amount_minor

        @precondition(lambda self: self.live())
        @rule(data=st.data(), card=st.sampled_from(CARDS), mistake=st.sampled_from(MISTAKES))
        def pay_a_wrong_amount(self, data: st.DataObject, card: str, mistake: str) -> None:
            order = self.pick(data)
            before = self.run(self.money_of(order.id))

            with pytest.raises((PaymentMismatch, OrderNotPayable)) as refused:
                self.run(self.use_cases.payments.pay(CLERK, a_payment(order, card, mistake)))

            assert isinstance(refused.value, PaymentMismatch) == (order.status is PAYABLE)
            assert self.run(self.money_of(order.id)) == before, "a refused payment changed something"

        async def money_of(self, order_id: UUID) -> tuple[Order, list[Payment], list[Refund]]:
            async with self.db.snapshot() as uow:
                order = await uow.orders.get(order_id)
                assert order is not None
                return order, await uow.payments.of_order(order_id), await uow.payments.refunds_of(order_id)

        @precondition(lambda self: self.live())
        @rule(data=st.data(), force=st.booleans())
        def cancel(self, data: st.DataObject, force: bool) -> None:
            order = self.pick(data)
            expected = order.after_cancel(force)
            try:
                answered = self.run(
                    self.use_cases.orders.cancel(ADMIN if force else CLERK, CancelOrder(order.id), force=force)
                )
            except OrderNotCancellable:
                assert expected is None, f"a {order.status} order was not cancellable (force={force})"
                return
            assert expected is not None, f"a {order.status} order was cancelled (force={force})"
            assert answered.status is expected
            self.cancelled(order, expected)

        def cancelled(self, order: Tracked, expected: OrderStatus) -> None:
            """A cancel went through: the refund of everything paid net is asked for (and pending, or done)."""
            if expected is S.CANCEL_PENDING and order.status is not S.CANCEL_PENDING:
                assert order.card is not None
                self.pending.append(Due(order.id, order.card, False, order.net_paid))
            if order.status is not S.CANCEL_PENDING:
                order.net_paid = 0
            order.status = expected

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), force=st.booleans(), unknown=st.booleans())
        def bulk_cancel(self, data: st.DataObject, force: bool, unknown: bool) -> None:
            """Cancel several orders (erased ones too) in one bulk: each as a single cancel would go."""
            newest_first = sorted(self.orders, reverse=True)
            picked = data.draw(st.lists(st.sampled_from(newest_first), min_size=1, max_size=3, unique=True))
            ids = [*picked, UNKNOWN] if unknown else picked

            results = self.run(
                self.use_cases.orders.bulk_cancel(ADMIN if force else CLERK, BulkCancel(ids), force=force)
            )

            assert [result.order_id for result in results] == ids
            for result in results:
                order = self.orders.get(result.order_id)
                if order is None or order.erased:
                    assert (result.outcome, result.status) == (BulkOutcome.NOT_FOUND, None)
                    continue
                expected = order.after_cancel(force)
                if expected is None:
                    assert (result.outcome, result.status) == (BulkOutcome.NOT_CANCELLABLE, order.status)
                    continue
                assert (result.outcome, result.status) == (BulkOutcome(expected), expected)
                self.cancelled(order, expected)

        def after_removal(self, order: Tracked, item: int, quantity: int) -> tuple[str, int, bool]:
            """What taking ``quantity`` units off ``item`` does: (outcome, new total, voucher kept)."""
            if order.status not in EDITABLE:
                return "status", 0, False
            if item not in order.lines:
                return "unknown-item", 0, False
            if quantity == sum(q for _, q in order.lines.values()):
                return "cancel", 0, False
            pet_id, had = order.lines[item]
            left = {n: line for n, line in order.lines.items() if n != item} | ({item: (pet_id, had - quantity)}
                                                                                if had > quantity else {})  # fmt: skip
            total, holds = priced(dict(sorted(left.items())), self.fees, order.voucher)
            if order.status is S.APPROVED and total > order.total.amount_minor:
                return "would-cost-more", 0, False
            return "edited", total, holds

        @precondition(lambda self: self.live())
        @rule(data=st.data())
        def take_units_off_a_line(self, data: st.DataObject) -> None:
            """A whole line or some of its units, or an item the order lacks; the last units cancel the order."""
            order = self.pick(data)
            item = data.draw(st.sampled_from([*sorted(order.lines), max(order.lines) + 1]))
            quantity = data.draw(st.integers(1, order.lines[item][1])) if item in order.lines else 1
            outcome, total, holds = self.after_removal(order, item, quantity)
            try:
                answered = self.run(self.use_cases.order_edits.remove_line(CLERK, RemoveLine(order.id, item, quantity)))
            except OrderNotEditable as refused:
                reason = refused.details["reason"]
                assert outcome == reason, (outcome, reason)
                return
            except NotFound:
                assert outcome == "unknown-item"
                return
            if outcome == "cancel":
                expected = order.after_cancel(force=False)
                assert expected is not None
                assert answered.status is expected
                self.cancelled(order, expected)
                return
            assert outcome == "edited", outcome
            pet_id, had = order.lines[item]
            order.lines = {n: line for n, line in order.lines.items() if n != item or had > quantity}
            if had > quantity:
                order.lines[item] = (pet_id, had - quantity)
            order.total, order.voucher = Money(total, order.total.currency), holds
            assert (answered.status, answered.total) == (order.status, order.total)
            self.refund_the_difference(order)

        def refund_the_difference(self, order: Tracked) -> None:
            """A paid order's customer gets back what they paid net beyond the new total: at once or later."""
            owed = order.net_paid - order.total.amount_minor
            if order.status is not S.APPROVED or owed <= 0:
                return
            assert order.card is not None
            if order.card != SUCCEEDS:
                self.pending.append(Due(order.id, order.card, True, owed))
            order.net_paid -= owed

        @precondition(lambda self: self.live())
        @rule(data=st.data())
        def ship(self, data: st.DataObject) -> None:
            order = self.pick(data)
            try:
                shipped = self.run(self.use_cases.orders.ship(ADMIN, order.id))
            except IllegalTransition:
                assert order.status is not SHIPPABLE
                return
            assert order.status is SHIPPABLE, f"a {order.status} order was shipped"
            assert shipped.status is S.SHIPPED
            order.status, order.shipped = S.SHIPPED, True

        def settle(self, card: str) -> None:
            """Let the gateway settle the oldest pending refunds, up to the first one of ``card``."""
            count = 1 + next(i for i, due in enumerate(self.pending) if due.card == card)
            settling, self.pending = self.pending[:count], self.pending[count:]
            self.clock.advance(AFTER_THE_REFUND_DELAY)

            settled = self.run(self.use_cases.refunds.settle_pending(limit=count))

            assert settled == count
            for due in settling:
                order = self.orders[due.order_id]
                if order.erased:
                    continue  # the refund settles; there is no order left to move
                if due.card == REFUND_FAILS_LATER:
                    order.net_paid += due.minor  # nothing came back
                if due.partial:
                    continue  # a partial refund moves no status
                assert order.status is S.CANCEL_PENDING
                if due.card == REFUNDS_LATER:
                    order.status = S.CANCELLED
                else:
                    order.status = S.SHIPPED if order.shipped else S.APPROVED

        @precondition(lambda self: self.pending_on(REFUNDS_LATER))
        @rule()
        def confirm_refund(self) -> None:
            self.settle(REFUNDS_LATER)

        @precondition(lambda self: self.pending_on(REFUND_FAILS_LATER))
        @rule()
        def fail_refund(self) -> None:
            self.settle(REFUND_FAILS_LATER)

        @precondition(lambda self: self.live())
        @rule(data=st.data())
        def erase(self, data: st.DataObject) -> None:
            order = self.pick(data)

            self.run(self.use_cases.orders.erase(ADMIN, order.id))

            order.erased = True
            if order.shipped:
                for pet_id, quantity in order.quantities.items():
                    self.erased_sold[pet_id] += quantity

        @invariant()
        def the_database_conserves_money_and_stock(self) -> None:
            facts = self.run(read(self.db, sorted(self.orders), sorted(self.stocks)))

            check_money_is_conserved(facts)
            for order_id, stored in facts.orders.items():
                tracked = self.orders[order_id]
                if stored is None:
                    assert tracked.erased, f"order {order_id} vanished"
                    continue
                assert not tracked.erased, f"order {order_id} outlived its erasure"
                assert (stored.status, stored.shipped_at is not None) == (tracked.status, tracked.shipped)
                assert {line.id: (line.pet_id, line.quantity) for line in stored.lines} == tracked.lines
                assert (stored.total, stored.voucher_id is not None) == (tracked.total, tracked.voucher)
                check_payment_status_fits(stored, facts.payments[order_id], facts.refunds[order_id])
            for order_id, stored in facts.orders.items():
                check_the_outbox_agrees_with_the_audit_log(stored, facts.audited[order_id], facts.events[order_id])
            check_stock_is_conserved(facts, self.stocks, self.erased_sold)
            assert facts.voucher_uses == self.voucher_holders()
            holders = [
                o for o in facts.orders.values() if o is not None and o.voucher_id and o.status is not S.CANCELLED
            ]
            assert facts.voucher_uses == len(holders)

    return MoneyMachine


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_money_and_stock_are_conserved_through_any_sequence_of_payments_cancels_and_refunds(
    fresh_database: Callable[[], str],
) -> None:
    machine = _machine(fresh_database)
    machine.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        # Shrinking a failure of this database-backed machine under the explain phase's tracing, and once per
        # distinct failure, took five minutes; without both, one to two, down to the four or five steps that matter.
        phases=[phase for phase in Phase if phase is not Phase.explain],
        report_multiple_bugs=False,
    )

    machine.TestCase().runTest()
