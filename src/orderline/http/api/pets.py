"""Catalogue routes: /v1/pets. Reading is public; writing needs ``write:pets``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response

from orderline.application.catalogue import PetDraft
from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.domain.money import Money
from orderline.domain.pet import Gender, Pet, PetProfile, PetSize, PetStatus, Species
from orderline.http.access import needs, public
from orderline.http.api.examples import PET_EXAMPLE, PET_IN_EXAMPLE, PET_PAGE_EXAMPLE
from orderline.http.api.wire import CurrencyCode, Cursor, DecimalString, Limit, PageOut
from orderline.http.dependencies import Caller, Injected, Tenant
from orderline.http.openapi import body_examples, problems, success

Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class MedicalInfo(msgspec.Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    vaccinated: bool | None = None
    spayed_neutered: bool | None = None
    microchipped: bool | None = None
    special_needs: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class PetIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """A pet as written by the catalogue. ``status`` is derived from stock, so a sent one is ignored (ADR 0005);
    any other field it does not know is refused."""

    name: Text200
    species: Species
    adoption_fee: DecimalString
    currency: CurrencyCode = "USD"
    stock: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None  # new pet: 1; PUT: unchanged
    breed: Text200 | None = None
    age_months: Annotated[int, msgspec.Meta(ge=0, le=1200)] | None = None
    size: PetSize | None = None
    color: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    gender: Gender | None = None
    good_with_kids: bool | None = None
    good_with_pets: bool | None = None
    description: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    intake_date: date | None = None
    photos: Annotated[list[Annotated[str, msgspec.Meta(max_length=2000)]], msgspec.Meta(max_length=20)] = []
    medical_info: MedicalInfo | None = None
    status: Annotated[PetStatus, msgspec.Meta(description="derived from stock: ignored if sent (ADR 0005)")] | None = (
        None
    )

    def draft(self) -> PetDraft:
        profile = PetProfile(
            name=self.name,
            species=self.species,
            adoption_fee=Money.parse(self.adoption_fee, self.currency),
            breed=self.breed,
            age_months=self.age_months,
            size=self.size,
            color=self.color,
            gender=self.gender,
            good_with_kids=self.good_with_kids,
            good_with_pets=self.good_with_pets,
            description=self.description,
            intake_date=self.intake_date,
            photos=tuple(self.photos),
            medical_info=msgspec.to_builtins(self.medical_info) if self.medical_info else {},
        )
        return PetDraft(profile, self.stock)


class PetOut(msgspec.Struct, rename="camel", kw_only=True):
    id: UUID
    species: Species
    name: str
    breed: str | None
    age_months: int | None
    size: PetSize | None
    color: str | None
    gender: Gender | None
    good_with_kids: bool | None
    good_with_pets: bool | None
    adoption_fee: str
    currency: str
    description: str | None
    status: PetStatus
    intake_date: date | None
    photos: list[str]
    medical_info: MedicalInfo
    stock: int
    stock_available: int
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, pet: Pet) -> PetOut:
        p = pet.profile
        return cls(
            id=pet.id,
            species=p.species,
            name=p.name,
            breed=p.breed,
            age_months=p.age_months,
            size=p.size,
            color=p.color,
            gender=p.gender,
            good_with_kids=p.good_with_kids,
            good_with_pets=p.good_with_pets,
            adoption_fee=str(p.adoption_fee),
            currency=p.adoption_fee.currency,
            description=p.description,
            status=pet.status,
            intake_date=p.intake_date,
            photos=list(p.photos),
            medical_info=msgspec.convert(p.medical_info, MedicalInfo),
            stock=pet.stock.total,
            stock_available=pet.stock.free,
            created_at=pet.created_at,
            updated_at=pet.updated_at,
            version=pet.version,
        )


class PetController(Controller):
    path = "/pets"
    tags = ("Pet",)

    @post(
        "/",
        **needs(Scope.WRITE_PETS),
        operation_id="createPet",
        summary="Create Pet",
        description="Adds a pet to the catalogue. Needs the write:pets scope.",
        responses={
            **success(201, PetOut, PET_EXAMPLE, "the pet was added"),
            **problems("unauthorized", "forbidden", "invalid-amount", "unknown-currency",
                       "unsupported-media-type"),
        },
    )  # fmt: skip
    async def create(
        self,
        data: Annotated[PetIn, Body(examples=body_examples(whiskers=PET_IN_EXAMPLE))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> Response[PetOut]:
        pet = await use_cases.catalogue.add_pet(principal, data.draft())
        return Response(PetOut.of(pet), status_code=201, headers={"Location": f"/v1/pets/{pet.id}"})

    @get(
        "/",
        **public(),
        operation_id="listPets",
        summary="List Pets",
        description="In catalogue order, keyset-paginated: pass nextCursor back as cursor.",
        responses=success(200, PageOut[PetOut], PET_PAGE_EXAMPLE, "a page of pets") | problems(),
    )
    async def list(
        self,
        use_cases: Injected[UseCases],
        tenant: Tenant,
        species: FromQuery[Species | None] = None,
        status: FromQuery[PetStatus | None] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[PetOut]:
        page = await use_cases.catalogue.list_pets(tenant, species=species, status=status, limit=limit, cursor=cursor)
        return PageOut([PetOut.of(pet) for pet in page.items], page.next_cursor)

    @get(
        "/{pet_id:uuid}",
        **public(),
        operation_id="getPet",
        summary="Get Pet",
        responses=success(200, PetOut, PET_EXAMPLE, "the pet") | problems("not-found"),
    )
    async def read(self, pet_id: FromPath[UUID], use_cases: Injected[UseCases], tenant: Tenant) -> PetOut:
        return PetOut.of(await use_cases.catalogue.get_pet(tenant, pet_id))

    @put(
        "/{pet_id:uuid}",
        **needs(Scope.WRITE_PETS),
        operation_id="updatePet",
        summary="Update Pet",
        description="Replaces the pet's description and stock. Stock cannot go below the units "
        "that open orders hold and that were sold.",
        responses={
            **success(200, PetOut, PET_EXAMPLE, "the revised pet"),
            **problems("unauthorized", "forbidden", "not-found", "stock-below-committed",
                       "invalid-amount", "unknown-currency", "unsupported-media-type"),
        },
    )  # fmt: skip
    async def update(
        self,
        pet_id: FromPath[UUID],
        data: Annotated[PetIn, Body(examples=body_examples(whiskers=PET_IN_EXAMPLE))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> PetOut:
        return PetOut.of(await use_cases.catalogue.revise_pet(principal, pet_id, data.draft()))

    @delete(
        "/{pet_id:uuid}",
        **needs(Scope.WRITE_PETS),
        operation_id="deletePet",
        summary="Delete Pet",
        description="Removes the pet from the catalogue; orders keep their snapshot of it.",
        responses=problems("unauthorized", "forbidden", "not-found", "pet-reserved"),
    )
    async def remove(self, pet_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> None:
        await use_cases.catalogue.remove_pet(principal, pet_id)
