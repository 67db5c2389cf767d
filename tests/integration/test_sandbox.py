"""Sandbox controls on both engines (ADR 0041): tenant clocks, and faults injected into the test gateway once."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import pytest

from orderline.application.errors import InvalidInput, NotFound
from orderline.application.orders import CancelOrder, LineRequest, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.principal import Principal
from orderline.application.sandbox import Call, Fault, FaultRequest, Sandbox
from orderline.application.use_cases import UseCases
from orderline.config import Settings
from orderline.domain.errors import PaymentDeclined
from orderline.domain.order import Order
from orderline.domain.payment import RefundStatus
from orderline.gateways.testmode import FAULT_FAILURE
from tests.support import (
    ADMIN,
    ANYONE,
    CLERK,
    TEST_GATEWAY_SECRET,
    SteppingClock,
    a_card_input,
    a_pet_draft,
    engine_settings,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(
        database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, sandbox=True,
        test_gateway_refund_delay=60, test_gateway_slow_charge=0.2,
    )  # fmt: skip


@pytest.fixture
def sandbox(use_cases: UseCases) -> Sandbox:
    assert use_cases.sandbox is not None
    return use_cases.sandbox


async def a_tenant(sandbox: Sandbox) -> tuple[UUID, Principal]:
    """A new sandbox tenant, and an administrator acting in it."""
    tenant = (await sandbox.create_tenant(ANYONE)).tenant
    return tenant, replace(ADMIN, tenant=tenant)


async def an_order_in(use_cases: UseCases, admin: Principal) -> Order:
    pet = await use_cases.catalogue.add_pet(admin, a_pet_draft())
    return (await use_cases.orders.place(admin, PlaceOrder([LineRequest(pet.id)]))).order


async def paid(use_cases: UseCases, admin: Principal) -> Order:
    order = await an_order_in(use_cases, admin)
    await use_cases.payments.pay(admin, PayOrder(order.id, str(order.total), order.currency, a_card_input()))
    return order


async def test_a_tenant_clock_moves_the_time_of_work_done_for_that_tenant_only(
    sandbox: Sandbox, clock: SteppingClock
) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant
    other = (await sandbox.create_tenant(ANYONE)).tenant

    await sandbox.advance_clock(replace(ADMIN, tenant=tenant), tenant, 3600)

    async with sandbox.times.acting_for(tenant) as time:
        assert time is not None
        assert time.offset == timedelta(hours=1)
    async with sandbox.times.acting_for(other) as time:
        assert time is not None
        assert time.offset == timedelta(0)


async def test_advancing_answers_the_tenants_new_now(sandbox: Sandbox, clock: SteppingClock) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant
    before = clock.now()

    now = sandbox.now_of(await sandbox.advance_clock(replace(ADMIN, tenant=tenant), tenant, 86400))

    assert timedelta(days=1) < now - before < timedelta(days=1, seconds=1)


async def test_advances_add_up(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant

    await sandbox.advance_clock(replace(ADMIN, tenant=tenant), tenant, 60)
    await sandbox.advance_clock(replace(ADMIN, tenant=tenant), tenant, 30)

    async with sandbox.times.acting_for(tenant) as time:
        assert time is not None
        assert time.offset == timedelta(seconds=90)


@pytest.mark.parametrize("seconds", [0, -1, 366 * 86400 + 1])
async def test_a_clock_never_goes_back_nor_jumps_more_than_a_year(sandbox: Sandbox, seconds: int) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant

    with pytest.raises(InvalidInput) as refused:
        await sandbox.advance_clock(replace(ADMIN, tenant=tenant), tenant, seconds)

    assert refused.value.field == "advanceSeconds"


async def test_the_clock_of_a_tenant_the_sandbox_did_not_make_is_not_found(sandbox: Sandbox) -> None:
    stranger = uuid.uuid4()

    with pytest.raises(NotFound):
        await sandbox.advance_clock(replace(ADMIN, tenant=stranger), stranger, 60)


async def test_a_tenant_is_not_found_by_an_administrator_acting_in_another(sandbox: Sandbox) -> None:
    tenant, _admin = await a_tenant(sandbox)
    _other, other_admin = await a_tenant(sandbox)

    with pytest.raises(NotFound):
        await sandbox.advance_clock(other_admin, tenant, 60)
    with pytest.raises(NotFound):
        await sandbox.inject_fault(other_admin, tenant, FaultRequest("charge", "fail"))
    with pytest.raises(NotFound):
        await sandbox.delete_tenant(other_admin, tenant)


async def test_a_fault_is_taken_once(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant
    await sandbox.inject_fault(replace(ADMIN, tenant=tenant), tenant, FaultRequest("refund", "fail"))

    first, second = await sandbox.take_fault(tenant, Call.REFUND), await sandbox.take_fault(tenant, Call.REFUND)

    assert (first, second) == (Fault.FAIL, None)


async def test_a_fault_waits_for_its_own_call_and_its_own_tenant(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant
    other = (await sandbox.create_tenant(ANYONE)).tenant
    await sandbox.inject_fault(replace(ADMIN, tenant=tenant), tenant, FaultRequest("charge", "timeout"))

    assert await sandbox.take_fault(tenant, Call.REFUND) is None
    assert await sandbox.take_fault(other, Call.CHARGE) is None
    assert await sandbox.take_fault(tenant, Call.CHARGE) is Fault.TIMEOUT


async def test_a_second_fault_for_the_same_call_replaces_the_first(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant
    await sandbox.inject_fault(replace(ADMIN, tenant=tenant), tenant, FaultRequest("webhook", "fail"))
    await sandbox.inject_fault(replace(ADMIN, tenant=tenant), tenant, FaultRequest("webhook", "timeout"))

    assert [await sandbox.take_fault(tenant, Call.WEBHOOK) for _ in range(2)] == [Fault.TIMEOUT, None]


async def test_of_many_calls_at_once_exactly_one_takes_the_fault(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant
    await sandbox.inject_fault(replace(ADMIN, tenant=tenant), tenant, FaultRequest("charge", "fail"))

    taken = await asyncio.gather(*(sandbox.take_fault(tenant, Call.CHARGE) for _ in range(8)))

    assert sorted(map(str, taken)) == ["None"] * 7 + ["fail"]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (FaultRequest("shipment", "fail"), "next"),
        (FaultRequest("refund", "explode"), "outcome"),
        (FaultRequest("webhook", "pending"), "outcome"),
    ],
)
async def test_a_fault_the_sandbox_cannot_inject_is_refused_naming_the_field(
    sandbox: Sandbox, request_: FaultRequest, field: str
) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant

    with pytest.raises(InvalidInput) as refused:
        await sandbox.inject_fault(replace(ADMIN, tenant=tenant), tenant, request_)

    assert refused.value.field == field


async def test_only_an_administrator_drives_a_tenants_clock_and_faults(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ANYONE)).tenant

    with pytest.raises(Exception, match="admin"):
        await sandbox.advance_clock(CLERK, tenant, 60)
    with pytest.raises(Exception, match="admin"):
        await sandbox.inject_fault(CLERK, tenant, FaultRequest("charge", "fail"))


async def test_an_injected_charge_failure_declines_the_next_payment_only(use_cases: UseCases, sandbox: Sandbox) -> None:
    tenant, admin = await a_tenant(sandbox)
    await sandbox.inject_fault(admin, tenant, FaultRequest("charge", "fail"))
    order = await an_order_in(use_cases, admin)
    pay = PayOrder(order.id, str(order.total), order.currency, a_card_input())

    async with sandbox.times.acting_for(tenant):
        with pytest.raises(PaymentDeclined):
            await use_cases.payments.pay(admin, pay)
        payment = await use_cases.payments.pay(admin, pay)

    assert str(payment.status) == "SUCCEEDED"


async def test_an_injected_charge_timeout_fails_the_payment_as_the_gateway_unreachable(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant, admin = await a_tenant(sandbox)
    await sandbox.inject_fault(admin, tenant, FaultRequest("charge", "timeout"))
    order = await an_order_in(use_cases, admin)

    async with sandbox.times.acting_for(tenant):
        with pytest.raises(PaymentDeclined) as declined:
            await use_cases.payments.pay(admin, PayOrder(order.id, str(order.total), "USD", a_card_input()))

    assert declined.value.details["decline_code"] == "gateway_unavailable"


async def test_an_injected_pending_charge_is_answered_after_the_slow_charge_delay(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant, admin = await a_tenant(sandbox)
    await sandbox.inject_fault(admin, tenant, FaultRequest("charge", "pending"))
    order = await an_order_in(use_cases, admin)
    started = time.monotonic()

    async with sandbox.times.acting_for(tenant):
        payment = await use_cases.payments.pay(admin, PayOrder(order.id, str(order.total), "USD", a_card_input()))

    assert str(payment.status) == "SUCCEEDED"
    assert time.monotonic() - started >= 0.2


async def test_a_fault_of_one_tenant_leaves_the_others_payments_alone(use_cases: UseCases, sandbox: Sandbox) -> None:
    tenant, admin = await a_tenant(sandbox)
    other, other_admin = await a_tenant(sandbox)
    await sandbox.inject_fault(admin, tenant, FaultRequest("charge", "fail"))
    order = await an_order_in(use_cases, other_admin)

    async with sandbox.times.acting_for(other):
        payment = await use_cases.payments.pay(other_admin, PayOrder(order.id, str(order.total), "USD", a_card_input()))

    assert str(payment.status) == "SUCCEEDED"
    assert await sandbox.take_fault(tenant, Call.CHARGE) is Fault.FAIL


async def test_an_injected_refund_failure_rolls_the_cancel_back_to_approved(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant, admin = await a_tenant(sandbox)
    order = await paid(use_cases, admin)
    await sandbox.inject_fault(admin, tenant, FaultRequest("refund", "fail"))

    async with sandbox.times.acting_for(tenant):
        after = await use_cases.orders.cancel(admin, CancelOrder(order.id))
    [refund] = [r for p in (await use_cases.payments.of_order(admin, order.id)).items for r in p.refunds]

    assert str(after.status) == "APPROVED"
    assert (refund.status, refund.failure_message) == (RefundStatus.FAILED, FAULT_FAILURE)


async def test_a_pending_refund_settles_when_the_tenants_clock_passes_the_refund_delay(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant, admin = await a_tenant(sandbox)
    order = await paid(use_cases, admin)
    await sandbox.inject_fault(admin, tenant, FaultRequest("refund", "pending"))
    async with sandbox.times.acting_for(tenant):
        pending = await use_cases.orders.cancel(admin, CancelOrder(order.id))
    await use_cases.refunds.settle_pending()
    still = await use_cases.orders.get(admin, order.id)

    await sandbox.advance_clock(admin, tenant, 61)
    settled = await use_cases.orders.get(admin, order.id)

    assert [str(o.status) for o in (pending, still, settled)] == ["CANCEL_PENDING", "CANCEL_PENDING", "CANCELLED"]


async def test_the_refund_poller_asks_about_each_refund_in_its_own_tenants_time(
    use_cases: UseCases, sandbox: Sandbox, clock: SteppingClock
) -> None:
    tenant, admin = await a_tenant(sandbox)
    await sandbox.advance_clock(admin, tenant, 86400)  # the refund is asked for a day ahead of real time
    order = await paid(use_cases, admin)
    await sandbox.inject_fault(admin, tenant, FaultRequest("refund", "pending"))
    async with sandbox.times.acting_for(tenant):
        await use_cases.orders.cancel(admin, CancelOrder(order.id))
    clock.advance(timedelta(seconds=61))  # real time passes the refund delay

    settled = await use_cases.refunds.settle_pending()  # outside any request, as the worker runs it

    assert (settled, str((await use_cases.orders.get(admin, order.id)).status)) == (1, "CANCELLED")


async def test_an_injected_refund_timeout_leaves_the_refund_for_the_poller_to_send_again(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant, admin = await a_tenant(sandbox)
    order = await paid(use_cases, admin)
    await sandbox.inject_fault(admin, tenant, FaultRequest("refund", "timeout"))
    async with sandbox.times.acting_for(tenant):
        pending = await use_cases.orders.cancel(admin, CancelOrder(order.id))

    await sandbox.advance_clock(admin, tenant, 31)
    settled = await use_cases.orders.get(admin, order.id)

    assert (str(pending.status), str(settled.status)) == ("CANCEL_PENDING", "CANCELLED")
