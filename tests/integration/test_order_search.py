"""Offset-paged order search, counts and seq lookups (the dialects' reads), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orderline.application.errors import InvalidInput, NotFound
from orderline.application.orders import CancelOrder
from orderline.application.pagination import MAX_OFFSET, MAX_OFFSET_LIMIT, MAX_SEQ
from orderline.application.principal import CUSTOMER_SCOPES, Principal, PrincipalKind
from orderline.application.queries import OrderSearch, Owner
from orderline.application.use_cases import UseCases
from orderline.domain.order import Order
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.pet import Pet
from orderline.domain.status import OrderStatus
from tests.support import ADMIN, ANYONE, START, SteppingClock, a_pet, a_principal, an_order, approve

EVERYTHING = OrderSearch()
ALICE = a_principal(*CUSTOMER_SCOPES, kind=PrincipalKind.USER)
BOB = a_principal(*CUSTOMER_SCOPES, kind=PrincipalKind.USER)


async def orders_of(use_cases: UseCases, count: int, pet: Pet, by: Principal = ANYONE) -> list[Order]:
    return [await an_order(use_cases, pet, by=by) for _ in range(count)]


def ids(orders: list[Order]) -> list[object]:
    return [order.id for order in orders]


@pytest.fixture
async def fish(use_cases: UseCases) -> Pet:
    return await a_pet(use_cases, "Nemo", stock=100, fee="12.50")


async def test_a_search_pages_through_every_order_newest_first_by_offset(use_cases: UseCases, fish: Pet) -> None:
    placed = await orders_of(use_cases, 5, fish)

    pages = [await use_cases.orders.search(ADMIN, EVERYTHING, offset=offset, limit=2) for offset in (0, 2, 4, 6)]

    assert [ids(page) for page in pages] == [ids(placed[4:2:-1]), ids(placed[2:0:-1]), ids(placed[:1]), []]
    assert pages[0][0] == await use_cases.orders.get(ADMIN, placed[4].id)


async def test_the_count_is_how_many_orders_the_search_pages_through(use_cases: UseCases, fish: Pet) -> None:
    await orders_of(use_cases, 3, fish)
    await orders_of(use_cases, 2, fish, by=ALICE)
    pending = OrderSearch(statuses=frozenset({OrderStatus.PLACED}))

    counts = [await use_cases.orders.count(who, pending) for who in (ADMIN, ALICE, BOB)]
    found = [await use_cases.orders.search(who, pending, offset=0, limit=250) for who in (ADMIN, ALICE, BOB)]

    assert counts == [5, 2, 0]
    assert [len(page) for page in found] == counts


async def test_a_customer_searches_and_counts_only_their_own_orders(use_cases: UseCases, fish: Pet) -> None:
    alices = await orders_of(use_cases, 2, fish, by=ALICE)
    bobs = await orders_of(use_cases, 1, fish, by=BOB)
    await orders_of(use_cases, 1, fish)

    assert ids(await use_cases.orders.search(ALICE, EVERYTHING, offset=0, limit=10)) == ids(alices[::-1])
    assert ids(await use_cases.orders.search(BOB, EVERYTHING, offset=0, limit=10)) == ids(bobs)
    assert await use_cases.orders.count(ALICE, EVERYTHING) == 2
    assert await use_cases.orders.count(ADMIN, EVERYTHING) == 4


async def test_an_admin_may_narrow_a_search_to_one_customer(use_cases: UseCases, fish: Pet) -> None:
    alices = await orders_of(use_cases, 2, fish, by=ALICE)
    await orders_of(use_cases, 1, fish, by=BOB)
    of_alice = OrderSearch(owner=Owner(customer_id=ALICE.id))

    found = await use_cases.orders.search(ADMIN, of_alice, offset=0, limit=10)

    assert ids(found) == ids(alices[::-1])
    assert await use_cases.orders.count(ADMIN, of_alice) == 2


async def test_a_customer_narrowing_a_search_to_someone_else_finds_nothing(use_cases: UseCases, fish: Pet) -> None:
    await orders_of(use_cases, 1, fish, by=ALICE)
    await orders_of(use_cases, 1, fish, by=BOB)
    of_alice = OrderSearch(owner=Owner(customer_id=ALICE.id))

    assert await use_cases.orders.search(BOB, of_alice, offset=0, limit=10) == []
    assert await use_cases.orders.count(BOB, of_alice) == 0
    assert len(await use_cases.orders.search(ALICE, of_alice, offset=0, limit=10)) == 1


async def test_a_search_filters_by_any_of_several_statuses(use_cases: UseCases, fish: Pet) -> None:
    placed, cancelled, approved = await orders_of(use_cases, 3, fish)
    await use_cases.orders.cancel(ADMIN, CancelOrder(cancelled.id))
    await approve(use_cases, approved)

    def having(*statuses: OrderStatus) -> OrderSearch:
        return OrderSearch(statuses=frozenset(statuses))

    both = await use_cases.orders.search(ADMIN, having(OrderStatus.PLACED, OrderStatus.CANCELLED), offset=0, limit=9)
    none = await use_cases.orders.search(ADMIN, having(), offset=0, limit=9)

    assert ids(both) == [cancelled.id, placed.id]
    assert none == []
    assert await use_cases.orders.count(ADMIN, having()) == 0
    assert await use_cases.orders.count(ADMIN, having(OrderStatus.APPROVED)) == 1


async def test_a_search_filters_by_payment_status(use_cases: UseCases, fish: Pet) -> None:
    unpaid, paid = await orders_of(use_cases, 2, fish)
    await approve(use_cases, paid)
    paid_only = OrderSearch(payment_statuses=frozenset({OrderPaymentStatus.PAID}))
    unpaid_only = OrderSearch(payment_statuses=frozenset({OrderPaymentStatus.UNPAID}))

    assert ids(await use_cases.orders.search(ADMIN, paid_only, offset=0, limit=9)) == [paid.id]
    assert ids(await use_cases.orders.search(ADMIN, unpaid_only, offset=0, limit=9)) == [unpaid.id]
    assert await use_cases.orders.count(ADMIN, paid_only) == 1


async def test_creation_bounds_include_the_start_and_exclude_the_end(use_cases: UseCases, fish: Pet) -> None:
    early, middle, late = await orders_of(use_cases, 3, fish)
    window = OrderSearch(created_after=middle.created_at, created_before=late.created_at)
    from_middle = OrderSearch(created_after=middle.created_at)
    before_middle = OrderSearch(created_before=middle.created_at)

    assert ids(await use_cases.orders.search(ADMIN, window, offset=0, limit=9)) == [middle.id]
    assert ids(await use_cases.orders.search(ADMIN, from_middle, offset=0, limit=9)) == [late.id, middle.id]
    assert ids(await use_cases.orders.search(ADMIN, before_middle, offset=0, limit=9)) == [early.id]
    assert await use_cases.orders.count(ADMIN, window) == 1


async def test_update_bounds_filter_on_when_an_order_last_changed(
    use_cases: UseCases, fish: Pet, clock: SteppingClock
) -> None:
    untouched, changed = await orders_of(use_cases, 2, fish)
    clock.advance(timedelta(hours=1))
    later = START + timedelta(hours=1)
    cancelled = await use_cases.orders.cancel(ADMIN, CancelOrder(changed.id))
    since = OrderSearch(updated_after=later)
    until = OrderSearch(updated_before=later)
    exactly = OrderSearch(updated_after=cancelled.updated_at, updated_before=cancelled.updated_at + timedelta(1))

    assert ids(await use_cases.orders.search(ADMIN, since, offset=0, limit=9)) == [changed.id]
    assert ids(await use_cases.orders.search(ADMIN, until, offset=0, limit=9)) == [untouched.id]
    assert ids(await use_cases.orders.search(ADMIN, exactly, offset=0, limit=9)) == [changed.id]
    assert await use_cases.orders.count(ADMIN, since) == 1


async def test_filters_combine(use_cases: UseCases, fish: Pet) -> None:
    alices = await orders_of(use_cases, 3, fish, by=ALICE)
    await orders_of(use_cases, 1, fish)
    await use_cases.orders.cancel(ALICE, CancelOrder(alices[1].id))
    where = OrderSearch(statuses=frozenset({OrderStatus.PLACED}), created_after=alices[1].created_at)

    assert ids(await use_cases.orders.search(ALICE, where, offset=0, limit=9)) == [alices[2].id]
    assert await use_cases.orders.count(ALICE, where) == 1


@pytest.mark.parametrize(
    ("offset", "limit", "field"),
    [(0, 0, "limit"), (0, MAX_OFFSET_LIMIT + 1, "limit"), (-1, 10, "offset"), (MAX_OFFSET + 1, 10, "offset")],
)
async def test_a_page_out_of_bounds_is_refused_naming_the_bound(
    use_cases: UseCases, offset: int, limit: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await use_cases.orders.search(ADMIN, EVERYTHING, offset=offset, limit=limit)

    assert (refused.value.field, refused.value.kind) == (field, "out-of-range")


async def test_the_largest_page_and_the_deepest_offset_are_allowed(use_cases: UseCases, fish: Pet) -> None:
    await orders_of(use_cases, 2, fish)

    assert len(await use_cases.orders.search(ADMIN, EVERYTHING, offset=0, limit=MAX_OFFSET_LIMIT)) == 2
    assert await use_cases.orders.search(ADMIN, EVERYTHING, offset=MAX_OFFSET, limit=1) == []
    assert len(await use_cases.orders.search(ADMIN, EVERYTHING, offset=1, limit=1)) == 1


async def test_a_time_bound_without_a_time_zone_is_refused(use_cases: UseCases) -> None:
    naive = OrderSearch(updated_before=START.replace(tzinfo=None))

    with pytest.raises(InvalidInput) as refused:
        await use_cases.orders.count(ADMIN, naive)

    assert refused.value.field == "updated_before"


async def test_an_order_is_found_by_its_seq_by_whoever_may_see_it(use_cases: UseCases, fish: Pet) -> None:
    alices = await an_order(use_cases, fish, by=ALICE)

    assert await use_cases.orders.get_by_seq(ALICE, alices.seq) == alices
    assert await use_cases.orders.get_by_seq(ADMIN, alices.seq) == alices
    with pytest.raises(NotFound):
        await use_cases.orders.get_by_seq(BOB, alices.seq)


@pytest.mark.parametrize("seq", [0, -1, 999, MAX_SEQ, MAX_SEQ + 1, -(2**63) - 1, 10**30])
async def test_a_seq_no_order_has_is_not_found_even_beyond_the_column(use_cases: UseCases, fish: Pet, seq: int) -> None:
    await an_order(use_cases, fish)

    with pytest.raises(NotFound):
        await use_cases.orders.get_by_seq(ADMIN, seq)


async def test_seqs_map_to_the_ids_of_the_visible_orders_only(use_cases: UseCases, fish: Pet) -> None:
    alices = await orders_of(use_cases, 2, fish, by=ALICE)
    bobs = await an_order(use_cases, fish, by=BOB)
    asked = [alices[0].seq, bobs.seq, alices[1].seq, alices[0].seq, 0, 999, MAX_SEQ + 1, -5]

    assert await use_cases.orders.ids_by_seq(ALICE, asked) == {alices[0].seq: alices[0].id, alices[1].seq: alices[1].id}
    assert await use_cases.orders.ids_by_seq(ADMIN, asked) == {o.seq: o.id for o in [*alices, bobs]}
    assert await use_cases.orders.ids_by_seq(BOB, []) == {}


async def test_seqs_are_looked_up_in_batches_however_many_are_asked(use_cases: UseCases, fish: Pet) -> None:
    placed = await orders_of(use_cases, 3, fish)
    asked = [*range(1, 1201), *(order.seq for order in placed)]

    found = await use_cases.orders.ids_by_seq(ADMIN, asked)

    assert found == {order.seq: order.id for order in placed}
