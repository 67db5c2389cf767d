"""Catalogue use cases: add, read, list, revise and remove pets; the inventory; the demo catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record, changes
from orderline.application.errors import NotFound, PreconditionFailed
from orderline.application.pagination import Page, decode_id_cursor, page_of
from orderline.application.ports import Inventory
from orderline.application.principal import Principal, Scope
from orderline.application.queries import PetQuery
from orderline.application.use_case import UseCase
from orderline.domain.pet import Pet, PetProfile, PetStatus, Species, Stock

_CURSOR = "pets"


@dataclass(frozen=True, slots=True)
class PetDraft:
    """A pet as a catalogue writer describes it: its profile and how many units the shop has.

    ``stock`` None means: 1 for a new pet, unchanged for a revised one.
    """

    profile: PetProfile
    stock: int | None = None

    @property
    def initial_stock(self) -> Stock:
        return Stock(total=1 if self.stock is None else self.stock)


class Catalogue(UseCase):
    async def add_pet(self, principal: Principal, draft: PetDraft) -> Pet:
        principal.require(Scope.WRITE_PETS)
        now = self._clock.now()
        pet = Pet(self._ids.new_id(), draft.profile, draft.initial_stock, now, now)
        async with self._db.transaction(principal.tenant) as uow:
            await uow.pets.add(pet)
            await self._record(
                uow, principal, Record(Action.PET_CREATED, EntityType.PET, pet.id, changes({}, _audited(pet)))
            )
            await uow.commit()
        return pet

    async def get_pet(self, tenant: UUID, pet_id: UUID) -> Pet:
        async with self._db.snapshot(tenant) as uow:
            pet = await uow.pets.get(pet_id)
        if pet is None:
            raise NotFound("pet", pet_id)
        return pet

    async def list_pets(
        self,
        tenant: UUID,
        *,
        species: Species | None = None,
        status: PetStatus | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Pet]:
        after = decode_id_cursor(_CURSOR, cursor) if cursor else None
        query = PetQuery(species=species, status=status, limit=limit, after_id=after)
        async with self._db.snapshot(tenant) as uow:
            rows = await uow.pets.find(query)
        return page_of(rows, limit, _CURSOR, lambda pet: str(pet.id))

    async def revise_pet(
        self, principal: Principal, pet_id: UUID, draft: PetDraft, *, expected_version: int | None = None
    ) -> Pet:
        """``expected_version``: the version the caller's edit was made on (a form's); a pet changed since
        (by another edit, or an order's stock move) is refused rather than overwritten."""
        principal.require(Scope.WRITE_PETS)
        async with self._db.transaction(principal.tenant) as uow:
            pet = await uow.pets.get(pet_id, for_update=True)
            if pet is None:
                raise NotFound("pet", pet_id)
            if expected_version is not None and pet.version != expected_version:
                raise PreconditionFailed("pet", pet.version)
            before = _audited(pet)
            total = pet.stock.total if draft.stock is None else draft.stock
            pet.revise(draft.profile, total, self._clock.now())
            await uow.pets.save(pet)
            await self._record(
                uow, principal, Record(Action.PET_UPDATED, EntityType.PET, pet.id, changes(before, _audited(pet)))
            )
            await uow.commit()
        return pet

    async def remove_pet(self, principal: Principal, pet_id: UUID) -> None:
        principal.require(Scope.WRITE_PETS)
        async with self._db.transaction(principal.tenant) as uow:
            pet = await uow.pets.get(pet_id, for_update=True)
            if pet is None:
                raise NotFound("pet", pet_id)
            pet.ensure_removable()
            await uow.pets.remove(pet_id, self._clock.now())
            await self._record(uow, principal, Record(Action.PET_REMOVED, EntityType.PET, pet_id))
            await uow.commit()

    async def inventory(self, tenant: UUID) -> Inventory:
        async with self._db.snapshot(tenant) as uow:
            return await uow.pets.inventory()

    async def add_unless_stocked(self, principal: Principal, drafts: list[PetDraft]) -> int:
        """Add ``drafts`` only to an empty catalogue (the demo); return how many were added."""
        principal.require(Scope.WRITE_PETS)
        now = self._clock.now()
        async with self._db.transaction(principal.tenant) as uow:
            if await uow.pets.any():
                return 0
            for draft in drafts:
                pet = Pet(self._ids.new_id(), draft.profile, draft.initial_stock, now, now)
                await uow.pets.add(pet)
                await self._record(
                    uow, principal, Record(Action.PET_CREATED, EntityType.PET, pet.id, changes({}, _audited(pet)))
                )
            await uow.commit()
        return len(drafts)


def _audited(pet: Pet) -> dict[str, Any]:
    """The fields of a pet the audit log follows."""
    return {
        "name": pet.profile.name,
        "species": str(pet.profile.species),
        "adoptionFee": str(pet.profile.adoption_fee),
        "stock": pet.stock.total,
    }
