"""A list's filters find exactly the orders a brute-force filter finds, newest first, on SQLite and PostgreSQL —
also when created_at does not rise with seq (concurrent transactions, an injected clock), where the seq bounds
that creation windows become (ADR 0036) must still hold every order of the window.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderline.application.orders import OrderFilter
from orderline.application.principal import CUSTOMER_SCOPES, PUBLIC, PrincipalKind
from orderline.application.queries import OrderQuery, Owner
from orderline.application.use_cases import UseCases
from orderline.domain.status import OrderStatus
from orderline.storage.database import DatabaseUrl, open_database
from orderline.storage.order_filters import listed
from tests.support import ADMIN, Db, SteppingClock, a_pet, a_principal, an_order

T = TypeVar("T")
ALICE, BOB, KEY = UUID(int=1), UUID(int=2), UUID(int=3)
# Four days and a bit, so windows start and end on and between day boundaries (the bounds work by UTC day).
EPOCH = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
MINUTES = 4 * 24 * 60 + 90
STATUSES = [OrderStatus.PLACED, OrderStatus.SHIPPED, OrderStatus.CANCELLED]
AT_MOST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Stored:
    seq: int
    created_at: datetime
    status: OrderStatus
    customer_id: UUID | None
    placed_by_key: UUID | None


def _matches(order: Stored, query: OrderQuery) -> bool:
    owner = query.owner
    return (
        (query.status is None or order.status is query.status)
        and (query.created_after is None or order.created_at >= query.created_after)
        and (query.created_before is None or order.created_at < query.created_before)
        and (query.before_seq is None or order.seq < query.before_seq)
        and (owner.customer_id is None or order.customer_id == owner.customer_id)
        and (owner.api_key_id is None or order.placed_by_key == owner.api_key_id)
    )


def brute_force(orders: list[Stored], query: OrderQuery) -> list[int]:
    return sorted((order.seq for order in orders if _matches(order, query)), reverse=True)[: query.limit]


_INSERT = """
INSERT INTO orders (id, seq, customer_id, placed_by_key, currency, subtotal_minor, discount_minor, total_minor,
                    status, version, created_at, updated_at)
VALUES (:id, :seq, :customer_id, :placed_by_key, 'USD', 100, 0, 100, :status, 1, :created_at, :created_at)
"""


class Orders:
    """The orders table of the test's database, written and listed by SQL from synchronous Hypothesis examples."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = self.run(open_database(DatabaseUrl.parse(database_url)))

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def replace(self, orders: list[Stored]) -> None:
        async def write() -> None:
            async with self.db.transaction() as uow:
                await uow.connection.execute("DELETE FROM orders")
                for order in orders:
                    row = {"id": uuid.uuid4(), **vars(order), "status": order.status.value}
                    await uow.connection.execute(_INSERT, row)
                await uow.commit()

        self.run(write())

    def list(self, query: OrderQuery) -> list[int]:
        async def read() -> list[int]:
            where = listed(query, PUBLIC, self.db.dialect)
            sql = f"SELECT seq FROM orders {where.sql} ORDER BY seq DESC LIMIT :limit"
            async with self.db.transaction() as uow:
                rows = await uow.connection.fetch_all(sql, {**where.params, "limit": query.limit})
            return [int(row["seq"]) for row in rows]

        return self.run(read())

    def close(self) -> None:
        self.run(self.db.close())
        self.loop.close()


@pytest.fixture
def orders_table(fresh_database: Callable[[], str]) -> Iterator[Orders]:
    table = Orders(fresh_database())
    try:
        yield table
    finally:
        table.close()


def _moment(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


def _owned(draw: st.DrawFn) -> tuple[UUID | None, UUID | None]:
    return draw(st.sampled_from([(ALICE, None), (BOB, None), (None, KEY), (None, None)]))


@st.composite
def order_tables(draw: st.DrawFn) -> list[Stored]:
    """Orders numbered 1..n whose creation times are anything: mostly rising, often not (late commits)."""
    count = draw(st.integers(0, 40))
    orders = []
    for seq in range(1, count + 1):
        minute = draw(st.integers(0, MINUTES))
        status = draw(st.sampled_from(STATUSES))
        orders.append(Stored(seq, _moment(minute), status, *_owned(draw)))
    return orders


def _bound(draw: st.DrawFn, orders: list[Stored]) -> datetime | None:
    """No bound, an order's exact creation time, a midnight, an hour, or any minute."""
    exact = [order.created_at for order in orders]
    midnights = [EPOCH + timedelta(days=day) for day in range(6)]
    choices = st.sampled_from(exact) if exact else st.nothing()
    hours = st.integers(-1, MINUTES // 60 + 1).map(lambda hour: EPOCH + timedelta(hours=hour))
    return draw(st.none() | choices | st.sampled_from(midnights) | hours | st.integers(-60, MINUTES + 60).map(_moment))


@st.composite
def queries(draw: st.DrawFn, orders: list[Stored]) -> OrderQuery:
    owner = draw(st.sampled_from([Owner(), Owner(customer_id=ALICE), Owner(api_key_id=KEY)]))
    status = draw(st.none() | st.sampled_from(STATUSES))
    cursor = draw(st.none() | st.integers(1, len(orders) + 2))
    limit = draw(st.integers(1, 12))
    return OrderQuery(status, _bound(draw, orders), _bound(draw, orders), limit, cursor, owner)


@AT_MOST
@given(data=st.data())
def test_a_list_is_exactly_the_orders_its_filters_match_newest_first(orders_table: Orders, data: st.DataObject) -> None:
    orders = data.draw(order_tables())
    orders_table.replace(orders)

    for _ in range(6):
        query = data.draw(queries(orders))

        assert orders_table.list(query) == brute_force(orders, query), query


# Seq 1..6 in creation order, then 7..9 created by a clock (or transactions) days behind: the newest orders by
# seq are the oldest by creation time, on other days than their neighbours.
LATE = [
    Stored(1, _moment(60), OrderStatus.PLACED, ALICE, None),
    Stored(2, _moment(1500), OrderStatus.SHIPPED, ALICE, None),
    Stored(3, _moment(2000), OrderStatus.PLACED, BOB, None),
    Stored(4, _moment(3000), OrderStatus.PLACED, ALICE, None),
    Stored(5, _moment(4500), OrderStatus.SHIPPED, None, KEY),
    Stored(6, _moment(5000), OrderStatus.PLACED, ALICE, None),
    Stored(7, _moment(30), OrderStatus.PLACED, ALICE, None),
    Stored(8, _moment(1439), OrderStatus.SHIPPED, None, KEY),
    Stored(9, _moment(2880), OrderStatus.PLACED, ALICE, None),
]


@pytest.mark.parametrize(
    "query",
    [
        OrderQuery(created_before=_moment(1440)),
        OrderQuery(created_before=_moment(61), owner=Owner(customer_id=ALICE)),
        OrderQuery(created_after=_moment(2880)),
        OrderQuery(created_after=_moment(1400), created_before=_moment(2881)),
        OrderQuery(created_after=_moment(2880), created_before=_moment(2881), owner=Owner(customer_id=ALICE)),
        OrderQuery(status=OrderStatus.SHIPPED, created_before=_moment(1440), owner=Owner(api_key_id=KEY)),
        OrderQuery(created_before=_moment(4000), before_seq=9, limit=2),
        OrderQuery(created_after=_moment(0), created_before=_moment(31)),
    ],
    ids=["before day 2", "own before", "after", "window", "own window", "key status before", "cursor", "first"],
)
def test_orders_created_out_of_seq_order_are_listed_where_their_seq_puts_them(
    orders_table: Orders, query: OrderQuery
) -> None:
    orders_table.replace(LATE)

    assert orders_table.list(query) == brute_force(LATE, query)


async def test_a_clock_set_back_still_lists_every_order_created_before_a_moment(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    alice = a_principal(*CUSTOMER_SCOPES, kind=PrincipalKind.USER)
    cat = await a_pet(use_cases, "Whiskers", stock=10)
    early = await an_order(use_cases, cat, by=alice)
    clock.advance(timedelta(days=3))
    later = await an_order(use_cases, cat, by=alice)
    clock.advance(timedelta(days=-5))  # the next order is numbered after both, created before both
    set_back = await an_order(use_cases, cat, by=alice)
    before = OrderFilter(created_before=early.created_at + timedelta(seconds=1))

    own = await use_cases.orders.list(alice, before, limit=10)
    everyone = await use_cases.orders.list_all(ADMIN, OrderFilter(created_after=later.created_at), limit=10)

    assert [order.id for order in own.items] == [set_back.id, early.id]
    assert [order.id for order in everyone.items] == [later.id]


async def test_a_window_of_days_with_no_orders_is_empty(db: Db) -> None:
    where = listed(OrderQuery(created_after=EPOCH, created_before=EPOCH + timedelta(days=1)), PUBLIC, db.dialect)

    async with db.transaction() as uow:
        rows = await uow.connection.fetch_all(f"SELECT seq FROM orders {where.sql}", where.params)

    assert rows == []
