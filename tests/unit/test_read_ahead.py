"""What was read with the credential (ADR 0049) stands for the use case's own read only when it is that very read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from orderline.application.order_views import OrderReads, own_page
from orderline.application.orders import OrderFilter
from orderline.application.ports import OrderView, PageRead, ReadAhead
from orderline.application.principal import Principal, PrincipalKind, Scope
from orderline.application.queries import OrderQuery, Owner
from orderline.domain.status import OrderStatus

TENANT = UUID(int=0xC3)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def a_view(order_id: UUID, customer_id: UUID | None) -> OrderView:
    return OrderView(
        order_id, 1, "1001", customer_id, "PLACED", "USD", [], None, "1.00", "1.00", "0.00", None, None, "UNPAID",
        "0.00", "0.00", None, None, None, None, None, NOW, NOW, 1, TENANT,
    )  # fmt: skip


class Views:
    """The read model's reads, counted; each answers one marked view."""

    def __init__(self) -> None:
        self.reads = 0
        self.read_view = a_view(uuid.uuid4(), None)

    async def one(self, tenant: UUID, order_id: UUID, owner: Owner) -> OrderView | None:
        self.reads += 1
        return self.read_view

    async def page(self, tenant: UUID, query: OrderQuery) -> list[OrderView]:
        self.reads += 1
        return [self.read_view]


def a_customer(user_id: UUID) -> Principal:
    return Principal(PrincipalKind.USER, user_id, frozenset({Scope.READ_ORDERS}), TENANT)


async def test_a_page_read_ahead_stands_for_the_read_only_when_its_query_and_tenant_are_the_lists() -> None:
    views, user = Views(), uuid.uuid4()
    reads = OrderReads(views)  # type: ignore[arg-type]
    principal = a_customer(user)
    ahead = a_view(uuid.uuid4(), user)
    query = own_page(Owner(customer_id=user), OrderFilter(OrderStatus.PLACED), 20, None)

    same = await reads.list(principal, OrderFilter(OrderStatus.PLACED), limit=20, read=PageRead(TENANT, query, [ahead]))
    assert (same.items, views.reads) == ([ahead], 0)

    others: list[tuple[str, Any]] = [
        ("another page size", PageRead(TENANT, own_page(Owner(customer_id=user), OrderFilter(), 10, None), [ahead])),
        ("another status", PageRead(TENANT, own_page(Owner(customer_id=user), OrderFilter(), 20, None), [ahead])),
        ("another owner", PageRead(TENANT, own_page(Owner(customer_id=uuid.uuid4()), OrderFilter(), 20, None), [])),
        ("another tenant", PageRead(uuid.uuid4(), query, [ahead])),
    ]
    for what, read in others:
        page = await reads.list(principal, OrderFilter(OrderStatus.PLACED), limit=20, read=read)
        assert page.items == [views.read_view], what


@pytest.mark.parametrize("same_tenant", [True, False])
async def test_an_order_read_ahead_stands_for_the_read_only_when_it_is_of_this_order_and_tenant(
    same_tenant: bool,
) -> None:
    views, user = Views(), uuid.uuid4()
    reads = OrderReads(views)  # type: ignore[arg-type]
    order_id = uuid.uuid4()
    ahead = a_view(order_id, user)
    tenant = TENANT if same_tenant else uuid.uuid4()

    found = await reads.get(a_customer(user), order_id, ReadAhead(tenant, order_id, ahead))
    other_order = await reads.get(a_customer(user), order_id, ReadAhead(tenant, uuid.uuid4(), ahead))

    assert found is (ahead if same_tenant else views.read_view)
    assert other_order is views.read_view


async def test_a_read_of_the_other_kind_is_not_taken() -> None:
    """A route whose ``read_ahead`` names a page but reads an order (or the reverse) reads for itself."""
    views, user = Views(), uuid.uuid4()
    reads = OrderReads(views)  # type: ignore[arg-type]
    order_id = uuid.uuid4()
    query = own_page(Owner(customer_id=user), OrderFilter(), 20, None)

    found = await reads.get(a_customer(user), order_id, PageRead(TENANT, query, [a_view(order_id, user)]))
    page = await reads.list(
        a_customer(user), OrderFilter(), limit=20, read=ReadAhead(TENANT, order_id, a_view(order_id, user))
    )

    assert found is views.read_view
    assert page.items == [views.read_view]
