"""No input reaches a 500: each class of input that did, refused with a 422 naming the field, on every engine.

Cursors, lengths checked before normalising, numbers and times the databases cannot hold, values in a form
other than the documented one, and unknown fields. Each refusal changes nothing.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.e2e.http import Client, as_owner, assert_problem, make_pet, place

ORDER = "019b4139-1234-7abc-8def-123456789abc"
LISTS = ["/v1/pets", "/v1/orders", "/v1/admin/orders", "/v1/admin/users", "/v1/admin/vouchers", "/v1/admin/audit-logs"]


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _field_of(response: Any) -> str:
    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    field: str = error["field"]
    return field


@pytest.mark.parametrize(
    "raw",
    [b"[" * 5000 + b"]" * 5000, b'{"k":' + b"[" * 5000 + b"]" * 5000 + b"}", b'{"k":"pets","v":[1]}', b"\xff\xfe"],
    ids=["nested", "nested-kind", "list-key", "not-utf8"],
)
async def test_a_cursor_that_is_not_one_a_list_returned_is_a_422_on_cursor_on_every_list(
    client: Client, admin: dict[str, str], raw: bytes
) -> None:
    responses = [await client.get(path, params={"cursor": _cursor(raw)}, headers=admin) for path in LISTS]

    assert [_field_of(response) for response in responses] == ["cursor"] * len(LISTS)


async def test_an_anonymous_caller_gets_the_same_422_for_a_nested_cursor(client: Client) -> None:
    response = await client.get("/v1/pets", params={"cursor": _cursor(b"[" * 5000 + b"]" * 5000)})

    assert _field_of(response) == "cursor"


async def test_an_email_longer_than_the_limit_once_in_lower_case_is_a_422_and_stores_nothing(
    client: Client, admin: dict[str, str]
) -> None:
    email = "a@" + "İ" * 200 + ".com"  # 206 characters; "İ".lower() is two code points: 406

    response = await client.post(
        "/v1/users", json={"username": "ibrahim", "email": email, "password": "correct horse battery"}
    )

    body = assert_problem(response, 422, "invalid-user")
    assert (body["field"], body["detail"]) == ("email", "an email address has at most 254 characters in lower case")
    assert (await client.get("/v1/admin/users", headers=admin)).json()["data"] == []


async def test_an_email_is_stored_in_lower_case(client: Client, admin: dict[str, str]) -> None:
    response = await client.post(
        "/v1/users", json={"username": "Ibrahim", "email": "İbrahim@Example.COM", "password": "correct horse battery"}
    )

    assert (response.status_code, response.json()["email"], response.json()["username"]) == (
        201,
        "i̇brahim@example.com",
        "ibrahim",
    )


@pytest.mark.parametrize("code", ["ßßß", "ıab", "ﬀab"], ids=["sharp-s", "dotless-i", "ligature"])
async def test_a_voucher_code_that_only_upper_cases_into_ascii_is_a_422(
    client: Client, admin: dict[str, str], code: str
) -> None:
    response = await client.post("/v1/admin/vouchers", json={"code": code, "percentOff": 10}, headers=admin)

    assert _field_of(response) == "code"
    assert (await client.get("/v1/admin/vouchers", headers=admin)).json()["data"] == []


@pytest.mark.parametrize("max_uses", [2**31, 2**63, 2**64], ids=["int32", "int64", "beyond"])
async def test_a_voucher_use_limit_beyond_what_a_database_holds_is_a_422(
    client: Client, admin: dict[str, str], max_uses: int
) -> None:
    response = await client.post(
        "/v1/admin/vouchers", json={"code": "BIG", "percentOff": 10, "maxUses": max_uses}, headers=admin
    )

    assert _field_of(response) == "maxUses"


async def test_the_largest_voucher_use_limit_is_stored(client: Client, admin: dict[str, str]) -> None:
    response = await client.post(
        "/v1/admin/vouchers", json={"code": "BIG", "percentOff": 10, "maxUses": 2**31 - 1}, headers=admin
    )

    assert response.status_code == 201, response.text
    assert (await client.get("/v1/admin/vouchers/big", headers=admin)).json()["maxUses"] == 2**31 - 1


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T00:00:00-00:01"]
)
async def test_an_expiry_whose_utc_time_leaves_the_calendar_is_a_422_naming_it(
    client: Client, admin: dict[str, str], moment: str
) -> None:
    response = await client.post(
        "/v1/admin/vouchers", json={"code": "EDGE", "percentOff": 10, "expiresAt": moment}, headers=admin
    )

    assert assert_problem(response, 422, "validation-error")["errors"][0]["field"] == "expiresAt"


@pytest.mark.parametrize(
    ("moment", "stored"),
    [
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
        ("9999-12-31T23:59:59+14:00", "9999-12-31T09:59:59Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("0001-01-01T00:00:00-14:00", "0001-01-01T14:00:00Z"),
    ],
)
async def test_an_expiry_at_either_end_of_the_calendar_is_stored_in_utc(
    client: Client, admin: dict[str, str], moment: str, stored: str
) -> None:
    response = await client.post(
        "/v1/admin/vouchers", json={"code": "EDGE", "percentOff": 10, "expiresAt": moment}, headers=admin
    )

    assert response.status_code == 201, response.text
    assert (await client.get("/v1/admin/vouchers/EDGE", headers=admin)).json()["expiresAt"] == stored


async def test_an_expiry_without_an_offset_is_a_422(client: Client, admin: dict[str, str]) -> None:
    response = await client.post(
        "/v1/admin/vouchers", json={"code": "EDGE", "percentOff": 10, "expiresAt": "2030-01-01T00:00:00"}, headers=admin
    )

    assert _field_of(response) == "expiresAt"


@pytest.mark.parametrize(
    "version", [b"\xb2", b"99999999999999999999", b"-1", b"0"], ids=["superscript", "huge", "neg", "0"]
)
async def test_an_if_match_naming_no_version_an_order_can_have_is_a_412(
    client: Client, admin: dict[str, str], version: bytes
) -> None:
    pet = await make_pet(client, admin)
    order = await place(client, pet["id"])
    if_match = b'"' + order["id"].encode() + b"." + version + b'"'

    response = await client.delete(f"/v1/orders/{order['id']}", headers=[*admin.items(), ("If-Match", if_match)])

    assert_problem(response, 412, "precondition-failed")
    assert (await client.get(f"/v1/orders/{order['id']}", headers=admin)).json()["status"] == "PLACED"


@pytest.mark.parametrize("quantity", ["2", 2.0, True, 2.5], ids=["string", "float", "bool", "fraction"])
async def test_a_quantity_in_any_form_but_an_integer_is_a_422_naming_it(
    client: Client, admin: dict[str, str], quantity: object
) -> None:
    pet = await make_pet(client, admin, stock=5)

    response = await client.post("/v1/orders", json={"petId": pet["id"], "quantity": quantity})
    in_items = await client.post("/v1/orders", json={"items": [{"petId": pet["id"], "quantity": quantity}]})

    assert _field_of(response) == "quantity"
    assert _field_of(in_items) == "items[0].quantity"
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("createdBefore", "0.5"),
        ("createdAfter", "1700000000"),
        ("limit", "2.0"),
        ("limit", "1e1"),
        ("limit", " 5"),
        ("limit", "٥"),
    ],
)
async def test_a_query_value_in_any_form_but_the_documented_one_is_a_422_naming_it(
    client: Client, admin: dict[str, str], name: str, value: str
) -> None:
    response = await client.get("/v1/orders", params={name: value}, headers=admin)

    assert _field_of(response) == name


async def test_a_query_value_given_twice_is_a_422(client: Client, admin: dict[str, str]) -> None:
    response = await client.get("/v1/orders", params=[("limit", "5"), ("limit", "6")], headers=admin)

    assert _field_of(response) == "limit"


async def test_a_misspelt_field_is_a_422_naming_it_and_places_nothing(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=5)

    response = await client.post("/v1/orders", json={"petId": pet["id"], "quantiy": 3})

    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert (error["field"], error["code"]) == ("quantiy", "unknown")
    assert "quantity" in error["message"]
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 5


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/orders", {"items": [{"petId": ORDER, "qty": 2}]}, "items[0].qty"),
        ("/v1/orders", {"petId": ORDER, "billingAddress": {"line1": "1", "city": "L", "postalCode": "1",
                                                           "country": "GB", "zip": "1"}}, "billingAddress.zip"),
        ("/v1/pets", {"name": "Rex", "species": "DOG", "adoptionFee": "1.00", "weight": 3}, "weight"),
        ("/v1/admin/vouchers", {"code": "ABC", "percentOff": 10, "uses": 3}, "uses"),
        ("/v1/users", {"username": "ann", "email": "a@b.co", "password": "correct horse battery", "role": "ADMIN"},
         "role"),
    ],
)  # fmt: skip
async def test_an_unknown_field_anywhere_is_a_422_naming_its_path(
    client: Client, admin: dict[str, str], path: str, body: dict[str, object], field: str
) -> None:
    response = await client.post(path, json=body, headers=admin)

    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert (error["field"], error["code"]) == (field, "unknown")


async def test_the_legacy_pet_store_fields_are_still_accepted_and_ignored(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=2)
    body = {"petId": pet["id"], "quantity": 2, "shipDate": "2025-08-15T10:00:00Z", "status": "delivered",
            "complete": True}  # fmt: skip

    response = await client.post("/v1/orders", json=body)

    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["items"][0]["quantity"]) == ("PLACED", 2)


async def test_a_quantity_beside_items_is_a_422_rather_than_ignored(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=5)

    response = await client.post("/v1/orders", json={"items": [{"petId": pet["id"]}], "quantity": 3})

    assert _field_of(response) == "quantity"


async def test_a_voucher_with_a_currency_but_no_amount_is_a_422(client: Client, admin: dict[str, str]) -> None:
    response = await client.post(
        "/v1/admin/vouchers", json={"code": "TEN", "percentOff": 10, "currency": "USD"}, headers=admin
    )

    assert assert_problem(response, 422, "invalid-voucher")["field"] == "currency"


async def test_an_order_read_back_by_its_owner_after_a_refusal_is_unchanged(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=3)
    order = await place(client, pet["id"])

    refused = await client.post(
        f"/v1/orders/{order['id']}/cancel", json={"reason": "CUSTOMER_REQUEST", "why": "x"}, headers=as_owner(order)
    )

    assert _field_of(refused) == "why"
    assert (await client.get(f"/v1/orders/{order['id']}", headers=as_owner(order))).json()["status"] == "PLACED"


async def test_paying_an_order_that_costs_nothing_is_a_409_and_records_no_payment(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, adoptionFee="0.00")
    order = await place(client, pet["id"])
    card = {"number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2030}

    response = await client.post(
        f"/v1/orders/{order['id']}/payment", json={"amount": "0.00", "source": card}, headers=as_owner(order)
    )

    assert "nothing to pay" in assert_problem(response, 409, "order-not-payable")["detail"]
    assert (await client.get(f"/v1/orders/{order['id']}/payments", headers=as_owner(order))).json()["data"] == []


async def test_an_admin_cannot_delete_an_account_by_setting_its_status(client: Client, admin: dict[str, str]) -> None:
    created = await client.post(
        "/v1/users", json={"username": "carol", "email": "carol@example.com", "password": "correct horse battery"}
    )

    response = await client.patch(
        f"/v1/admin/users/{created.json()['id']}/status", json={"status": "DELETED"}, headers=admin
    )

    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert (error["field"], error["code"], error["message"]) == ("status", "enum", "must be one of ACTIVE, SUSPENDED")
    assert (await client.get(f"/v1/users/{created.json()['id']}", headers=admin)).json()["email"] == "carol@example.com"


async def test_a_header_too_long_is_a_422_naming_the_header(client: Client, admin: dict[str, str]) -> None:
    response = await client.delete(f"/v1/orders/{ORDER}", headers=admin | {"If-Match": '"' + "x" * 300 + '"'})

    assert _field_of(response) == "If-Match"
