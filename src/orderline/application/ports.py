"""Ports: what the use cases need from the outside world, as Protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from orderline.application.pagination import DEFAULT_LIMIT
from orderline.application.principal import Scope
from orderline.domain.order import Order
from orderline.domain.pet import Pet, PetStatus, Species
from orderline.domain.status import OrderStatus


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID: ...


@dataclass(frozen=True, slots=True)
class OrderQuery:
    status: OrderStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    limit: int = DEFAULT_LIMIT
    before_seq: int | None = None  # keyset: newest first, continue below this seq


@dataclass(frozen=True, slots=True)
class PetQuery:
    species: Species | None = None
    status: PetStatus | None = None
    limit: int = DEFAULT_LIMIT
    after_id: UUID | None = None  # keyset: oldest first (UUIDv7 order), continue above this id


@dataclass(frozen=True, slots=True)
class StockCounts:
    available: int = 0
    pending: int = 0
    adopted: int = 0
    total: int = 0


@dataclass(frozen=True, slots=True)
class Inventory:
    counts: StockCounts
    by_species: dict[Species, StockCounts] = field(default_factory=dict)


@dataclass(slots=True)
class ApiKey:
    id: UUID
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None


class OrderRepository(Protocol):
    async def get(self, order_id: UUID, *, for_update: bool = False) -> Order | None: ...
    async def next_seq(self) -> int: ...
    async def add(self, order: Order) -> None: ...
    async def save(self, order: Order, expected_version: int) -> None: ...
    async def find(self, query: OrderQuery) -> list[Order]:
        """Up to ``query.limit + 1`` orders, newest first; the extra one tells another page exists."""
        ...


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
    async def save(self, pet: Pet, expected_version: int) -> None: ...
    async def remove(self, pet_id: UUID, now: datetime) -> None: ...
    async def find(self, query: PetQuery) -> list[Pet]:
        """Up to ``query.limit + 1`` pets in id order; the extra one tells another page exists."""
        ...

    async def any(self) -> bool: ...
    async def inventory(self) -> Inventory: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def find_by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def list(self) -> list[ApiKey]: ...
    async def revoke(self, key_id: UUID, now: datetime) -> bool: ...


class UnitOfWork(Protocol):
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def pets(self) -> PetRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...

    async def commit(self) -> None: ...


class Database(Protocol):
    """Opens units of work. Leaving one without ``commit()`` rolls it back."""

    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A write transaction, serialised against other writers of the rows it locks."""
        ...

    def snapshot(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A read-only, consistent view."""
        ...

    async def ping(self) -> None: ...
    async def close(self) -> None: ...
