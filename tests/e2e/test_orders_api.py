"""The native order API over HTTP: create, read, list, cancel, and their refusals."""

from __future__ import annotations

import re

import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from tests.e2e.http import Client, as_owner, assert_problem, make_pet, place

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def test_an_anonymous_order_is_placed_with_a_location_and_the_pet_store_shape(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, adoptionFee="150.00")

    response = await client.post("/v1/orders", json={"petId": pet["id"]})

    assert response.status_code == 201
    order = response.json()
    assert response.headers["location"] == f"/v1/orders/{order['id']}"
    assert UUID7.match(order["id"])
    assert order["orderToken"].startswith("olo_")
    assert order | {"id": None, "createdAt": None, "updatedAt": None, "items": None, "orderToken": None} == {
        "id": None,
        "orderToken": None,
        "number": "1001",
        "petId": pet["id"],
        "userId": None,
        "status": "PLACED",
        "totalAmount": "150.00",
        "currency": "USD",
        "items": None,
        "note": None,
        "subtotalAmount": "150.00",
        "discountAmount": "0.00",
        "voucherCode": None,
        "billingAddress": None,
        "paymentStatus": "UNPAID",
        "paidAmount": "0.00",
        "refundedAmount": "0.00",
        "paidAt": None,
        "cancelReason": None,
        "cancelNote": None,
        "cancelRequestedAt": None,
        "cancelledAt": None,
        "createdAt": None,
        "updatedAt": None,
        "version": 1,
        "tenantId": None,
    }
    assert order["items"] == [
        {"id": 1, "petId": pet["id"], "name": "Whiskers", "unitPrice": "150.00", "quantity": 1, "amount": "150.00"}
    ]


async def test_the_pet_store_example_request_is_accepted_and_its_status_ignored(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=2)
    legacy = {"petId": pet["id"], "quantity": 2, "shipDate": "2025-08-15", "status": "delivered", "complete": True}

    response = await client.post("/v1/orders", json=legacy)

    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["totalAmount"]) == ("PLACED", "300.00")


async def test_an_integer_pet_id_gets_a_clear_validation_error(client: Client) -> None:
    response = await client.post("/v1/orders", json={"petId": 90180021, "quantity": 1})

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "petId"
    assert "UUID" in body["errors"][0]["message"]


async def test_an_unknown_pet_is_a_404_naming_the_pet(client: Client) -> None:
    unknown = "019b4132-70aa-764f-b315-e2803d882a24"

    response = await client.post("/v1/orders", json={"petId": unknown})

    body = assert_problem(response, 404, "pet-not-found")
    assert body["id"] == unknown


async def test_a_multi_pet_order_totals_every_line(client: Client, admin: dict[str, str]) -> None:
    cat = await make_pet(client, admin, adoptionFee="150.00")
    fish = await make_pet(client, admin, name="Nemo", species="FISH", adoptionFee="12.50", stock=5)

    response = await client.post(
        "/v1/orders", json={"items": [{"petId": cat["id"]}, {"petId": fish["id"], "quantity": 3}]}
    )

    assert response.status_code == 201, response.text
    assert response.json()["totalAmount"] == "187.50"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "petId"),
        ({"items": []}, "items"),
        ({"petId": "not-a-uuid"}, "petId"),
        ({"petId": "019b4132-70aa-764f-b315-e2803d882a24", "quantity": 0}, "quantity"),
        ({"petId": "019b4132-70aa-764f-b315-e2803d882a24", "currency": "usd"}, "currency"),
        (
            {
                "petId": "019b4132-70aa-764f-b315-e2803d882a24",
                "items": [{"petId": "019b4132-70aa-764f-b315-e2803d882a24"}],
            },
            "petId",
        ),
        ({"petId": "019b4132-70aa-764f-b315-e2803d882a24", "totalAmount": 150.0}, "totalAmount"),
    ],
)
async def test_an_invalid_order_body_is_a_422_naming_the_field(
    client: Client, body: dict[str, object], field: str
) -> None:
    response = await client.post("/v1/orders", json=body)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert {"field", "message", "code"} <= problem["errors"][0].keys()


async def test_the_last_unit_cannot_be_ordered_twice(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=1)
    await place(client, pet["id"])

    response = await client.post("/v1/orders", json={"petId": pet["id"]})

    body = assert_problem(response, 409, "out-of-stock")
    assert body["petId"] == pet["id"]


async def test_reading_an_order_gives_its_etag(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    response = await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))

    assert response.status_code == 200
    assert response.json() == {k: v for k, v in order.items() if k != "orderToken"}
    assert response.headers["etag"] == f'"{order["id"]}.1"'


async def test_reading_orders_needs_a_key_with_read_orders(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    pets_only = await app_use_cases.api_keys.create("pets", frozenset({Scope.WRITE_PETS}))

    anonymous = await client.get(f"/v1/orders/{order['id']}")
    wrong_scope = await client.get(f"/v1/orders/{order['id']}", headers={"Authorization": f"Bearer {pets_only[1]}"})

    assert_problem(anonymous, 401, "unauthorized")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert assert_problem(wrong_scope, 403, "forbidden")["requiredScope"] == "read:orders"


async def test_orders_are_listed_newest_first_in_keyset_pages(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=5)
    placed = [await place(client, pet["id"], headers=alice) for _ in range(5)]

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/orders", params=params, headers=alice)).json()
        seen += [order["id"] for order in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert seen == [order["id"] for order in reversed(placed)]


async def test_orders_are_filtered_by_status_and_time(
    client: Client, admin: dict[str, str], alice: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=3)
    first, second, third = [await place(client, pet["id"], headers=alice) for _ in range(3)]
    await client.delete(f"/v1/orders/{second['id']}", headers=alice)

    cancelled = await client.get("/v1/orders", params={"status": "CANCELLED"}, headers=alice)
    window = await client.get(
        "/v1/orders",
        params={"createdAfter": first["createdAt"], "createdBefore": third["createdAt"]},
        headers=alice,
    )

    assert [o["id"] for o in cancelled.json()["data"]] == [second["id"]]
    assert [o["id"] for o in window.json()["data"]] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "LOST"}, "status"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
     ({"cursor": "garbage"}, "cursor"), ({"createdAfter": "x"}, "createdAfter")],
)  # fmt: skip
async def test_a_bad_list_query_is_a_422_naming_the_parameter(
    client: Client, reader: dict[str, str], params: dict[str, str | int], field: str
) -> None:
    response = await client.get("/v1/orders", params=params, headers=reader)

    body = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_delete_cancels_the_order_with_a_204_and_frees_the_pet(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin)
    order = await place(client, pet["id"])

    response = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    assert (response.status_code, response.content) == (204, b"")
    stored = (await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))).json()
    assert (stored["status"], stored["cancelReason"]) == ("CANCELLED", "CUSTOMER_REQUEST")
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["status"] == "AVAILABLE"


async def test_cancel_with_a_reason_answers_the_cancelled_order(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    response = await client.post(
        f"/v1/orders/{order['id']}/cancel", json={"reason": "FRAUD", "note": "stolen card"}, headers=as_owner(order)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["cancelReason"], body["cancelNote"]) == ("CANCELLED", "FRAUD", "stolen card")
    assert body["cancelledAt"] is not None
    assert response.headers["etag"] == f'"{order["id"]}.2"'


@pytest.mark.parametrize("body", [{}, {"reason": "BORED"}, {"reason": "FRAUD", "note": 3}])
async def test_cancel_needs_a_known_reason(client: Client, admin: dict[str, str], body: dict[str, object]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    response = await client.post(f"/v1/orders/{order['id']}/cancel", json=body, headers=as_owner(order))

    assert_problem(response, 422, "validation-error")
    stored = (await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))).json()
    assert stored["status"] == "PLACED"


async def test_a_second_cancel_is_a_409_naming_the_current_status(client: Client, admin: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])
    await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))

    again = await client.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))
    with_reason = await client.post(
        f"/v1/orders/{order['id']}/cancel", json={"reason": "OTHER"}, headers=as_owner(order)
    )

    for response in (again, with_reason):
        body = assert_problem(response, 409, "order-not-cancellable")
        assert body["currentStatus"] == "CANCELLED"
        assert "CANCELLED" in body["detail"]


async def test_cancelling_needs_write_orders(client: Client, admin: dict[str, str], reader: dict[str, str]) -> None:
    order = await place(client, (await make_pet(client, admin))["id"])

    response = await client.delete(f"/v1/orders/{order['id']}", headers=reader)

    assert assert_problem(response, 403, "forbidden")["requiredScope"] == "write:orders"


async def test_an_unknown_order_is_a_404(client: Client, clerk: dict[str, str]) -> None:
    unknown = "019b4139-1234-7abc-8def-123456789abc"

    for response in (
        await client.get(f"/v1/orders/{unknown}", headers=clerk),
        await client.delete(f"/v1/orders/{unknown}", headers=clerk),
    ):
        assert_problem(response, 404, "not-found")
