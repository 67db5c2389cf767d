"""Stock and voucher moves that order use cases share: every line reserved, released or consumed; and what an
order gives back when it leaves its open life (reaches CANCELLED, or is erased before it did)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from orderline.application.ports import UnitOfWork
from orderline.domain.order import Order
from orderline.domain.pet import Pet

StockMove = Callable[[Pet, int, datetime], None]  # Pet.reserve, Pet.release or Pet.consume


async def move_stock(uow: UnitOfWork, pets: dict[UUID, Pet], order: Order, move: StockMove, now: datetime) -> None:
    """Apply one stock move for every line of ``order`` and save the pets (already loaded and locked)."""
    for pet_id, quantity in sorted(order.quantities().items()):
        pet = pets[pet_id]
        move(pet, quantity, now)
        await uow.pets.save(pet)


async def lock_and_move_stock(uow: UnitOfWork, order: Order, move: StockMove, now: datetime) -> None:
    """Lock the order's pets (removed ones too: their units still count) in id order and move their stock."""
    pets = await uow.pets.get_many(list(order.quantities()), for_update=True, include_removed=True)
    await move_stock(uow, pets, order, move, now)


async def give_back(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """The one home of what an order returns when it reaches CANCELLED, or is erased without having reached
    it: the stock it still reserves (none once it shipped: those units are sold) and its voucher's use.

    An order leaves its open life once, so this runs once per order: on reaching CANCELLED (a cancel, or
    the refund a pending cancel waited for), or on erasure of an order that never reached CANCELLED.
    """
    if order.shipped_at is None:
        await lock_and_move_stock(uow, order, Pet.release, now)
    if order.voucher_id is not None:
        await _free_voucher(uow, order.voucher_id)


async def _free_voucher(uow: UnitOfWork, voucher_id: UUID) -> None:
    """Give the order's voucher use back: once, because an order leaves its open statuses once."""
    voucher = await uow.vouchers.get(voucher_id, for_update=True)
    if voucher is not None:
        voucher.free()
        await uow.vouchers.save(voucher)
