"""What the core does for an API whose contract asks more of it (the DRF shop's, ADR 0026), on both engines:
refresh tokens, erasure by an order's owner, and lines removed only while the order awaits payment."""

from __future__ import annotations

import pytest

from orderline.application.errors import AccountInactive, Forbidden, WrongCredentials, WrongTokenType
from orderline.application.order_edits import RemoveLine
from orderline.application.orders import LineRequest, PlaceOrder
from orderline.application.principal import ANONYMOUS, CUSTOMER_SCOPES, PUBLIC, Principal, PrincipalKind
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.domain.errors import OrderNotEditable
from orderline.domain.status import OrderStatus
from orderline.domain.user import UserStatus
from tests.support import ADMIN, a_pet, approve

PASSWORD = "correct horse battery"


async def alice(use_cases: UseCases) -> Principal:
    user = await use_cases.users.register(ANONYMOUS, Registration("alice", "alice@example.com", PASSWORD))
    return Principal(PrincipalKind.USER, user.id, CUSTOMER_SCOPES)


async def test_a_token_pairs_refresh_token_buys_an_access_token_that_authenticates(use_cases: UseCases) -> None:
    customer = await alice(use_cases)
    pair = await use_cases.users.issue_pair(PUBLIC, "alice", PASSWORD)

    access = await use_cases.users.refresh(pair.refresh.token)

    assert await use_cases.authenticator.authenticate(access.token) == customer
    assert await use_cases.authenticator.authenticate(pair.access.token) == customer


async def test_a_refresh_token_does_not_authenticate_a_request(use_cases: UseCases) -> None:
    await alice(use_cases)
    pair = await use_cases.users.issue_pair(PUBLIC, "alice", PASSWORD)

    with pytest.raises(WrongTokenType):
        await use_cases.authenticator.authenticate(pair.refresh.token)


async def test_a_wrong_password_gets_no_pair(use_cases: UseCases) -> None:
    await alice(use_cases)

    with pytest.raises(WrongCredentials):
        await use_cases.users.issue_pair(PUBLIC, "alice", "not the password")


async def test_a_suspended_accounts_refresh_token_stops_working_at_once(use_cases: UseCases) -> None:
    customer = await alice(use_cases)
    pair = await use_cases.users.issue_pair(PUBLIC, "alice", PASSWORD)
    assert customer.id is not None
    await use_cases.users.set_status(ADMIN, customer.id, UserStatus.SUSPENDED, "chargebacks")

    with pytest.raises(AccountInactive):
        await use_cases.users.refresh(pair.refresh.token)


async def test_an_owner_erases_their_order_where_the_api_promises_it_and_not_otherwise(use_cases: UseCases) -> None:
    customer = await alice(use_cases)
    pet = await a_pet(use_cases, stock=1)
    order = (await use_cases.orders.place(customer, PlaceOrder([LineRequest(pet.id)]))).order

    with pytest.raises(Forbidden):
        await use_cases.orders.erase(customer, order.id)
    await use_cases.orders.erase(customer, order.id, owner_may_erase=True)

    assert (await use_cases.catalogue.get_pet(PUBLIC, pet.id)).stock.reserved == 0


async def test_lines_of_a_paid_order_are_refused_where_the_api_promises_changes_only_before_payment(
    use_cases: UseCases,
) -> None:
    customer = await alice(use_cases)
    pet = await a_pet(use_cases, stock=2)
    order = (await use_cases.orders.place(customer, PlaceOrder([LineRequest(pet.id, 2)]))).order
    order = await approve(use_cases, order)

    with pytest.raises(OrderNotEditable):
        await use_cases.order_edits.remove_line(customer, RemoveLine(order.id, 1, quantity=1, unpaid_only=True))
    edited = await use_cases.order_edits.remove_line(customer, RemoveLine(order.id, 1, quantity=1))

    assert edited.status is OrderStatus.APPROVED
    assert edited.lines[0].quantity == 1
