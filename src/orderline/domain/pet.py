"""A pet: a catalogue product with a price and stock, whose status is derived from that stock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from orderline.domain.errors import InvalidOrder, OutOfStock, PetReserved, StockBelowCommitted
from orderline.domain.money import Money


class Species(StrEnum):
    DOG = "DOG"
    CAT = "CAT"
    BIRD = "BIRD"
    RABBIT = "RABBIT"
    FISH = "FISH"
    REPTILE = "REPTILE"
    OTHER = "OTHER"


class PetSize(StrEnum):
    SMALL = "SMALL"
    MEDIUM = "MEDIUM"
    LARGE = "LARGE"
    EXTRA_LARGE = "EXTRA_LARGE"


class Gender(StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    UNKNOWN = "UNKNOWN"


class PetStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    PENDING = "PENDING"
    ADOPTED = "ADOPTED"


@dataclass(frozen=True, slots=True)
class PetProfile:
    """What the catalogue says about a pet; everything a catalogue edit may replace except stock."""

    name: str
    species: Species
    adoption_fee: Money
    breed: str | None = None
    age_months: int | None = None
    size: PetSize | None = None
    color: str | None = None
    gender: Gender | None = None
    good_with_kids: bool | None = None
    good_with_pets: bool | None = None
    description: str | None = None
    intake_date: date | None = None
    photos: tuple[str, ...] = ()
    medical_info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stock:
    """Units of one product. ``total`` is every unit the shop has had: free + reserved + sold."""

    total: int
    reserved: int = 0
    sold: int = 0

    @property
    def free(self) -> int:
        return self.total - self.reserved - self.sold

    def reserve(self, quantity: int) -> Stock:
        _positive(quantity)
        if quantity > self.free:
            raise OutOfStock(
                f"only {self.free} unit(s) free, {quantity} requested",
                free=self.free,
                requested=quantity,
            )
        return replace(self, reserved=self.reserved + quantity)

    def release(self, quantity: int) -> Stock:
        _positive(quantity)
        if quantity > self.reserved:
            # Never a client's fault: the orders and the counters disagree, so this is a bug.
            raise ValueError(f"cannot release {quantity} unit(s): only {self.reserved} reserved")
        return replace(self, reserved=self.reserved - quantity)

    def consume(self, quantity: int) -> Stock:
        """Turn reserved units into sold ones (the order shipped)."""
        released = self.release(quantity)
        return replace(released, sold=released.sold + quantity)

    def resized(self, total: int) -> Stock:
        if total < self.reserved + self.sold:
            raise StockBelowCommitted(
                f"stock {total} is below the {self.reserved} reserved and {self.sold} sold unit(s)",
                requested=total,
                reserved=self.reserved,
                sold=self.sold,
            )
        return replace(self, total=total)


def _positive(quantity: int) -> None:
    if quantity < 1:
        raise InvalidOrder(f"quantity must be at least 1, not {quantity}", quantity=quantity)


@dataclass(slots=True)
class Pet:
    id: UUID
    profile: PetProfile
    stock: Stock
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def status(self) -> PetStatus:
        if self.stock.free > 0:
            return PetStatus.AVAILABLE
        if self.stock.reserved > 0:
            return PetStatus.PENDING
        return PetStatus.ADOPTED

    def reserve(self, quantity: int, now: datetime) -> None:
        try:
            stock = self.stock.reserve(quantity)
        except OutOfStock as refused:
            message = f"{self.profile.name} ({self.id}): {refused.message}"
            raise OutOfStock(message, pet_id=str(self.id), **refused.details) from None
        self._change(stock, now)

    def release(self, quantity: int, now: datetime) -> None:
        self._change(self.stock.release(quantity), now)

    def consume(self, quantity: int, now: datetime) -> None:
        self._change(self.stock.consume(quantity), now)

    def revise(self, profile: PetProfile, total_stock: int, now: datetime) -> None:
        stock = self.stock.resized(total_stock)
        self.profile = profile
        self._change(stock, now)

    def ensure_removable(self) -> None:
        if self.stock.reserved:
            raise PetReserved(
                f"{self.stock.reserved} unit(s) are reserved by open orders; cancel or ship them first",
                reserved=self.stock.reserved,
            )

    def _change(self, stock: Stock, now: datetime) -> None:
        self.stock = stock
        self.updated_at = now
        self.version += 1
