"""A merchant's key (Shoplazza's read_order / write_order) acts for the shop: native order scopes, every order."""

from __future__ import annotations

import pytest

from orderline.application.errors import Forbidden
from orderline.application.ownership import visible_to
from orderline.application.principal import CUSTOMER_SCOPES, PrincipalKind, Scope
from orderline.application.queries import Owner
from tests.support import a_principal


@pytest.mark.parametrize(
    ("held", "implied"),
    [(Scope.READ_ORDER, Scope.READ_ORDERS), (Scope.WRITE_ORDER, Scope.WRITE_ORDERS)],
)
def test_a_shop_scope_grants_the_native_order_scope_it_stands_for(held: Scope, implied: Scope) -> None:
    merchant = a_principal(held)

    merchant.require(implied)

    assert merchant.has(implied)


def test_read_order_grants_no_writes_and_no_other_scope() -> None:
    reader = a_principal(Scope.READ_ORDER)

    with pytest.raises(Forbidden):
        reader.require(Scope.WRITE_ORDERS)

    assert not reader.has(Scope.WRITE_ORDER)
    assert not reader.has(Scope.READ_PETS)
    assert not reader.has(Scope.ADMIN)


def test_the_native_order_scopes_do_not_grant_the_shop_scopes() -> None:
    clerk = a_principal(Scope.READ_ORDERS, Scope.WRITE_ORDERS)

    assert not clerk.has(Scope.READ_ORDER)
    assert not clerk.has(Scope.WRITE_ORDER)


@pytest.mark.parametrize("scope", [Scope.READ_ORDER, Scope.WRITE_ORDER])
def test_a_merchant_sees_every_order_of_the_shop(scope: Scope) -> None:
    merchant = a_principal(scope)

    assert merchant.acts_for_shop
    assert visible_to(merchant) == Owner()


def test_a_customer_and_a_native_key_still_see_only_their_own_orders() -> None:
    customer = a_principal(*CUSTOMER_SCOPES, kind=PrincipalKind.USER)
    key = a_principal(Scope.READ_ORDERS, Scope.WRITE_ORDERS)

    assert visible_to(customer) == Owner(customer_id=customer.id)
    assert visible_to(key) == Owner(api_key_id=key.id)
    assert not customer.acts_for_shop
    assert not key.acts_for_shop
