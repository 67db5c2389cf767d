"""An order's lines as every read shows them: in line order, with their names exactly as stored, their amounts,
and the gaps an edit leaves, whichever read served them (read ahead with a key or a customer's standing, a page read
ahead, a page read the long way). storage/order_views.py decodes them from a row per line."""

from __future__ import annotations

from typing import Any

from tests.e2e.http import Client, make_pet

# Characters a JSON array must carry back unchanged: quotes, a backslash, markup, accents, a character outside the
# Basic Multilingual Plane (a surrogate pair in JSON's escapes), a right-to-left script, a solidus.
NAMES = ['Rex "the" Hound', "Back\\slash", "</script><b>", "Ünïcødé Ærø", "Dog 🐕 🐈", "قطة", "a/b"]


async def many_lines(
    client: Client, admin: dict[str, str], headers: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """An order of eleven lines whose pets were created in the reverse of their line order (their ids descend)."""
    names = [f"{NAMES[n % len(NAMES)]} {n}" for n in range(11)]
    pets = [await make_pet(client, admin, name=name, adoptionFee=f"{n}.25", stock=50) for n, name in enumerate(names)]
    items = [{"petId": pet["id"], "quantity": n % 3 + 1} for n, pet in reversed(list(enumerate(pets)))]
    response = await client.post("/v1/orders", json={"items": items}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json(), list(reversed(names))


def lines_of(order: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(i["id"], i["petId"], i["name"], i["quantity"], i["unitPrice"], i["amount"]) for i in order["items"]]


async def test_every_read_shows_the_lines_as_placed_in_line_order(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    placed, names = await many_lines(client, admin, alice)

    assert [item["name"] for item in placed["items"]] == names
    assert [item["id"] for item in placed["items"]] == list(range(1, 12))
    expected = lines_of(placed)
    as_key = (await client.get(f"/v1/orders/{placed['id']}", headers=admin)).json()
    as_customer = (await client.get(f"/v1/orders/{placed['id']}", headers=alice)).json()
    customers_page = (await client.get("/v1/orders?limit=5", headers=alice)).json()["data"]
    dated_page = (await client.get("/v1/orders?createdAfter=2000-01-01T00:00:00Z", headers=alice)).json()["data"]
    for read in (as_key, as_customer, customers_page[0], dated_page[0]):
        assert lines_of(read) == expected
        assert read == {key: value for key, value in placed.items() if key in read}


async def test_a_removed_line_leaves_a_gap_every_read_keeps(client: Client, admin: dict[str, str]) -> None:
    placed, _ = await many_lines(client, admin, admin)  # a key lists the orders it placed
    assert (await client.delete(f"/v1/orders/{placed['id']}/items/4", headers=admin)).status_code == 200

    read = (await client.get(f"/v1/orders/{placed['id']}", headers=admin)).json()
    listed = (await client.get("/v1/orders?limit=1", headers=admin)).json()["data"][0]

    assert [item["id"] for item in read["items"]] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11]
    assert listed == read
    assert lines_of(read) == [line for line in lines_of(placed) if line[0] != 4]
