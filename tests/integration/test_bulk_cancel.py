"""Bulk cancel on a real database, on SQLite and PostgreSQL: one cancel per order, each outcome its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from uuid import UUID

import msgspec
import pytest

from orderline.application.errors import DatabaseUnavailable, Forbidden, InvalidInput
from orderline.application.orders import MAX_BULK_CANCEL, BulkCancel, BulkCancelResult, BulkOutcome
from orderline.application.principal import CUSTOMER_SCOPES, PUBLIC, PrincipalKind, Scope
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.order import CancelReason, Order
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus
from orderline.gateways.testmode import REFUND_FAILS_LATER, REFUNDS_LATER
from tests.support import (
    ADMIN,
    FAST_HASHER,
    TEST_GATEWAY_SECRET,
    Db,
    SteppingClock,
    a_pet,
    a_principal,
    an_order,
    approve,
    engine_settings,
    in_status,
)

ALICE = a_principal(*CUSTOMER_SCOPES, kind=PrincipalKind.USER)
BOB = a_principal(*CUSTOMER_SCOPES, kind=PrincipalKind.USER)
UNKNOWN = uuid.UUID(int=7)
S, B = OrderStatus, BulkOutcome


@pytest.fixture
async def fish(use_cases: UseCases) -> Pet:
    return await a_pet(use_cases, "Nemo", stock=20)


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[UseCases]:
    """Another process's view of the same database: its own connections and locks."""
    other = await build(settings, hasher=FAST_HASHER)
    try:
        yield other
    finally:
        await other.close()


async def alices_mixed_orders(use_cases: UseCases, fish: Pet) -> list[UUID]:
    """Alice's PLACED, paid-with-an-asynchronous-refund and SHIPPED orders, an unknown id, and Bob's order."""
    placed = await an_order(use_cases, fish, by=ALICE)
    paid = await approve(use_cases, await an_order(use_cases, fish, by=ALICE), REFUNDS_LATER)
    shipped = await use_cases.orders.ship(
        ADMIN, (await approve(use_cases, await an_order(use_cases, fish, by=ALICE))).id
    )
    bobs = await an_order(use_cases, fish, by=BOB)
    return [placed.id, paid.id, shipped.id, UNKNOWN, bobs.id]


def outcomes(results: list[BulkCancelResult]) -> list[tuple[BulkOutcome, OrderStatus | None]]:
    return [(result.outcome, result.status) for result in results]


async def refunds_of(db: Db, order_id: UUID) -> int:
    async with db.snapshot() as uow:
        return len(await uow.payments.refunds_of(order_id))


async def test_each_order_gets_its_own_outcome_in_the_order_the_ids_were_given(use_cases: UseCases, fish: Pet) -> None:
    ids = await alices_mixed_orders(use_cases, fish)

    results = await use_cases.orders.bulk_cancel(ALICE, BulkCancel(ids, CancelReason.DUPLICATE, "ordered twice"))

    assert [result.order_id for result in results] == ids
    assert outcomes(results) == [
        (B.CANCELLED, S.CANCELLED),
        (B.CANCEL_PENDING, S.CANCEL_PENDING),
        (B.NOT_CANCELLABLE, S.SHIPPED),
        (B.NOT_FOUND, None),
        (B.NOT_FOUND, None),  # Bob's order, to Alice, is as unknown as any
    ]
    cancelled = await use_cases.orders.get(ALICE, ids[0])
    assert (cancelled.cancel_reason, cancelled.cancel_note) == (CancelReason.DUPLICATE, "ordered twice")
    assert (await use_cases.orders.get(ADMIN, ids[4])).status is S.PLACED
    assert (
        await use_cases.catalogue.get_pet(PUBLIC, fish.id)
    ).stock.reserved == 2  # the paid one's until its refund, Bob's


async def test_a_repeat_answers_what_each_order_now_is_and_changes_nothing(
    use_cases: UseCases, fish: Pet, db: Db
) -> None:
    ids = await alices_mixed_orders(use_cases, fish)
    await use_cases.orders.bulk_cancel(ALICE, BulkCancel(ids))
    before = [await use_cases.orders.get(ADMIN, order_id) for order_id in ids if order_id != UNKNOWN]
    audited = len((await use_cases.audit_log.list(ADMIN, AuditQuery(limit=100))).items)

    repeat = await use_cases.orders.bulk_cancel(ALICE, BulkCancel(ids))

    assert outcomes(repeat) == [
        (B.NOT_CANCELLABLE, S.CANCELLED),
        (B.CANCEL_PENDING, S.CANCEL_PENDING),  # starts nothing new
        (B.NOT_CANCELLABLE, S.SHIPPED),
        (B.NOT_FOUND, None),
        (B.NOT_FOUND, None),
    ]
    assert [await use_cases.orders.get(ADMIN, order.id) for order in before] == before
    assert await refunds_of(db, ids[1]) == 1
    assert len((await use_cases.audit_log.list(ADMIN, AuditQuery(limit=100))).items) == audited


async def test_each_cancel_of_a_bulk_is_audited_on_its_own_with_the_bulks_reason(
    use_cases: UseCases, fish: Pet
) -> None:
    ids = await alices_mixed_orders(use_cases, fish)

    await use_cases.orders.bulk_cancel(ALICE, BulkCancel(ids, CancelReason.FRAUD))

    entries = [
        (entry.entity_id, entry.action, entry.reason, entry.actor_id)
        for entry in (await use_cases.audit_log.list(ADMIN, AuditQuery(actor_id=str(ALICE.id)))).items
        if entry.action != "ORDER_CREATED"
    ]
    assert sorted(entries) == sorted([
        (str(ids[0]), "ORDER_CANCELLED", "FRAUD", str(ALICE.id)),
        (str(ids[1]), "ORDER_CANCEL_REQUESTED", "FRAUD", str(ALICE.id)),
    ])  # fmt: skip


async def test_a_paid_order_refunded_at_once_is_cancelled_in_the_bulk(use_cases: UseCases, fish: Pet) -> None:
    approved = await in_status(use_cases, fish, "APPROVED")

    [result] = await use_cases.orders.bulk_cancel(ADMIN, BulkCancel([approved.id]))

    assert (result.outcome, result.status) == (B.CANCELLED, S.CANCELLED)
    assert (await use_cases.orders.get(ADMIN, approved.id)).status is S.CANCELLED


async def test_a_forced_bulk_cancel_also_cancels_shipped_orders(use_cases: UseCases, fish: Pet) -> None:
    shipped = await in_status(use_cases, fish, "SHIPPED")
    delivered = await in_status(use_cases, fish, "DELIVERED")

    results = await use_cases.orders.bulk_cancel(ADMIN, BulkCancel([shipped.id, delivered.id]), force=True)

    assert outcomes(results) == [(B.CANCELLED, S.CANCELLED), (B.NOT_CANCELLABLE, S.DELIVERED)]


async def test_only_an_admin_may_force_a_bulk_cancel(use_cases: UseCases, fish: Pet) -> None:
    order = await an_order(use_cases, fish, by=ALICE)

    with pytest.raises(Forbidden):
        await use_cases.orders.bulk_cancel(ALICE, BulkCancel([order.id]), force=True)

    assert (await use_cases.orders.get(ALICE, order.id)).status is S.PLACED


async def test_a_bulk_cancel_needs_the_write_orders_scope(use_cases: UseCases, fish: Pet) -> None:
    order = await an_order(use_cases, fish, by=ALICE)
    reader = a_principal(*(CUSTOMER_SCOPES - {Scope.WRITE_ORDERS}), kind=PrincipalKind.USER)

    with pytest.raises(Forbidden):
        await use_cases.orders.bulk_cancel(reader, BulkCancel([order.id]))


@pytest.mark.parametrize(
    ("count", "repeated", "kind"),
    [(0, False, "out-of-range"), (MAX_BULK_CANCEL + 1, False, "out-of-range"), (3, True, "duplicate")],
)
async def test_a_bulk_of_no_ids_too_many_or_a_repeated_id_is_refused_before_anything_changes(
    use_cases: UseCases, count: int, repeated: bool, kind: str
) -> None:
    cheap = await a_pet(use_cases, "Nemo", stock=MAX_BULK_CANCEL + 1, fee="1.00")
    orders = [await an_order(use_cases, cheap) for _ in range(count)]
    ids = [order.id for order in orders] + [order.id for order in orders[:1] if repeated]

    with pytest.raises(InvalidInput) as refused:
        await use_cases.orders.bulk_cancel(ADMIN, BulkCancel(ids))

    assert (refused.value.field, refused.value.kind) == ("ids", kind)
    assert [(await use_cases.orders.get(ADMIN, o.id)).status for o in orders] == [S.PLACED] * count


async def test_the_largest_bulk_is_allowed(use_cases: UseCases) -> None:
    cheap = await a_pet(use_cases, "Nemo", stock=MAX_BULK_CANCEL, fee="1.00")
    orders = [await an_order(use_cases, cheap) for _ in range(MAX_BULK_CANCEL)]

    results = await use_cases.orders.bulk_cancel(ADMIN, BulkCancel([order.id for order in orders]))

    assert {result.outcome for result in results} == {B.CANCELLED}
    assert (await use_cases.catalogue.get_pet(PUBLIC, cheap.id)).stock.free == MAX_BULK_CANCEL


async def test_two_bulk_cancels_racing_over_the_same_orders_cancel_each_once_and_release_stock_once(
    use_cases: UseCases, second: UseCases
) -> None:
    cat = await a_pet(use_cases, "Whiskers", stock=6)
    orders: list[Order] = [await an_order(use_cases, cat) for _ in range(6)]
    ids = [order.id for order in orders]

    first, other = await asyncio.gather(
        use_cases.orders.bulk_cancel(ADMIN, BulkCancel(ids)),
        second.orders.bulk_cancel(ADMIN, BulkCancel(ids[::-1])),
    )

    by_order = {result.order_id: [result.outcome] for result in first}
    for result in other:
        by_order[result.order_id].append(result.outcome)
    assert all(sorted(seen) == [B.CANCELLED, B.NOT_CANCELLABLE] for seen in by_order.values()), by_order
    assert {result.status for result in [*first, *other]} == {S.CANCELLED}
    pet = await use_cases.catalogue.get_pet(PUBLIC, cat.id)
    assert (pet.stock.reserved, pet.stock.free) == (0, 6)
    assert [(await use_cases.orders.get(ADMIN, order_id)).version for order_id in ids] == [2] * 6
    cancels = (await use_cases.audit_log.list(ADMIN, AuditQuery(action="ORDER_CANCELLED", limit=100))).items
    assert sorted(entry.entity_id for entry in cancels) == sorted(str(order_id) for order_id in ids)


async def test_a_database_that_stops_answering_ends_the_bulk_and_the_cancels_before_it_stand(
    use_cases: UseCases, database_url: str, db: Db
) -> None:
    cat = await a_pet(use_cases, "Whiskers", stock=3)
    first, second_, third = [await an_order(use_cases, cat) for _ in range(3)]
    impatient = engine_settings(database_url, db_statement_timeout=0.3, test_gateway_secret=TEST_GATEWAY_SECRET)
    hurried = await build(impatient, hasher=FAST_HASHER)

    try:
        async with db.transaction() as uow:  # PostgreSQL: the second order's row; SQLite: the whole file
            await uow.orders.get(second_.id, for_update=True)
            with pytest.raises(DatabaseUnavailable):
                await hurried.orders.bulk_cancel(ADMIN, BulkCancel([first.id, second_.id, third.id]))
    finally:
        await hurried.close()

    statuses = [(await use_cases.orders.get(ADMIN, order.id)).status for order in (first, second_, third)]
    if database_url.startswith("sqlite"):  # every writer waits for the file: not even the first cancel ran
        assert statuses == [S.PLACED, S.PLACED, S.PLACED]
    else:
        assert statuses == [S.CANCELLED, S.PLACED, S.PLACED]
    assert (await use_cases.catalogue.get_pet(PUBLIC, cat.id)).stock.reserved == statuses.count(S.PLACED)


async def test_an_order_whose_refund_is_refused_at_once_is_not_cancelled_and_says_so(
    settings: Settings, clock: SteppingClock
) -> None:
    at_once = msgspec.structs.replace(settings, test_gateway_refund_delay=0)  # the gateway answers FAILED at once
    use_cases = await build(at_once, clock=clock, hasher=FAST_HASHER)
    try:
        fish = await a_pet(use_cases, "Nemo", stock=2)
        paid = await approve(use_cases, await an_order(use_cases, fish, by=ALICE), REFUND_FAILS_LATER)

        results = await use_cases.orders.bulk_cancel(ALICE, BulkCancel([paid.id]))
    finally:
        await use_cases.close()

    assert outcomes(results) == [(B.NOT_CANCELLABLE, S.APPROVED)]
