"""The demo catalogue `orderline serve --demo` adds to an empty shop."""

from __future__ import annotations

from datetime import date

from orderline.application.catalogue import PetDraft
from orderline.domain.money import Money
from orderline.domain.pet import Gender, PetProfile, PetSize, Species


def _pet(
    name: str,
    species: Species,
    fee: str,
    stock: int,
    breed: str,
    age_months: int,
    size: PetSize,
    gender: Gender,
    color: str,
) -> PetDraft:
    profile = PetProfile(
        name=name,
        species=species,
        adoption_fee=Money.parse(fee, "USD"),
        breed=breed,
        age_months=age_months,
        size=size,
        color=color,
        gender=gender,
        good_with_kids=species is not Species.REPTILE,
        good_with_pets=species in {Species.DOG, Species.RABBIT, Species.FISH},
        description=f"{name} is a {breed.lower()} looking for a home.",
        intake_date=date(2026, 9, 1),
        medical_info={"vaccinated": True, "microchipped": species in {Species.DOG, Species.CAT}},
    )
    return PetDraft(profile, stock)


S, Z, G = Species, PetSize, Gender

DEMO_PETS: list[PetDraft] = [
    _pet("Whiskers", S.CAT, "150.00", 1, "Domestic Shorthair", 18, Z.SMALL, G.MALE, "Orange Tabby"),
    _pet("Luna", S.CAT, "175.00", 1, "Siamese", 30, Z.SMALL, G.FEMALE, "Seal Point"),
    _pet("Biscuit", S.DOG, "250.00", 1, "Golden Retriever", 24, Z.LARGE, G.MALE, "Golden"),
    _pet("Pepper", S.DOG, "225.00", 1, "Border Collie", 12, Z.MEDIUM, G.FEMALE, "Black and White"),
    _pet("Mochi", S.RABBIT, "60.00", 3, "Holland Lop", 6, Z.SMALL, G.FEMALE, "Brown"),
    _pet("Kiwi", S.BIRD, "45.00", 5, "Budgerigar", 8, Z.SMALL, G.UNKNOWN, "Green"),
    _pet("Nemo", S.FISH, "12.50", 20, "Clownfish", 4, Z.SMALL, G.UNKNOWN, "Orange and White"),
    _pet("Sheldon", S.REPTILE, "90.00", 2, "Russian Tortoise", 60, Z.SMALL, G.MALE, "Olive"),
    _pet("Rex", S.DOG, "300.00", 1, "German Shepherd", 36, Z.LARGE, G.MALE, "Black and Tan"),
    _pet("Clover", S.RABBIT, "55.00", 2, "Netherland Dwarf", 10, Z.SMALL, G.MALE, "White"),
]
