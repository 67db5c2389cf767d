"""The orders' read model (ADR 0033) answers exactly what the domain-built answer was, on both engines."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from orderline.application.errors import NotFound
from orderline.application.orders import CancelOrder, LineRequest, OrderFilter, PlaceOrder
from orderline.application.ports import CustomerView
from orderline.application.principal import CUSTOMER_SCOPES, SUPPORT_SCOPES, Principal, PrincipalKind, Scope
from orderline.application.queries import OrderSearch, Owner
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.application.vouchers import VoucherDraft
from orderline.domain.address import Address
from orderline.domain.order import Order
from orderline.domain.status import OrderStatus
from orderline.gateways.testmode import REFUNDS_LATER
from orderline.http.api.order_wire import OrderOut, viewed
from orderline.http.dialects.drf.wire import DrfOrderOut
from orderline.http.dialects.drf.wire import viewed as drf_viewed
from orderline.http.preconditions import etag
from tests.support import ADMIN, ANYONE, a_pet, a_principal, an_order, approve, in_status

STATUSES = ["PLACED", "APPROVED", "SHIPPED", "DELIVERED", "CANCELLED"]


def _same_body(order: Order, answer: OrderOut) -> None:
    assert msgspec.json.encode(answer) == msgspec.json.encode(OrderOut.of(order))


@pytest.mark.parametrize("status", STATUSES)
async def test_an_order_in_each_status_reads_the_same_through_the_read_model(use_cases: UseCases, status: str) -> None:
    order = await in_status(use_cases, await a_pet(use_cases), status)
    domain = await use_cases.orders.get(ADMIN, order.id)

    view = await use_cases.order_reads.get(ADMIN, order.id)

    _same_body(domain, viewed(view))
    assert etag(view) == etag(domain)


async def test_lines_a_voucher_and_a_billing_address_read_the_same(use_cases: UseCases) -> None:
    cat, dog = await a_pet(use_cases, "Cat", stock=5), await a_pet(use_cases, "Dog", fee="20.50", stock=5)
    await use_cases.vouchers.create(ADMIN, VoucherDraft("SPRING10", percent_off=10))
    address = Address("1 High St", "London", "N1 1AA", "GB", "Flat 2", None)
    command = PlaceOrder([LineRequest(cat.id, 2), LineRequest(dog.id, 3)], "USD", "a note", None, "SPRING10", address)
    placed = (await use_cases.orders.place(ADMIN, command)).order

    view = await use_cases.order_reads.get(ADMIN, placed.id)

    _same_body(await use_cases.orders.get(ADMIN, placed.id), viewed(view))
    assert [line.quantity for line in view.items] == [2, 3]
    assert view.voucher_code == "SPRING10"
    assert view.billing_address is not None


async def test_a_paid_then_refunded_order_reads_the_same(use_cases: UseCases) -> None:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)))
    cancelled = await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))

    view = await use_cases.order_reads.get(ADMIN, order.id)

    _same_body(cancelled, viewed(view))
    assert view.refunded_amount == view.paid_amount == str(order.total)


async def test_an_order_whose_refund_is_pending_reads_the_same(use_cases: UseCases) -> None:
    order = await approve(use_cases, await an_order(use_cases, await a_pet(use_cases)), REFUNDS_LATER)
    pending = await use_cases.orders.cancel(ADMIN, CancelOrder(order.id))

    view = await use_cases.order_reads.get(ADMIN, order.id)

    assert view.status == "CANCEL_PENDING"
    _same_body(pending, viewed(view))


async def test_a_page_reads_the_same_orders_in_the_same_order_with_the_same_cursor(use_cases: UseCases) -> None:
    key = a_principal(Scope.READ_ORDERS, Scope.WRITE_ORDERS)
    pet = await a_pet(use_cases, stock=10)
    for _ in range(5):
        await an_order(use_cases, pet, by=key)
    domain = await use_cases.orders.list(key, OrderFilter(), limit=2)

    page = await use_cases.order_reads.list(key, OrderFilter(), limit=2)
    following = await use_cases.order_reads.list(key, OrderFilter(), limit=2, cursor=domain.next_cursor)

    assert [msgspec.json.encode(viewed(view)) for view in page.items] == [
        msgspec.json.encode(OrderOut.of(order)) for order in domain.items
    ]
    assert page.next_cursor == domain.next_cursor
    second = await use_cases.orders.list(key, OrderFilter(), limit=2, cursor=domain.next_cursor)
    assert [view.id for view in following.items] == [order.id for order in second.items]


async def test_a_customer_reads_only_their_own_orders(use_cases: UseCases) -> None:
    alice = Principal(PrincipalKind.USER, uuid.uuid4(), frozenset({Scope.READ_ORDERS, Scope.WRITE_ORDERS}))
    bob = Principal(PrincipalKind.USER, uuid.uuid4(), frozenset({Scope.READ_ORDERS}))
    order = await an_order(use_cases, await a_pet(use_cases), by=alice)

    with pytest.raises(NotFound):
        await use_cases.order_reads.get(bob, order.id)
    assert (await use_cases.order_reads.get(alice, order.id)).id == order.id
    assert (await use_cases.order_reads.list(bob, OrderFilter(), limit=20)).items == []


async def test_an_order_token_reads_its_own_order_and_no_other(use_cases: UseCases) -> None:
    pet = await a_pet(use_cases, stock=2)
    placed = await use_cases.orders.place(ANYONE, PlaceOrder([LineRequest(pet.id, 1)]))
    other = await an_order(use_cases, pet)
    assert placed.order_token is not None
    bearer = await use_cases.authenticator.authenticate(placed.order_token)

    assert (await use_cases.order_reads.get(bearer, placed.order.id)).id == placed.order.id
    with pytest.raises(NotFound):
        await use_cases.order_reads.get(bearer, other.id)


async def test_an_unknown_order_is_not_found(use_cases: UseCases) -> None:
    with pytest.raises(NotFound):
        await use_cases.order_reads.get(ADMIN, uuid.uuid4())


async def test_a_search_finds_the_same_orders_as_the_domains(use_cases: UseCases) -> None:
    pet = await a_pet(use_cases, stock=10)
    for _ in range(5):
        await an_order(use_cases, pet)
    where = OrderSearch(statuses=frozenset({OrderStatus.PLACED}))
    domain = await use_cases.orders.search(ADMIN, where, offset=1, limit=3)

    views = await use_cases.order_reads.search(ADMIN, where, offset=1, limit=3)

    assert [msgspec.json.encode(viewed(view)) for view in views] == [
        msgspec.json.encode(OrderOut.of(order)) for order in domain
    ]


async def test_a_search_outside_what_the_caller_may_see_finds_nothing(use_cases: UseCases) -> None:
    alice = Principal(PrincipalKind.USER, uuid.uuid4(), frozenset({Scope.READ_ORDERS, Scope.WRITE_ORDERS}))
    bob = Principal(PrincipalKind.USER, uuid.uuid4(), frozenset({Scope.READ_ORDERS}))
    await an_order(use_cases, await a_pet(use_cases), by=alice)

    assert await use_cases.order_reads.search(bob, OrderSearch(), offset=0, limit=10) == []
    assert (
        await use_cases.order_reads.search(bob, OrderSearch(owner=Owner(customer_id=alice.id)), offset=0, limit=10)
        == []
    )


@pytest.mark.parametrize("status", STATUSES)
async def test_the_drf_dialect_shows_a_view_as_it_shows_the_order(use_cases: UseCases, status: str) -> None:
    order = await in_status(use_cases, await a_pet(use_cases), status)
    address = Address("1 High St", "London", "01234", "GB", "Flat 2", None)
    if status == "PLACED":  # an address may be changed only while the order awaits payment
        await use_cases.order_edits.change_billing_address(ADMIN, order.id, address)
    domain = await use_cases.orders.get(ADMIN, order.id)

    view = await use_cases.order_reads.get(ADMIN, order.id)

    url = f"http://shop.test/api/v1/i/orders/{order.id}/"
    assert msgspec.json.encode(drf_viewed(view, None, url)) == msgspec.json.encode(DrfOrderOut.of(domain, None, url))


# The shown reads (ADR 0048): an order with its customer, and a search with its count, each in one statement.


async def _customer(use_cases: UseCases, username: str) -> Principal:
    user = await use_cases.users.register(ANYONE, Registration(username, f"{username}@example.com",
                                                               "correct horse battery", "Ada", None))  # fmt: skip
    return Principal(PrincipalKind.USER, user.id, CUSTOMER_SCOPES)


async def test_an_order_is_shown_with_its_customer_as_the_account_read_shows_them(use_cases: UseCases) -> None:
    ada = await _customer(use_cases, "ada")
    order = await an_order(use_cases, await a_pet(use_cases), by=ada)
    account = await use_cases.users.get(ada, ada.id)  # type: ignore[arg-type]

    view, customer = await use_cases.order_reads.get_shown(ada, order.id)
    by_admin = await use_cases.order_reads.get_shown(ADMIN, order.id)
    support = Principal(PrincipalKind.USER, uuid.uuid4(), SUPPORT_SCOPES)
    by_support = await use_cases.order_reads.get_shown(support, order.id)

    assert view == await use_cases.order_reads.get(ada, order.id)
    assert customer == CustomerView(account.email, "Ada", None, "ACTIVE")
    assert by_admin == (view, customer)
    assert by_support == (view, None)  # support reads every order and its own account: no one else's
    assert await use_cases.users.beside_order(ada, ada.id) == customer
    assert await use_cases.users.beside_order(ADMIN, None) is None


async def test_a_closed_or_missing_customer_is_shown_as_none(use_cases: UseCases) -> None:
    ada = await _customer(use_cases, "ada")
    pet = await a_pet(use_cases, stock=3)
    hers, anonymous = await an_order(use_cases, pet, by=ada), await an_order(use_cases, pet)
    await use_cases.users.delete(ADMIN, ada.id)  # type: ignore[arg-type]

    assert (await use_cases.order_reads.get_shown(ADMIN, hers.id))[1] is None
    assert (await use_cases.order_reads.get_shown(ADMIN, anonymous.id))[1] is None
    assert await use_cases.users.beside_order(ADMIN, ada.id) is None
    with pytest.raises(NotFound):
        await use_cases.order_reads.get_shown(ADMIN, uuid.uuid4())


@pytest.mark.parametrize(("offset", "limit"), [(0, 3), (2, 3), (4, 3), (7, 3), (50, 10)])
async def test_a_shown_search_is_the_search_with_its_count_and_each_customer(
    use_cases: UseCases, offset: int, limit: int
) -> None:
    ada, bob = await _customer(use_cases, "ada"), await _customer(use_cases, "bob")
    pet = await a_pet(use_cases, stock=20)
    for n in range(7):
        await an_order(use_cases, pet, by=ada if n % 2 else bob)
    await an_order(use_cases, pet)  # no customer
    cancelled = await an_order(use_cases, pet, by=ada)
    await use_cases.orders.cancel(ADMIN, CancelOrder(cancelled.id))
    customers = {user.id: await use_cases.users.beside_order(ADMIN, user.id) for user in (ada, bob)}

    for principal, where in [
        (ADMIN, OrderSearch(statuses=frozenset({OrderStatus.PLACED}))),
        (ADMIN, OrderSearch()),
        (ada, OrderSearch()),
        (bob, OrderSearch(statuses=frozenset({OrderStatus.CANCELLED}))),
    ]:
        shown, count = await use_cases.order_reads.search_shown(principal, where, offset=offset, limit=limit)

        assert [view for view, _customer in shown] == await use_cases.order_reads.search(
            principal, where, offset=offset, limit=limit
        )
        assert count == await use_cases.orders.count(principal, where)
        assert [customer for _view, customer in shown] == [
            None if view.user_id is None else customers[view.user_id] for view, _customer in shown
        ]


async def test_a_shown_search_outside_what_the_caller_may_see_finds_and_counts_nothing(use_cases: UseCases) -> None:
    ada, bob = await _customer(use_cases, "ada"), await _customer(use_cases, "bob")
    await an_order(use_cases, await a_pet(use_cases), by=ada)

    mine = OrderSearch(owner=Owner(customer_id=ada.id))
    assert await use_cases.order_reads.search_shown(bob, mine, offset=0, limit=10) == ([], 0)
    assert await use_cases.order_reads.search_shown(bob, OrderSearch(), offset=0, limit=10) == ([], 0)
