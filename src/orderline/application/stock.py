"""Stock and voucher moves that order use cases share: every line reserved, released or consumed; a voucher freed."""

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
        expected = pet.version
        move(pet, quantity, now)
        await uow.pets.save(pet, expected)


async def lock_and_move_stock(uow: UnitOfWork, order: Order, move: StockMove, now: datetime) -> None:
    """Lock the order's pets (removed ones too: their units still count) in id order and move their stock."""
    pets = await uow.pets.get_many(list(order.quantities()), for_update=True, include_removed=True)
    await move_stock(uow, pets, order, move, now)


async def release_stock(uow: UnitOfWork, order: Order, now: datetime) -> None:
    await lock_and_move_stock(uow, order, Pet.release, now)


async def free_voucher(uow: UnitOfWork, voucher_id: UUID) -> None:
    """Give the order's voucher use back: once, because an order leaves its open statuses once."""
    voucher = await uow.vouchers.get(voucher_id, for_update=True)
    if voucher is not None:
        expected = voucher.version
        voucher.free()
        await uow.vouchers.save(voucher, expected)
