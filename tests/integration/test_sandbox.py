"""Sandbox controls on both engines (ADR 0041): tenant clocks, and faults injected into the test gateway once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from orderline.application.errors import InvalidInput, NotFound
from orderline.application.orders import CancelOrder
from orderline.application.payments import PayOrder
from orderline.application.sandbox import Call, Fault, FaultRequest, Sandbox
from orderline.application.use_cases import UseCases
from orderline.config import Settings
from orderline.domain.errors import PaymentDeclined
from orderline.domain.payment import RefundStatus
from orderline.gateways.testmode import FAULT_FAILURE
from tests.support import (
    ADMIN,
    CLERK,
    TEST_GATEWAY_SECRET,
    SteppingClock,
    a_card_input,
    a_pet,
    an_order,
    approve,
    engine_settings,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(
        database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, sandbox=True,
        test_gateway_refund_delay=60,
    )  # fmt: skip


@pytest.fixture
def sandbox(use_cases: UseCases) -> Sandbox:
    assert use_cases.sandbox is not None
    return use_cases.sandbox


async def test_a_tenant_clock_moves_the_time_of_work_done_for_that_tenant_only(
    sandbox: Sandbox, clock: SteppingClock
) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    other = (await sandbox.create_tenant(ADMIN)).tenant

    await sandbox.advance_clock(ADMIN, tenant, 3600)

    async with sandbox.acting_for(tenant) as time:
        assert time is not None and time.offset == timedelta(hours=1)
    async with sandbox.acting_for(other) as time:
        assert time is not None and time.offset == timedelta(0)


async def test_advancing_answers_the_tenants_new_now(sandbox: Sandbox, clock: SteppingClock) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    before = clock.now()

    now = await sandbox.advance_clock(ADMIN, tenant, 86400)

    assert timedelta(days=1) < now - before < timedelta(days=1, seconds=1)


async def test_advances_add_up(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant

    await sandbox.advance_clock(ADMIN, tenant, 60)
    await sandbox.advance_clock(ADMIN, tenant, 30)

    async with sandbox.acting_for(tenant) as time:
        assert time is not None and time.offset == timedelta(seconds=90)


@pytest.mark.parametrize("seconds", [0, -1, 366 * 86400 + 1])
async def test_a_clock_never_goes_back_nor_jumps_more_than_a_year(sandbox: Sandbox, seconds: int) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant

    with pytest.raises(InvalidInput) as refused:
        await sandbox.advance_clock(ADMIN, tenant, seconds)

    assert refused.value.field == "advanceSeconds"


async def test_the_clock_of_a_tenant_the_sandbox_did_not_make_is_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(NotFound):
        await sandbox.advance_clock(ADMIN, uuid.uuid4(), 60)


async def test_a_fault_is_taken_once(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("refund", "fail"))

    first, second = await sandbox.take(tenant, Call.REFUND), await sandbox.take(tenant, Call.REFUND)

    assert (first, second) == (Fault.FAIL, None)


async def test_a_fault_waits_for_its_own_call_and_its_own_tenant(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    other = (await sandbox.create_tenant(ADMIN)).tenant
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("charge", "timeout"))

    assert await sandbox.take(tenant, Call.REFUND) is None
    assert await sandbox.take(other, Call.CHARGE) is None
    assert await sandbox.take(tenant, Call.CHARGE) is Fault.TIMEOUT


async def test_a_second_fault_for_the_same_call_replaces_the_first(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("webhook", "fail"))
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("webhook", "timeout"))

    assert [await sandbox.take(tenant, Call.WEBHOOK) for _ in range(2)] == [Fault.TIMEOUT, None]


async def test_of_many_calls_at_once_exactly_one_takes_the_fault(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("charge", "fail"))

    taken = await asyncio.gather(*(sandbox.take(tenant, Call.CHARGE) for _ in range(8)))

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
    tenant = (await sandbox.create_tenant(ADMIN)).tenant

    with pytest.raises(InvalidInput) as refused:
        await sandbox.inject_fault(ADMIN, tenant, request_)

    assert refused.value.field == field


async def test_only_an_administrator_drives_a_tenants_clock_and_faults(sandbox: Sandbox) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant

    with pytest.raises(Exception, match="admin"):
        await sandbox.advance_clock(CLERK, tenant, 60)
    with pytest.raises(Exception, match="admin"):
        await sandbox.inject_fault(CLERK, tenant, FaultRequest("charge", "fail"))


async def test_an_injected_charge_failure_declines_the_next_payment_only(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("charge", "fail"))
    order = await an_order(use_cases, await a_pet(use_cases))
    pay = PayOrder(order.id, str(order.total), order.currency, a_card_input())

    async with sandbox.acting_for(tenant):
        with pytest.raises(PaymentDeclined):
            await use_cases.payments.pay(ADMIN, pay)
        paid = await use_cases.payments.pay(ADMIN, pay)

    assert str(paid.status) == "SUCCEEDED"


async def test_an_injected_charge_timeout_fails_the_payment_as_the_gateway_unreachable(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("charge", "timeout"))
    order = await an_order(use_cases, await a_pet(use_cases))

    async with sandbox.acting_for(tenant):
        with pytest.raises(PaymentDeclined) as declined:
            await use_cases.payments.pay(ADMIN, PayOrder(order.id, str(order.total), "USD", a_card_input()))

    assert declined.value.details["decline_code"] == "gateway_unavailable"


async def test_an_injected_refund_failure_rolls_the_cancel_back_to_approved(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)))
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("refund", "fail"))

    async with sandbox.acting_for(tenant):
        after = await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))
    [refund] = [r for p in (await use_cases.payments.of_order(ADMIN, order.id)).items for r in p.refunds]

    assert str(after.status) == "APPROVED"
    assert (refund.status, refund.failure_message) == (RefundStatus.FAILED, FAULT_FAILURE)


async def test_a_pending_refund_settles_once_the_tenants_clock_passes_the_refund_delay(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)))
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("refund", "pending"))
    async with sandbox.acting_for(tenant):
        pending = await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))
        await use_cases.refunds.settle_pending()
        still = await use_cases.orders.get(ADMIN, order.id)

    await sandbox.advance_clock(ADMIN, tenant, 61)
    async with sandbox.acting_for(tenant):
        await use_cases.refunds.settle_pending()
        settled = await use_cases.orders.get(ADMIN, order.id)

    assert [str(o.status) for o in (pending, still, settled)] == ["CANCEL_PENDING", "CANCEL_PENDING", "CANCELLED"]


async def test_an_injected_refund_timeout_leaves_the_refund_for_the_poller_to_send_again(
    use_cases: UseCases, sandbox: Sandbox
) -> None:
    tenant = (await sandbox.create_tenant(ADMIN)).tenant
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)))
    await sandbox.inject_fault(ADMIN, tenant, FaultRequest("refund", "timeout"))
    async with sandbox.acting_for(tenant):
        pending = await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))

    await sandbox.advance_clock(ADMIN, tenant, 31)
    async with sandbox.acting_for(tenant):
        await use_cases.refunds.settle_pending()
        settled = await use_cases.orders.get(ADMIN, order.id)

    assert (str(pending.status), str(settled.status)) == ("CANCEL_PENDING", "CANCELLED")
