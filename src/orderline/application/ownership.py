"""Whose order is it: the one rule for who may see an order, used by reads, lists and cancels alike."""

from __future__ import annotations

from uuid import UUID

from orderline.application.errors import CredentialsRequired, NotFound, PreconditionFailed
from orderline.application.ports import ReadAhead, UnitOfWork
from orderline.application.principal import Principal, PrincipalKind
from orderline.application.queries import Owner
from orderline.domain.order import Order


def owner_of(principal: Principal) -> Owner:
    """The orders ``principal`` counts as its own: a customer's, a key's, or the one order of a token."""
    principal = _identified(principal)
    if principal.kind is PrincipalKind.USER:
        return Owner(customer_id=principal.id)
    if principal.kind is PrincipalKind.API_KEY:
        return Owner(api_key_id=principal.id)
    if principal.kind is PrincipalKind.ORDER_TOKEN:
        return Owner(order_id=principal.id)
    if principal.kind is PrincipalKind.SYSTEM:
        return Owner()
    raise CredentialsRequired("this operation needs credentials")


def _identified(principal: Principal) -> Principal:
    if principal.id is None and principal.kind is not PrincipalKind.SYSTEM:
        raise ValueError(f"a {principal.kind} principal without an id owns nothing")  # a bug, never a client's
    return principal


def visible_to(principal: Principal) -> Owner:
    """The orders ``principal`` may see: every order (``Owner()``) for the shop's staff (an admin, a merchant's
    key: Shoplazza has no per-customer ownership), else its own (``owner_of``)."""
    return Owner() if principal.acts_for_shop else owner_of(principal)


def can_see(principal: Principal, order: Order) -> bool:
    """Whether ``order`` is among those ``visible_to(principal)``; others get 404, so ids reveal nothing."""
    return holds(visible_to(principal), order)


def holds(owner: Owner, order: Order) -> bool:
    """Whether ``order`` is among ``owner``'s orders (``Owner()``: every order)."""
    return _owns(owner, order.id, order.customer_id, order.placed_by_key)


def shows(owner: Owner, read: ReadAhead) -> bool:
    """Whether the order read ahead (ADR 0049) is among ``owner``'s orders, by ``holds``'s rule."""
    view = read.view
    return view is not None and _owns(owner, view.id, view.user_id, read.placed_by_key)


def _owns(owner: Owner, order_id: UUID, customer_id: UUID | None, placed_by_key: UUID | None) -> bool:
    return (
        owner == Owner()
        or (owner.customer_id is not None and owner.customer_id == customer_id)
        or (owner.api_key_id is not None and owner.api_key_id == placed_by_key)
        or (owner.order_id is not None and owner.order_id == order_id)
    )


async def locked_order(
    uow: UnitOfWork, principal: Principal, order_id: UUID, expected_version: int | None = None
) -> Order:
    """The order, locked for this transaction: NotFound unless the caller may see it, PreconditionFailed unless
    it is at ``expected_version`` (when one is given)."""
    order = await uow.orders.get(order_id, for_update=True)
    if order is None or not can_see(principal, order):
        raise NotFound("order", order_id)
    if expected_version is not None and expected_version != order.version:
        raise PreconditionFailed("order", order.version)
    return order
