"""The support role on both engines: every order to read and act on (cancel, force-cancel, ship, deliver),
never erasure, users or stock — judged by the use cases, whatever adapter asks (issue 12)."""

from __future__ import annotations

import pytest

from orderline.application.errors import Forbidden
from orderline.application.order_actions import OrderAction, allowed_actions
from orderline.application.orders import CancelOrder, OrderFilter
from orderline.application.principal import SYSTEM, Principal, PrincipalKind
from orderline.application.queries import UserQuery
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration, scopes_of
from orderline.domain.order import CancelReason
from orderline.domain.status import OrderStatus
from orderline.domain.user import Role
from tests.support import a_pet, a_pet_draft, a_principal, an_order, in_status

PASSWORD = "keep the shop running"


@pytest.fixture
async def support(use_cases: UseCases) -> Principal:
    registration = Registration("helpdesk", "help@example.com", PASSWORD)
    user = await use_cases.users.register(SYSTEM, registration, Role.SUPPORT)
    return Principal(PrincipalKind.USER, user.id, scopes_of(user.role))


async def test_support_staff_see_every_customers_orders(use_cases: UseCases, support: Principal) -> None:
    order = await an_order(use_cases, await a_pet(use_cases))

    listed = await use_cases.orders.list_all(support, OrderFilter(), limit=10)
    read = await use_cases.orders.get(support, order.id)

    assert [o.id for o in listed.items] == [order.id]
    assert read.id == order.id


async def test_support_staff_force_cancel_a_shipped_order_with_a_reason(
    use_cases: UseCases, support: Principal
) -> None:
    shipped = await in_status(use_cases, await a_pet(use_cases), "SHIPPED")

    cancelled = await use_cases.orders.cancel(support, CancelOrder(shipped.id, CancelReason.FRAUD), force=True)

    assert cancelled.status in {OrderStatus.CANCELLED, OrderStatus.CANCEL_PENDING}


async def test_support_staff_ship_and_deliver(use_cases: UseCases, support: Principal) -> None:
    approved = await in_status(use_cases, await a_pet(use_cases), "APPROVED")

    await use_cases.orders.ship(support, approved.id)
    delivered = await use_cases.orders.deliver(support, approved.id)

    assert delivered.status is OrderStatus.DELIVERED


async def test_support_staff_may_not_erase_an_order(use_cases: UseCases, support: Principal) -> None:
    order = await an_order(use_cases, await a_pet(use_cases))

    with pytest.raises(Forbidden):
        await use_cases.orders.erase(support, order.id)

    assert (await use_cases.orders.get(support, order.id)).id == order.id


async def test_support_staff_may_not_manage_users(use_cases: UseCases, support: Principal) -> None:
    staff = Registration("second", "second@example.com", PASSWORD)

    with pytest.raises(Forbidden):
        await use_cases.users.list(support, UserQuery())
    with pytest.raises(Forbidden):
        await use_cases.users.register(support, staff, Role.SUPPORT)


async def test_only_staff_create_support_staff(use_cases: UseCases) -> None:
    customer = a_principal(*scopes_of(Role.CUSTOMER), kind=PrincipalKind.USER)

    with pytest.raises(Forbidden):
        await use_cases.users.register(customer, Registration("sneaky", "s@example.com", PASSWORD), Role.SUPPORT)


async def test_support_staff_may_not_edit_stock(use_cases: UseCases, support: Principal) -> None:
    pet = await a_pet(use_cases)

    with pytest.raises(Forbidden):
        await use_cases.catalogue.revise_pet(support, pet.id, a_pet_draft(stock=9))


async def test_the_actions_offered_to_support_staff_leave_out_erasure(use_cases: UseCases, support: Principal) -> None:
    approved = await in_status(use_cases, await a_pet(use_cases), "APPROVED")

    offered = allowed_actions(approved, support)

    assert offered == {OrderAction.CANCEL, OrderAction.SHIP}
