"""The catalogue: pets and vouchers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from orderline.application.ports.orders import Inventory
from orderline.application.queries import PetQuery
from orderline.domain.pet import Pet
from orderline.domain.voucher import Voucher


class PetRepository(Protocol):
    async def get(self, pet_id: UUID, *, for_update: bool = False) -> Pet | None:
        """A pet still in the catalogue (removed pets are not found)."""
        ...

    async def get_many(
        self, pet_ids: Sequence[UUID], *, for_update: bool = False, include_removed: bool = False
    ) -> dict[UUID, Pet]:
        """Load several pets; with ``for_update`` they are locked in id order, so writers never deadlock."""
        ...

    async def add(self, pet: Pet) -> None: ...
    async def save(self, pet: Pet) -> None: ...
    async def shift_stocks(
        self, quantities: Mapping[UUID, int], *, reserved: int, sold: int, now: datetime, include_removed: bool = False
    ) -> tuple[dict[UUID, Pet], set[UUID]]:
        """Lock each pet of ``quantities`` that is there (not removed, unless ``include_removed``) in id order, and
        move its counters by ``reserved`` and ``sold`` per unit of its quantity if they stay within its stock. The
        pets found, as they are after, and the ids of those left unmoved (the move refused, or a quantity below 1:
        ask the domain why); a pet not there is left out. One statement where a statement is a round trip."""
        ...

    async def remove(self, pet_id: UUID, now: datetime) -> None: ...
    async def find(self, query: PetQuery) -> list[Pet]:
        """Up to ``query.limit + 1`` pets in id order; the extra one tells another page exists."""
        ...

    async def any(self) -> bool: ...
    async def low_stock(self, at_most: int, limit: int) -> list[Pet]:
        """Pets with at most ``at_most`` free units, fewest first."""
        ...

    async def inventory(self) -> Inventory: ...


class VoucherRepository(Protocol):
    async def get(self, voucher_id: UUID, *, for_update: bool = False) -> Voucher | None: ...
    async def get_by_code(self, code: str, *, for_update: bool = False) -> Voucher | None: ...
    async def add(self, voucher: Voucher) -> None: ...
    async def save(self, voucher: Voucher) -> None: ...
    async def remove(self, code: str, now: datetime) -> bool: ...
    async def find(self, limit: int, after_id: UUID | None) -> list[Voucher]: ...
