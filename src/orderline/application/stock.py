"""Stock and voucher moves that order use cases share: every line reserved, released or consumed; and what an
order gives back when it leaves its open life (reaches CANCELLED, or is erased before it did)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

from orderline.application.ports import UnitOfWork
from orderline.domain.order import Order
from orderline.domain.pet import Pet

StockMove = Callable[[Pet, int, datetime], None]  # Pet.reserve, Pet.release or Pet.consume
# What each move does to the counters (reserved, sold) per unit, for the one-statement path.
_SHIFTS: dict[StockMove, tuple[int, int]] = {Pet.reserve: (1, 0), Pet.release: (-1, 0), Pet.consume: (-1, 1)}


async def move_stock(uow: UnitOfWork, pets: dict[UUID, Pet], order: Order, move: StockMove, now: datetime) -> None:
    """Apply one stock move for every line of ``order`` and save the pets (already loaded and locked)."""
    for pet_id, quantity in sorted(order.quantities().items()):
        pet = pets[pet_id]
        move(pet, quantity, now)
        await uow.pets.save(pet)


async def lock_and_move_stock(uow: UnitOfWork, order: Order, move: StockMove, now: datetime) -> None:
    """Lock the order's pets (removed ones too: their units still count) in id order and move their stock."""
    quantities = order.quantities()
    pets, refused = await shift_stock(uow, quantities, move, now, include_removed=True)
    await move_refused(uow, pets, refused, quantities, move, now)


async def shift_stock(
    uow: UnitOfWork, quantities: Mapping[UUID, int], move: StockMove, now: datetime, *, include_removed: bool
) -> tuple[dict[UUID, Pet], set[UUID]]:
    """Move each pet's stock, its lock taken in pet id order (so writers never deadlock), by a conditional UPDATE
    (one statement for several pets on PostgreSQL); the pets as they are after, and the ids of those whose move the
    UPDATE refused.

    A refused pet is loaded under its lock and left unmoved, for ``move_refused`` to ask the pet itself, so
    the refusal is the domain's own (OutOfStock with its details) and comes when the caller's other rules
    have spoken (placing an order names a bad voucher first). A pet that is not there is left out, for the
    caller to name; a quantity below 1 is never moved (the caller's domain refuses it).
    """
    reserved_per_unit, sold_per_unit = _SHIFTS[move]
    return await uow.pets.shift_stocks(
        quantities, reserved=reserved_per_unit, sold=sold_per_unit, now=now, include_removed=include_removed
    )


async def move_refused(
    uow: UnitOfWork, pets: dict[UUID, Pet], refused: set[UUID], quantities: Mapping[UUID, int], move: StockMove,
    now: datetime,
) -> None:  # fmt: skip
    """Ask each pet ``shift_stock`` could not move (locked by then): it raises the refusal, or — freed
    meanwhile — moves and is saved."""
    for pet_id in sorted(refused):
        move(pets[pet_id], quantities[pet_id], now)
        await uow.pets.save(pets[pet_id])


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
