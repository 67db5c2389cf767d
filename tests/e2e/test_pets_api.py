"""The catalogue over HTTP: public reads, scoped writes, derived status, filters and the inventory."""

from __future__ import annotations

import pytest

from tests.e2e.http import Client, assert_problem, make_pet, place

WHISKERS = {
    "name": "Whiskers",
    "species": "CAT",
    "breed": "Domestic Shorthair",
    "ageMonths": 18,
    "size": "SMALL",
    "color": "Orange Tabby",
    "gender": "MALE",
    "goodWithKids": True,
    "goodWithPets": False,
    "adoptionFee": "150.00",
    "currency": "USD",
    "description": "A calm lap cat.",
    "intakeDate": "2025-08-24",
    "photos": ["https://example.com/whiskers.jpg"],
    "medicalInfo": {"vaccinated": True, "microchipped": True},
    "stock": 2,
}


async def test_a_pet_is_created_with_every_pet_store_field_and_read_back_publicly(
    client: Client, admin: dict[str, str]
) -> None:
    created = await client.post("/v1/pets", json=WHISKERS | {"status": "ADOPTED"}, headers=admin)

    assert created.status_code == 201, created.text
    pet = created.json()
    assert created.headers["location"] == f"/v1/pets/{pet['id']}"
    assert {k: pet[k] for k in WHISKERS} == WHISKERS
    assert (pet["status"], pet["stockAvailable"], pet["version"]) == ("AVAILABLE", 2, 1)
    assert (await client.get(f"/v1/pets/{pet['id']}")).json() == pet


@pytest.mark.parametrize(("headers", "status", "slug"), [({}, 401, "unauthorized"), ("clerk", 403, "forbidden")])
async def test_writing_the_catalogue_needs_write_pets(
    client: Client, clerk: dict[str, str], headers: object, status: int, slug: str
) -> None:
    sent = clerk if headers == "clerk" else {}

    response = await client.post("/v1/pets", json=WHISKERS, headers=sent)

    assert_problem(response, status, slug)
    assert (await client.get("/v1/pets")).json()["data"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"adoptionFee": 150.5}, "adoptionFee"),
        ({"adoptionFee": "-1.00"}, "adoptionFee"),
        ({"species": "DRAGON"}, "species"),
        ({"stock": -1}, "stock"),
        ({"name": ""}, "name"),
        ({"intakeDate": "yesterday"}, "intakeDate"),
    ],
)
async def test_an_invalid_pet_is_a_422_naming_the_field(
    client: Client, admin: dict[str, str], change: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/pets", json=WHISKERS | change, headers=admin)

    body = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_a_fee_with_too_many_decimals_for_its_currency_is_refused(client: Client, admin: dict[str, str]) -> None:
    response = await client.post("/v1/pets", json=WHISKERS | {"adoptionFee": "150.5", "currency": "JPY"}, headers=admin)

    assert_problem(response, 422, "invalid-amount")


async def test_status_follows_stock_from_available_to_pending_to_adopted(
    client: Client, admin: dict[str, str], clerk: dict[str, str], app_use_cases: object
) -> None:
    pet = await make_pet(client, admin, stock=1)

    await place(client, pet["id"])
    pending = (await client.get(f"/v1/pets/{pet['id']}")).json()["status"]

    assert pending == "PENDING"


async def test_pets_are_filtered_by_species_and_status_and_paged(client: Client, admin: dict[str, str]) -> None:
    cat = await make_pet(client, admin, name="Whiskers", species="CAT")
    dog = await make_pet(client, admin, name="Biscuit", species="DOG")
    fish = await make_pet(client, admin, name="Nemo", species="FISH", stock=3)
    await place(client, dog["id"])

    dogs = (await client.get("/v1/pets", params={"species": "DOG"})).json()["data"]
    pending = (await client.get("/v1/pets", params={"status": "PENDING"})).json()["data"]
    available = (await client.get("/v1/pets", params={"status": "AVAILABLE"})).json()["data"]
    first = (await client.get("/v1/pets", params={"limit": 2})).json()
    rest = (await client.get("/v1/pets", params={"limit": 2, "cursor": first["nextCursor"]})).json()

    assert [p["id"] for p in dogs] == [dog["id"]]
    assert [p["id"] for p in pending] == [dog["id"]]
    assert [p["id"] for p in available] == [cat["id"], fish["id"]]
    assert [p["id"] for p in first["data"] + rest["data"]] == [cat["id"], dog["id"], fish["id"]]
    assert rest["nextCursor"] is None


async def test_stock_cannot_be_lowered_below_what_orders_hold(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=2)
    await place(client, pet["id"], quantity=2)

    response = await client.put(f"/v1/pets/{pet['id']}", json=WHISKERS | {"stock": 1}, headers=admin)

    body = assert_problem(response, 409, "stock-below-committed")
    assert body["reserved"] == 2


async def test_a_pet_is_revised_and_its_version_bumped(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=1)

    response = await client.put(
        f"/v1/pets/{pet['id']}", json=WHISKERS | {"stock": 5, "adoptionFee": "99.99"}, headers=admin
    )

    assert response.status_code == 200, response.text
    revised = response.json()
    assert (revised["stock"], revised["adoptionFee"], revised["version"]) == (5, "99.99", 2)


async def test_a_reserved_pet_cannot_be_deleted_but_a_free_one_can(client: Client, admin: dict[str, str]) -> None:
    reserved = await make_pet(client, admin, name="Biscuit")
    free = await make_pet(client, admin, name="Luna")
    await place(client, reserved["id"])

    refused = await client.delete(f"/v1/pets/{reserved['id']}", headers=admin)
    deleted = await client.delete(f"/v1/pets/{free['id']}", headers=admin)

    assert_problem(refused, 409, "pet-reserved")
    assert deleted.status_code == 204
    assert_problem(await client.get(f"/v1/pets/{free['id']}"), 404, "not-found")
    assert_problem(await client.delete(f"/v1/pets/{free['id']}", headers=admin), 404, "not-found")


async def test_the_inventory_counts_units_by_status_and_species(client: Client, admin: dict[str, str]) -> None:
    await make_pet(client, admin, name="Whiskers", species="CAT", stock=1)
    fish = await make_pet(client, admin, name="Nemo", species="FISH", stock=5)
    await place(client, fish["id"], quantity=2)

    inventory = (await client.get("/v1/inventory")).json()

    assert inventory == {
        "available": 4,
        "pending": 2,
        "adopted": 0,
        "total": 6,
        "bySpecies": {"CAT": 1, "FISH": 3},
    }


async def test_health_reports_the_database(client: Client) -> None:
    response = await client.get("/v1/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


async def test_a_revision_without_stock_keeps_the_stock(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=4)
    without_stock = {k: v for k, v in WHISKERS.items() if k != "stock"}

    response = await client.put(f"/v1/pets/{pet['id']}", json=without_stock, headers=admin)

    assert response.json()["stock"] == 4
