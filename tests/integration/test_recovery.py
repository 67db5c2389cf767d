"""Crash recovery: a process that dies mid-request leaves nothing stuck, and nothing done twice.

A crash is a gateway in front of the test gateway that lets the charge happen and then "kills the
process": it raises a BaseException no use case catches, so the request ends right there, as at
kill -9, with the payment recorded PROCESSING and the gateway's answer never kept. The use cases of
a second wiring on the same database then play the restarted process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import msgspec
import pytest

from orderline.application.audit import Action
from orderline.application.gateway import ChargeOutcome, GatewayUnavailable, PaymentGateway
from orderline.application.idempotency import IN_FLIGHT_LEASE, IdempotencyKeyInUse, KeyClaim
from orderline.application.orders import CancelOrder, LineRequest, PlacedOrder, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.ports import StoredResponse
from orderline.application.principal import PUBLIC
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.money import Money
from orderline.domain.order import Order
from orderline.domain.payment import OrderPaymentStatus, Payment, PaymentStatus, RefundStatus
from orderline.domain.status import OrderStatus
from orderline.gateways.testmode import ANSWERS_SLOWLY, DECLINED, SUCCEEDS
from tests.support import (
    ADMIN,
    ANYONE,
    FAST_HASHER,
    Db,
    GatewayInFront,
    SteppingClock,
    a_card_input,
    a_pet,
    a_pet_draft,
    an_order,
)

RECOVER_AFTER = timedelta(seconds=30)  # the default of ORDERLINE_PAYMENT_RECOVERY_AFTER
LATER = RECOVER_AFTER + timedelta(seconds=1)


class ProcessDied(BaseException):
    """The process ended mid-request (kill -9): nothing after this point ran."""


class Network(GatewayInFront):
    """What stands between the service and the test gateway: healthy, crashing after a charge, or down."""

    def __init__(self, gateway: PaymentGateway) -> None:
        super().__init__(gateway)
        self.die_after_charge = False
        self.down = False
        self.charges: list[UUID] = []  # payment ids the gateway was asked to charge, repeats included

    async def charge(self, payment_id: UUID, amount: Money, card_token: str) -> ChargeOutcome:
        if self.down:
            raise GatewayUnavailable("connection refused")
        self.charges.append(payment_id)
        outcome = await self._gateway.charge(payment_id, amount, card_token)
        if self.die_after_charge:
            raise ProcessDied
        return outcome


Wiring = Callable[..., Awaitable[tuple[UseCases, Network]]]


@pytest.fixture
async def wire(settings: Settings, clock: SteppingClock) -> AsyncIterator[Wiring]:
    """Wire a process of the service on the test's database, with its own network to the gateway (and the
    settings the call changes)."""
    settings = msgspec.structs.replace(settings, test_gateway_slow_charge=0.05)  # slow, but not for a test's time
    opened: list[UseCases] = []

    async def wired(**changes: object) -> tuple[UseCases, Network]:
        networks: list[Network] = []

        def in_front(gateway: PaymentGateway) -> PaymentGateway:
            networks.append(Network(gateway))
            return networks[-1]

        use_cases = await build(
            msgspec.structs.replace(settings, **changes), clock=clock, hasher=FAST_HASHER, gateway=in_front
        )
        opened.append(use_cases)
        return use_cases, networks[0]

    yield wired
    for use_cases in opened:
        await use_cases.close()


async def a_payment_cut_off_by_a_crash(wire: Wiring, card: str = SUCCEEDS) -> tuple[Order, UseCases, Network]:
    """An order whose payment was charged by a process that died before keeping the answer; and the
    restarted process that must finish it."""
    dying, network = await wire()
    pet = await a_pet(dying, stock=3)
    order = await an_order(dying, pet)
    network.die_after_charge = True
    with pytest.raises(ProcessDied):
        await dying.payments.pay(ADMIN, PayOrder(order.id, str(order.total), order.currency, a_card_input(card)))
    restarted, restarted_network = await wire()
    return order, restarted, restarted_network


async def payments_of(db: Db, order_id: UUID, tenant: UUID = PUBLIC) -> list[Payment]:
    async with db.snapshot(tenant) as uow:
        return await uow.payments.of_order(order_id)


async def test_a_crash_after_the_charge_leaves_the_payment_processing_and_the_order_unpaid(
    wire: Wiring, db: Db
) -> None:
    order, restarted, _ = await a_payment_cut_off_by_a_crash(wire)

    [payment] = await payments_of(db, order.id)
    unpaid = await restarted.orders.get(ADMIN, order.id)

    assert payment.status is PaymentStatus.PROCESSING
    assert payment.card_token is not None
    assert (unpaid.status, unpaid.payment_status) == (OrderStatus.PLACED, OrderPaymentStatus.UNPAID)


@pytest.mark.parametrize(
    ("card", "payment_status", "order_status"),
    [
        (SUCCEEDS, PaymentStatus.SUCCEEDED, OrderStatus.APPROVED),
        (ANSWERS_SLOWLY, PaymentStatus.SUCCEEDED, OrderStatus.APPROVED),
        (DECLINED, PaymentStatus.FAILED, OrderStatus.PLACED),
    ],
)
async def test_recovery_asks_the_gateway_again_with_the_same_key_and_records_its_answer(
    wire: Wiring, clock: SteppingClock, db: Db, card: str, payment_status: PaymentStatus, order_status: OrderStatus
) -> None:
    order, restarted, network = await a_payment_cut_off_by_a_crash(wire, card)
    [stuck] = await payments_of(db, order.id)
    clock.advance(LATER)

    recorded = await restarted.payments.recover()

    [payment] = await payments_of(db, order.id)
    assert recorded == 1
    assert network.charges == [stuck.id]  # asked again under the payment's own id: the provider's idempotency key
    assert payment.status is payment_status
    assert (await restarted.orders.get(ADMIN, order.id)).status is order_status


async def test_a_recovered_payment_is_audited_as_the_systems_doing(wire: Wiring, clock: SteppingClock) -> None:
    order, restarted, _ = await a_payment_cut_off_by_a_crash(wire)
    clock.advance(LATER)

    await restarted.payments.recover()

    page = await restarted.audit_log.list(ADMIN, AuditQuery(entity_id=str(order.id)))
    [succeeded] = [entry for entry in page.items if entry.action is Action.PAYMENT_SUCCEEDED]
    assert (succeeded.actor_kind, succeeded.api) == ("system", None)  # through no API: the background's doing


async def test_after_a_recovered_decline_the_order_can_be_paid_again(wire: Wiring, clock: SteppingClock) -> None:
    order, restarted, _ = await a_payment_cut_off_by_a_crash(wire, DECLINED)
    clock.advance(LATER)
    await restarted.payments.recover()

    payment = await restarted.payments.pay(
        ADMIN, PayOrder(order.id, str(order.total), order.currency, a_card_input(SUCCEEDS))
    )

    assert payment.status is PaymentStatus.SUCCEEDED


async def test_recovery_leaves_a_payment_alone_while_its_request_may_still_be_running(
    wire: Wiring, clock: SteppingClock, db: Db
) -> None:
    order, restarted, network = await a_payment_cut_off_by_a_crash(wire)
    clock.advance(RECOVER_AFTER - timedelta(seconds=5))

    recorded = await restarted.payments.recover()

    assert recorded == 0
    assert network.charges == []
    assert [p.status for p in await payments_of(db, order.id)] == [PaymentStatus.PROCESSING]


async def test_while_the_gateway_stays_unreachable_the_payment_waits_for_the_next_round(
    wire: Wiring, clock: SteppingClock, db: Db
) -> None:
    order, restarted, network = await a_payment_cut_off_by_a_crash(wire)
    clock.advance(LATER)
    network.down = True

    unreachable = await restarted.payments.recover()
    network.down = False
    reachable = await restarted.payments.recover()

    assert (unreachable, reachable) == (0, 1)
    assert [p.status for p in await payments_of(db, order.id)] == [PaymentStatus.SUCCEEDED]


async def test_a_charge_recovered_after_its_order_was_cancelled_is_refunded(
    wire: Wiring, clock: SteppingClock, db: Db
) -> None:
    order, restarted, _ = await a_payment_cut_off_by_a_crash(wire)

    await restarted.orders.cancel(ADMIN, CancelOrder(order.id))
    clock.advance(LATER)
    await restarted.payments.recover()

    async with db.snapshot() as uow:
        [payment], [refund] = await uow.payments.of_order(order.id), await uow.payments.refunds_of(order.id)
    cancelled = await restarted.orders.get(ADMIN, order.id)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, payment.amount)
    assert (cancelled.status, cancelled.payment_status) == (OrderStatus.CANCELLED, OrderPaymentStatus.REFUNDED)


async def test_two_processes_recovering_at_once_record_the_charge_once(
    wire: Wiring, clock: SteppingClock, db: Db
) -> None:
    order, restarted, _ = await a_payment_cut_off_by_a_crash(wire)
    other, _ = await wire()
    clock.advance(LATER)

    await asyncio.gather(restarted.payments.recover(), other.payments.recover())

    page = await restarted.audit_log.list(ADMIN, AuditQuery(entity_id=str(order.id)))
    assert [e.action for e in page.items].count(Action.PAYMENT_SUCCEEDED) == 1
    assert [p.status for p in await payments_of(db, order.id)] == [PaymentStatus.SUCCEEDED]
    assert (await restarted.orders.get(ADMIN, order.id)).status is OrderStatus.APPROVED


# Idempotency keys: completed in the transaction of the work, taken over when their request died.

OWNER, KEY, FINGERPRINT = "address:198.51.100.7", "place-once", "f" * 64


def answer_of(placed: PlacedOrder) -> StoredResponse:
    return StoredResponse(
        201, {"location": f"/v1/orders/{placed.order.id}"}, msgspec.json.encode(placed.order.number).decode()
    )


async def test_a_key_is_answered_in_the_same_transaction_as_its_work_so_a_crash_right_after_loses_nothing(
    use_cases: UseCases,
) -> None:
    pet = await a_pet(use_cases)
    assert await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT) is None
    claim = KeyClaim(OWNER, KEY, answer_of)

    placed = await use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(pet.id)]), claim=claim)
    # ... and the process dies here, before anything else runs.

    replayed = await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT)
    assert replayed == answer_of(placed)


async def test_a_refused_command_leaves_its_key_unanswered(use_cases: UseCases) -> None:
    pet = await a_pet(use_cases, stock=1)
    await an_order(use_cases, pet)
    await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT)

    with pytest.raises(Exception, match="free"):
        await use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(pet.id)]), claim=KeyClaim(OWNER, KEY, answer_of))

    with pytest.raises(IdempotencyKeyInUse):  # still the refused request's, until it releases the key
        await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT)


async def test_a_key_left_in_flight_by_a_request_that_died_is_taken_over_after_the_lease(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT)
    # the request dies before its work commits: the key stays IN_FLIGHT, unanswered

    with pytest.raises(IdempotencyKeyInUse):
        await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT)
    clock.advance(IN_FLIGHT_LEASE + timedelta(seconds=1))
    retried = await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT)

    assert retried is None  # the retry holds the key now and does the work


async def test_an_answered_key_is_never_taken_over_however_old(use_cases: UseCases, clock: SteppingClock) -> None:
    pet = await a_pet(use_cases)
    await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT)
    placed = await use_cases.orders.place(
        ANYONE, PlaceOrder([LineRequest(pet.id)]), claim=KeyClaim(OWNER, KEY, answer_of)
    )
    clock.advance(IN_FLIGHT_LEASE * 100)

    assert await use_cases.idempotency.claim(PUBLIC, OWNER, KEY, FINGERPRINT) == answer_of(placed)


async def test_a_sandbox_tenants_clock_moved_past_the_threshold_lets_recovery_finish_its_payment_at_once(
    wire: Wiring, db: Db
) -> None:
    dying, network = await wire(sandbox=True)
    assert dying.sandbox is not None
    tenant = (await dying.sandbox.create_tenant(ANYONE)).tenant
    admin = replace(ADMIN, tenant=tenant)
    in_tenant = await an_order(dying, await dying.catalogue.add_pet(admin, a_pet_draft()), by=admin)
    in_public = await an_order(dying, await a_pet(dying))
    network.die_after_charge = True
    for principal, order in ((admin, in_tenant), (ADMIN, in_public)):
        with pytest.raises(ProcessDied):
            await dying.payments.pay(principal, PayOrder(order.id, str(order.total), order.currency, a_card_input()))
    restarted, _ = await wire(sandbox=True)
    assert restarted.sandbox is not None
    await restarted.recovery.run_once()
    untouched = await payments_of(db, in_tenant.id, tenant)

    await restarted.sandbox.advance_clock(admin, tenant, int(LATER.total_seconds()))
    await restarted.recovery.run_once()

    assert [p.status for p in untouched] == [PaymentStatus.PROCESSING]  # 30 s had not passed in its time yet
    assert [p.status for p in await payments_of(db, in_tenant.id, tenant)] == [PaymentStatus.SUCCEEDED]
    assert (await restarted.orders.get(admin, in_tenant.id)).status is OrderStatus.APPROVED
    assert [p.status for p in await payments_of(db, in_public.id)] == [PaymentStatus.PROCESSING]  # real time: 0 s
