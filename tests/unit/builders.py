"""Builders for domain objects: a fixed clock, ids from small integers, pets, lines and orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from orderline.domain.money import Money
from orderline.domain.order import CancelReason, Order, OrderLine
from orderline.domain.pet import Pet, PetProfile, Species, Stock
from orderline.domain.status import OrderStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def an_id(n: int) -> UUID:
    return UUID(int=n)


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def a_profile(name: str = "Whiskers", *, fee: Money | None = None) -> PetProfile:
    return PetProfile(name, Species.CAT, fee if fee is not None else usd("150.00"))


def a_pet(stock: int = 1, *, reserved: int = 0, sold: int = 0, id: int = 1) -> Pet:
    return Pet(
        id=an_id(id),
        profile=a_profile(),
        stock=Stock(stock, reserved, sold),
        created_at=NOW,
        updated_at=NOW,
    )


def a_line(pet: int = 1, *, price: Money | None = None, quantity: int = 1, name: str = "Whiskers") -> OrderLine:
    return OrderLine(
        pet_id=an_id(pet),
        name=name,
        unit_price=price if price is not None else usd("150.00"),
        quantity=quantity,
    )


# The moves that bring a PLACED order to each status, in the order they are made.
_PATH_TO: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.PLACED: (),
    OrderStatus.APPROVED: (OrderStatus.APPROVED,),
    OrderStatus.CANCEL_PENDING: (OrderStatus.APPROVED, OrderStatus.CANCEL_PENDING),
    OrderStatus.SHIPPED: (OrderStatus.APPROVED, OrderStatus.SHIPPED),
    OrderStatus.DELIVERED: (OrderStatus.APPROVED, OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    OrderStatus.CANCELLED: (OrderStatus.CANCELLED,),
}


def an_order(
    status: OrderStatus = OrderStatus.PLACED,
    *,
    lines: tuple[OrderLine, ...] | None = None,
    seq: int = 1,
    id: int = 100,
) -> Order:
    """A placed order, then brought to ``status`` by filling in what the real moves would have set."""
    order, _ = Order.place(
        id=an_id(id),
        seq=seq,
        customer_id=an_id(200),
        lines=lines if lines is not None else (a_line(),),
        note=None,
        now=NOW,
    )
    path = _PATH_TO[status]
    order.status = status
    order.version += len(path)
    if OrderStatus.SHIPPED in path:
        order.shipped_at = NOW
    if OrderStatus.DELIVERED in path:
        order.delivered_at = NOW
    if OrderStatus.CANCELLED in path:
        order.cancel_reason = CancelReason.CUSTOMER_REQUEST
        order.cancelled_at = NOW
    return order
