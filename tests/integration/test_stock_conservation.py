"""A Hypothesis state machine over place (with or without a voucher, one pet or two) / cancel / bulk cancel /
approve / ship / deliver / erase / take units off a line, on each engine.

After every step the database must agree with a model: per pet, the reserved units are exactly
what open orders hold, the sold units exactly what shipped orders took (erased or not), and free =
total - reserved - sold never goes negative; the voucher's uses are exactly the orders that hold it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from orderline.application.errors import NotFound
from orderline.application.order_edits import RemoveLine
from orderline.application.orders import BulkCancel, BulkOutcome, CancelOrder, LineRequest, PlaceOrder
from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.application.vouchers import VoucherDraft
from orderline.bootstrap import build
from orderline.domain.errors import (
    IllegalTransition,
    OrderNotCancellable,
    OrderNotEditable,
    OrderNotPayable,
    OutOfStock,
    VoucherNotApplicable,
)
from orderline.domain.order import Order
from orderline.domain.status import OrderStatus
from tests.support import ADMIN, ANYONE, FAST_HASHER, a_pet_draft, approve, engine_settings

T = TypeVar("T")
OPEN = {OrderStatus.PLACED, OrderStatus.APPROVED}
TAKEN = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
STOCKS = (1, 2, 3)
VOUCHER_USES = 2
UNKNOWN = UUID(int=7)  # an id no order has


def _machine(fresh_database: Callable[[], str]) -> type[RuleBasedStateMachine]:
    class StockMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            url = fresh_database()
            self.use_cases: UseCases = self.run(build(engine_settings(url), hasher=FAST_HASHER))
            self.pets: list[UUID] = []
            self.orders: dict[UUID, Order] = {}  # the model: the last known state of each order
            self.erased_sold: dict[UUID, int] = {}  # units of erased orders that had shipped stay sold

        def run(self, work: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(work)

        def teardown(self) -> None:
            self.run(self.use_cases.close())
            self.loop.close()

        @initialize()
        def stock_the_catalogue(self) -> None:
            for index, stock in enumerate(STOCKS):
                draft = a_pet_draft(f"pet-{index}", stock=stock)
                self.pets.append(self.run(self.use_cases.catalogue.add_pet(ADMIN, draft)).id)
            self.erased_sold = dict.fromkeys(self.pets, 0)
            self.run(self.use_cases.vouchers.create(ADMIN, VoucherDraft("HALF", percent_off=50, max_uses=VOUCHER_USES)))

        def voucher_holders(self) -> int:
            return sum(1 for o in self.orders.values() if o.voucher_code and o.status is not OrderStatus.CANCELLED)

        def free(self, pet_id: UUID) -> int:
            held = sum(
                line.quantity
                for order in self.orders.values()
                if order.status in OPEN | TAKEN
                for line in order.lines
                if line.pet_id == pet_id
            )
            return STOCKS[self.pets.index(pet_id)] - held - self.erased_sold[pet_id]

        @rule(data=st.data(), quantity=st.integers(1, 3), voucher=st.booleans())
        def place(self, data: st.DataObject, quantity: int, voucher: bool) -> None:
            pet_id = data.draw(st.sampled_from(self.pets))
            voucher_ok = not voucher or self.voucher_holders() < VOUCHER_USES
            expected_ok = voucher_ok and self.free(pet_id) >= quantity
            command = PlaceOrder([LineRequest(pet_id, quantity)], voucher_code="HALF" if voucher else None)
            try:
                order = self.run(self.use_cases.orders.place(ANYONE, command)).order
            except VoucherNotApplicable:
                assert not voucher_ok
                return
            except OutOfStock:
                assert voucher_ok
                assert not expected_ok
                return
            assert expected_ok
            self.orders[order.id] = order

        @rule(data=st.data())
        def place_two_pets(self, data: st.DataObject) -> None:
            pets = data.draw(st.lists(st.sampled_from(self.pets), min_size=2, max_size=2, unique=True))
            quantities = [data.draw(st.integers(1, 2)) for _ in pets]
            expected_ok = all(self.free(pet) >= quantity for pet, quantity in zip(pets, quantities, strict=True))
            lines = [LineRequest(pet, quantity) for pet, quantity in zip(pets, quantities, strict=True)]
            try:
                order = self.run(self.use_cases.orders.place(ANYONE, PlaceOrder(lines))).order
            except OutOfStock:
                assert not expected_ok
                return
            assert expected_ok
            self.orders[order.id] = order

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def take_units_off_a_line(self, data: st.DataObject) -> None:
            """A whole line or some of its units, or an item the order does not have; the last units cancel."""
            order = self.pick(data)
            line_id = data.draw(st.integers(1, len(order.lines) + 1))
            line = order.line(line_id)
            quantity = data.draw(st.integers(1, line.quantity)) if line is not None else 1
            try:
                edited = self.run(
                    self.use_cases.order_edits.remove_line(ADMIN, RemoveLine(order.id, line_id, quantity))
                )
            except OrderNotEditable:
                assert order.status not in OPEN
                return
            except NotFound:
                assert order.status in OPEN
                assert line is None
                return
            assert order.status in OPEN
            assert line is not None
            if quantity == order.units:
                assert (edited.status, edited.lines) == (OrderStatus.CANCELLED, order.lines)
            else:
                assert edited.status is order.status
                assert edited.units == order.units - quantity
            self.orders[order.id] = edited

        def pick(self, data: st.DataObject) -> Order:
            return self.orders[data.draw(st.sampled_from(sorted(self.orders)))]

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            order = self.pick(data)
            try:
                self.orders[order.id] = self.run(self.use_cases.orders.cancel(ADMIN, CancelOrder(order.id)))
            except OrderNotCancellable:
                assert order.status not in OPEN
            else:
                assert order.status in OPEN

        @precondition(lambda self: self.orders)
        @rule(data=st.data(), unknown=st.booleans())
        def bulk_cancel(self, data: st.DataObject, unknown: bool) -> None:
            picked = data.draw(st.lists(st.sampled_from(sorted(self.orders)), min_size=1, max_size=4, unique=True))
            ids = [*picked, UNKNOWN] if unknown else picked

            results = self.run(self.use_cases.orders.bulk_cancel(ADMIN, BulkCancel(ids)))

            assert [result.order_id for result in results] == ids
            for result in results:
                order = self.orders.get(result.order_id)
                if order is None:
                    assert (result.outcome, result.status) == (BulkOutcome.NOT_FOUND, None)
                elif order.status in OPEN:  # nothing is ever paid by a card that refunds later here
                    assert (result.outcome, result.status) == (BulkOutcome.CANCELLED, OrderStatus.CANCELLED)
                    self.orders[order.id] = self.run(self.use_cases.orders.get(ADMIN, order.id))
                else:
                    assert (result.outcome, result.status) == (BulkOutcome.NOT_CANCELLABLE, order.status)

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def approve(self, data: st.DataObject) -> None:
            order = self.pick(data)
            try:
                self.orders[order.id] = self.run(approve(self.use_cases, order))
            except OrderNotPayable:
                assert order.status is not OrderStatus.PLACED

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def ship(self, data: st.DataObject) -> None:
            order = self.pick(data)
            try:
                self.orders[order.id] = self.run(self.use_cases.orders.ship(ADMIN, order.id))
            except IllegalTransition:
                assert order.status is not OrderStatus.APPROVED

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def deliver(self, data: st.DataObject) -> None:
            order = self.pick(data)
            try:
                self.orders[order.id] = self.run(self.use_cases.orders.deliver(ADMIN, order.id))
            except IllegalTransition:
                assert order.status is not OrderStatus.SHIPPED

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def erase(self, data: st.DataObject) -> None:
            order = self.pick(data)

            self.run(self.use_cases.orders.erase(ADMIN, order.id))

            del self.orders[order.id]
            if order.status in TAKEN:
                for line in order.lines:
                    self.erased_sold[line.pet_id] += line.quantity

        @invariant()
        def voucher_uses_are_the_orders_holding_it(self) -> None:
            voucher = self.run(self.use_cases.vouchers.get(ADMIN, "HALF"))
            assert voucher.uses == self.voucher_holders()

        @invariant()
        def stock_is_conserved(self) -> None:
            for pet_id in self.pets:
                pet = self.run(self.use_cases.catalogue.get_pet(PUBLIC, pet_id))
                held = {"open": 0, "taken": 0}
                for order in self.orders.values():
                    quantity = sum(line.quantity for line in order.lines if line.pet_id == pet_id)
                    if order.status in OPEN:
                        held["open"] += quantity
                    elif order.status in TAKEN:
                        held["taken"] += quantity
                assert (pet.stock.reserved, pet.stock.sold) == (held["open"], held["taken"] + self.erased_sold[pet_id])
                assert pet.stock.free == pet.stock.total - pet.stock.reserved - pet.stock.sold >= 0
                assert pet.stock.total == STOCKS[self.pets.index(pet_id)]

        @invariant()
        def stored_orders_match_the_model(self) -> None:
            for order in self.orders.values():
                stored = self.run(self.use_cases.orders.get(ADMIN, order.id))
                assert (stored.status, stored.version) == (order.status, order.version)

    return StockMachine


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_stock_is_conserved_through_any_sequence_of_commands(fresh_database: Callable[[], str]) -> None:
    machine = _machine(fresh_database)
    machine.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )

    machine.TestCase().runTest()
