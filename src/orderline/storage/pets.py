"""Pets in SQL: the catalogue rows, their stock counters, keyset lists and the inventory sums."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from orderline.application.ports import Inventory, StockCounts
from orderline.application.queries import PetQuery
from orderline.domain.money import Money
from orderline.domain.pet import Gender, Pet, PetProfile, PetSize, PetStatus, Species, Stock
from orderline.storage.driver import Connection, Row
from orderline.storage.keys import keys_in, keys_of
from orderline.storage.rows import (
    as_datetime,
    as_opt_bool,
    as_opt_date,
    as_uuid,
    from_json,
    to_json,
)
from orderline.storage.versions import Seen

_COLUMNS = (
    "id, name, species, breed, age_months, size, color, gender, good_with_kids, good_with_pets,"
    " description, intake_date, photos, medical_info, fee_minor, currency,"
    " stock_total, stock_reserved, stock_sold, version, created_at, updated_at"
)
_FREE = "(stock_total - stock_reserved - stock_sold)"

# The SQL form of Pet.status, for filtering; tests check that both agree.
_STATUS_FILTER = {
    PetStatus.AVAILABLE: f"{_FREE} > 0",
    PetStatus.PENDING: f"{_FREE} = 0 AND stock_reserved > 0",
    PetStatus.ADOPTED: f"{_FREE} = 0 AND stock_reserved = 0",
}

_INSERT = f"""
INSERT INTO pets ({_COLUMNS}, removed_at, tenant_id)
VALUES (:id, :name, :species, :breed, :age_months, :size, :color, :gender, :good_with_kids,
        :good_with_pets, :description, :intake_date, :photos, :medical_info, :fee_minor, :currency,
        :stock_total, :stock_reserved, :stock_sold, :version, :created_at, :updated_at, NULL, :tenant)
"""  # noqa: S608

_UPDATE = """
UPDATE pets SET name = :name, species = :species, breed = :breed, age_months = :age_months,
    size = :size, color = :color, gender = :gender, good_with_kids = :good_with_kids,
    good_with_pets = :good_with_pets, description = :description, intake_date = :intake_date,
    photos = :photos, medical_info = :medical_info, fee_minor = :fee_minor, currency = :currency,
    stock_total = :stock_total, stock_reserved = :stock_reserved, stock_sold = :stock_sold,
    version = :version, updated_at = :updated_at
WHERE id = :id AND tenant_id = :tenant AND version = :expected
"""

# One pet's stock move in one statement (SQLite's for each pet, PostgreSQL's for one; several there: _SHIFT_MANY): the
# counters shift only if they stay within the stock (the rule of domain.pet.Stock, which the caller asks instead when
# this refuses), and the pet comes back as it is now.
_SHIFT = f"""
UPDATE pets SET stock_reserved = stock_reserved + :reserved, stock_sold = stock_sold + :sold,
    version = version + 1, updated_at = :now
WHERE id = :id AND tenant_id = :tenant{{live}} AND stock_reserved + :reserved >= 0 AND stock_sold + :sold >= 0
    AND stock_reserved + :reserved + stock_sold + :sold <= stock_total
RETURNING {_COLUMNS}
"""  # noqa: S608

# Several pets' stock moves in one statement (PostgreSQL): one round trip whatever their number, and one text (the ids
# and quantities are arrays), so one prepared statement. ``locked`` locks every pet asked that is there, in id order:
# a locking SELECT sorts first and locks each row as it returns it, so the statement waits for at most one lock while
# holding only lower ids (what get_many(for_update=True) and every other writer of pets do; writers never deadlock).
# ``moved`` then moves each pet whose counters stay within its stock (the rule of domain.pet.Stock, as _SHIFT) by its
# quantity, never one below 1; it updates only pets ``locked`` returned, so it takes no lock of its own, and it checks
# its WHERE on each row's newest version (the one ``locked`` waited for). Moved pets come back as they are after, the
# others as ``locked`` returned them (locked, newest), for the domain to refuse; a pet not there comes back not at all.
_MOVED_COLUMNS = ", ".join(f"pets.{column.strip()}" for column in _COLUMNS.split(","))
_SHIFT_MANY = f"""
WITH locked AS MATERIALIZED (
    SELECT {_COLUMNS} FROM pets WHERE id IN {keys_in("pets", ":ids::uuid[]")}{{live}} ORDER BY id FOR UPDATE
), moved AS (
    UPDATE pets SET stock_reserved = pets.stock_reserved + :reserved * asked.quantity,
        stock_sold = pets.stock_sold + :sold * asked.quantity, version = pets.version + 1, updated_at = :now
    FROM locked JOIN unnest(:ids::uuid[], :quantities::bigint[]) AS asked (id, quantity) ON asked.id = locked.id
    WHERE pets.id = locked.id AND asked.quantity >= 1
        AND pets.stock_reserved + :reserved * asked.quantity >= 0 AND pets.stock_sold + :sold * asked.quantity >= 0
        AND pets.stock_reserved + :reserved * asked.quantity + pets.stock_sold + :sold * asked.quantity
            <= pets.stock_total
    RETURNING {_MOVED_COLUMNS}
)
SELECT true AS moved, {_COLUMNS} FROM moved
UNION ALL
SELECT false, {_COLUMNS} FROM locked WHERE NOT EXISTS (SELECT FROM moved WHERE moved.id = locked.id)
"""  # noqa: S608

# One pet by its key within the tenant, as written: (tenant_id, id) binds both, so either it or the primary key
# finds the one row, whatever the statistics (tests/integration/test_by_key_plans.py, ADR 0045).
_BY_ID = f"SELECT {_COLUMNS} FROM pets WHERE id = :id AND tenant_id = :tenant AND removed_at IS NULL"  # noqa: S608
_LOCKED = _BY_ID
_REMOVE = "UPDATE pets SET removed_at = :now, updated_at = :now WHERE id = :id AND tenant_id = :tenant"

_INVENTORY = f"""
SELECT species, SUM({_FREE}) AS available, SUM(stock_reserved) AS pending,
       SUM(stock_sold) AS adopted, SUM(stock_total) AS total
FROM pets WHERE tenant_id = :tenant AND removed_at IS NULL GROUP BY species ORDER BY species
"""  # noqa: S608


class SqlPetRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant
        self._seen = Seen()

    async def get(self, pet_id: UUID, *, for_update: bool = False) -> Pet | None:
        sql = _LOCKED + self._db.for_update() if for_update else _BY_ID
        row = await self._db.fetch_one(sql, {"id": pet_id, "tenant": self._tenant})
        return None if row is None else self._loaded(_pet(row))

    async def get_many(
        self, pet_ids: Sequence[UUID], *, for_update: bool = False, include_removed: bool = False
    ) -> dict[UUID, Pet]:
        if not pet_ids:
            return {}
        ids = sorted(set(pet_ids))
        names = [f"id{i}" for i in range(len(ids))]
        sql = _many_sql(len(ids), include_removed=include_removed) + (self._db.for_update() if for_update else "")
        rows = await self._db.fetch_all(sql, {**dict(zip(names, ids, strict=True)), "tenant": self._tenant})
        pets = [self._loaded(_pet(row)) for row in rows]
        return {pet.id: pet for pet in pets}

    async def add(self, pet: Pet) -> None:
        await self._db.execute(_INSERT, {**_params(pet), "tenant": self._tenant})
        self._seen.remember(pet.id, pet.version)

    async def save(self, pet: Pet) -> None:
        expected = self._seen.version_of(pet.id)
        changed = await self._db.execute(_UPDATE, {**_params(pet), "expected": expected, "tenant": self._tenant})
        self._seen.saved(pet.id, pet.version, changed=changed, what=f"pet {pet.id}")

    async def shift_stocks(
        self, quantities: Mapping[UUID, int], *, reserved: int, sold: int, now: datetime, include_removed: bool = False
    ) -> tuple[dict[UUID, Pet], set[UUID]]:
        """Lock the pets of ``quantities`` that are there in id order and move each by ``reserved`` and ``sold`` per
        unit if its counters stay within its stock; the pets found as they are after, and the ids of those left
        unmoved (refused, or a quantity below 1), locked. PostgreSQL: one statement for several pets (_SHIFT_MANY);
        one pet, and SQLite (whose writer is one at a time, and a statement no round trip): a conditional UPDATE per
        pet, and a locked read of a pet it refused. The same outcome either way (integration/test_stock_shifts)."""
        if not quantities:
            return {}, set()
        if self._db.dialect != "postgresql" or len(quantities) == 1:  # one pet: _SHIFT, a smaller plan to run
            return await self._shift_each(quantities, reserved, sold, now, include_removed)
        ids = list(quantities)  # in the caller's order: the statement takes its locks in id order whatever this is
        params = {
            "ids": ids, "quantities": list(quantities.values()), "reserved": reserved, "sold": sold,
            "now": now, "tenant": self._tenant,
        }  # fmt: skip
        rows = await self._db.fetch_all(_SHIFT_MANY.format(live=_live(include_removed)), params)
        found = sorted(((self._loaded(_pet(row)), row["moved"]) for row in rows), key=lambda each: each[0].id)
        return {pet.id: pet for pet, _ in found}, {pet.id for pet, moved in found if not moved}

    async def _shift_each(
        self, quantities: Mapping[UUID, int], reserved: int, sold: int, now: datetime, include_removed: bool
    ) -> tuple[dict[UUID, Pet], set[UUID]]:
        """``shift_stocks`` a pet at a time, in id order: its conditional UPDATE, or its locked read if refused."""
        shift = _SHIFT.format(live=_live(include_removed))
        pets: dict[UUID, Pet] = {}
        refused: set[UUID] = set()
        for pet_id, quantity in sorted(quantities.items()):
            row = None
            if quantity >= 1:
                params = {"id": pet_id, "reserved": reserved * quantity, "sold": sold * quantity, "now": now}
                row = await self._db.fetch_one(shift, {**params, "tenant": self._tenant})
            if row is not None:
                pets[pet_id] = self._loaded(_pet(row))
                continue
            found = await self.get_many([pet_id], for_update=True, include_removed=include_removed)
            if pet_id in found:
                pets[pet_id] = found[pet_id]
                refused.add(pet_id)
        return pets, refused

    def _loaded(self, pet: Pet) -> Pet:
        self._seen.remember(pet.id, pet.version)
        return pet

    async def remove(self, pet_id: UUID, now: datetime) -> None:
        await self._db.execute(_REMOVE, {"id": pet_id, "now": now, "tenant": self._tenant})

    async def find(self, query: PetQuery) -> list[Pet]:
        conditions = ["tenant_id = :tenant", "removed_at IS NULL"]
        params: dict[str, Any] = {"limit": query.limit + 1, "tenant": self._tenant}
        if query.species is not None:
            conditions.append("species = :species")
            params["species"] = query.species.value
        if query.status is not None:
            conditions.append(_STATUS_FILTER[query.status])
        if query.after_id is not None:
            conditions.append("id > :after")
            params["after"] = query.after_id
        where = " AND ".join(conditions)
        sql = f"SELECT {_COLUMNS} FROM pets WHERE {where} ORDER BY id LIMIT :limit"  # noqa: S608
        return [_pet(row) for row in await self._db.fetch_all(sql, params)]

    async def any(self) -> bool:
        sql = "SELECT 1 FROM pets WHERE tenant_id = :tenant AND removed_at IS NULL LIMIT 1"
        return await self._db.fetch_one(sql, {"tenant": self._tenant}) is not None

    async def low_stock(self, at_most: int, limit: int) -> list[Pet]:
        sql = f"""SELECT {_COLUMNS} FROM pets WHERE tenant_id = :tenant AND removed_at IS NULL AND {_FREE} <= :at_most
                  ORDER BY {_FREE}, id LIMIT :limit"""  # noqa: S608
        params = {"at_most": at_most, "limit": limit, "tenant": self._tenant}
        return [_pet(row) for row in await self._db.fetch_all(sql, params)]

    async def inventory(self) -> Inventory:
        by_species = {
            Species(row["species"]): StockCounts(
                int(row["available"]), int(row["pending"]), int(row["adopted"]), int(row["total"])
            )
            for row in await self._db.fetch_all(_INVENTORY, {"tenant": self._tenant})
        }
        counts = by_species.values()
        overall = StockCounts(
            sum(c.available for c in counts),
            sum(c.pending for c in counts),
            sum(c.adopted for c in counts),
            sum(c.total for c in counts),
        )
        return Inventory(overall, by_species)


@lru_cache(maxsize=64)
def _many_sql(count: int, *, include_removed: bool) -> str:
    """``get_many``'s statement for ``count`` ids, ``:id0`` to ``:id<count - 1>``, before its locking clause. The
    pets are found by their keys alone and their tenant compared outside (``keys_of``, ADR 0045): written as
    ``tenant_id = :tenant AND id IN (…) ORDER BY id``, PostgreSQL walked the tenant's pets in (tenant_id, id)
    order for the ORDER BY, never analysed or analysed while each tenant had a pet. The lock order is still id's."""
    live = _live(include_removed)
    keys = keys_of("pets", [f":id{n}" for n in range(count)])
    return f"SELECT {_COLUMNS} FROM pets WHERE id IN {keys}{live} ORDER BY id"  # noqa: S608


def _live(include_removed: bool) -> str:
    """The condition a statement adds to leave removed pets out (none when they are included)."""
    return "" if include_removed else " AND removed_at IS NULL"


def _params(pet: Pet) -> dict[str, Any]:
    profile = pet.profile
    return {
        "id": pet.id,
        "name": profile.name,
        "species": profile.species.value,
        "breed": profile.breed,
        "age_months": profile.age_months,
        "size": None if profile.size is None else profile.size.value,
        "color": profile.color,
        "gender": None if profile.gender is None else profile.gender.value,
        "good_with_kids": profile.good_with_kids,
        "good_with_pets": profile.good_with_pets,
        "description": profile.description,
        "intake_date": profile.intake_date,
        "photos": to_json(list(profile.photos)),
        "medical_info": to_json(profile.medical_info),
        "fee_minor": profile.adoption_fee.amount_minor,
        "currency": profile.adoption_fee.currency,
        "stock_total": pet.stock.total,
        "stock_reserved": pet.stock.reserved,
        "stock_sold": pet.stock.sold,
        "version": pet.version,
        "created_at": pet.created_at,
        "updated_at": pet.updated_at,
    }


def _pet(row: Row) -> Pet:
    profile = PetProfile(
        name=row["name"],
        species=Species(row["species"]),
        adoption_fee=Money(int(row["fee_minor"]), row["currency"]),
        breed=row["breed"],
        age_months=row["age_months"],
        size=None if row["size"] is None else PetSize(row["size"]),
        color=row["color"],
        gender=None if row["gender"] is None else Gender(row["gender"]),
        good_with_kids=as_opt_bool(row["good_with_kids"]),
        good_with_pets=as_opt_bool(row["good_with_pets"]),
        description=row["description"],
        intake_date=as_opt_date(row["intake_date"]),
        photos=tuple(from_json(row["photos"])),
        medical_info=from_json(row["medical_info"]),
    )
    stock = Stock(row["stock_total"], row["stock_reserved"], row["stock_sold"])
    return Pet(
        id=as_uuid(row["id"]),
        profile=profile,
        stock=stock,
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        version=row["version"],
    )
