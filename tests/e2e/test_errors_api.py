"""Every refusal on the native API is RFC 9457 problem+json, changes nothing, and carries X-Request-Id."""

from __future__ import annotations

import base64
import json

import pytest
from litestar import Litestar

from orderline.application.use_cases import UseCases
from tests.e2e.http import Client, assert_problem, make_pet, place

ORDER = "019b4139-1234-7abc-8def-123456789abc"


async def test_an_unknown_route_is_a_404_problem(client: Client) -> None:
    response = await client.get("/v1/nothing-here")

    assert_problem(response, 404, "not-found")


async def test_a_wrong_method_is_a_405_problem_that_lists_the_allowed_methods(client: Client) -> None:
    response = await client.patch(f"/v1/orders/{ORDER}")

    assert_problem(response, 405, "method-not-allowed")
    assert _methods(response.headers["allow"]) == {"GET", "POST", "DELETE", "OPTIONS"}


def _methods(allow: str) -> set[str]:
    return {method.strip() for method in allow.split(",")}


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        (f"/v1/orders/{ORDER}", {"GET", "POST", "DELETE"}),
        ("/v1/orders", {"GET", "POST"}),
        (f"/v1/pets/{ORDER}", {"GET", "PUT", "DELETE"}),
        (f"/v1/users/{ORDER}", {"GET", "PUT", "DELETE"}),
        ("/v1/admin/vouchers/SPRING10", {"GET", "DELETE"}),
        ("/v1/inventory", {"GET"}),
    ],
)
async def test_options_answers_with_every_method_the_path_takes(client: Client, path: str, methods: set[str]) -> None:
    response = await client.options(path)

    assert response.status_code == 204
    assert _methods(response.headers["allow"]) == methods | {"OPTIONS"}


async def test_an_unknown_path_under_the_schema_is_a_404_problem(client: Client) -> None:
    response = await client.get("/schema/nothing-here")

    assert_problem(response, 404, "not-found")


async def test_a_body_that_is_not_json_is_a_415_problem(client: Client) -> None:
    response = await client.post("/v1/orders", content=b"petId=1", headers={"Content-Type": "text/plain"})

    assert_problem(response, 415, "unsupported-media-type")


async def test_a_form_body_is_a_415_problem(client: Client) -> None:
    response = await client.post("/v1/orders", data={"petId": "1"})

    assert_problem(response, 415, "unsupported-media-type")


async def test_malformed_json_is_a_400_problem(client: Client) -> None:
    response = await client.post("/v1/orders", content=b'{"petId": ', headers={"Content-Type": "application/json"})

    assert_problem(response, 400, "bad-request")


async def test_a_body_larger_than_the_server_takes_is_a_413_problem_of_its_own(client: Client) -> None:
    response = await client.post("/v1/orders", content=b" " * 10_000_001, headers={"Content-Type": "application/json"})

    body = assert_problem(response, 413, "content-too-large")
    assert "10000000 bytes" in body["detail"]


async def test_a_missing_body_is_a_422_saying_a_json_body_is_required(client: Client) -> None:
    response = await client.post("/v1/orders", headers={"Content-Type": "application/json"})

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [{"field": "body", "message": "a JSON body is required", "code": "required"}]


async def test_an_enum_value_it_does_not_know_is_a_422_listing_the_values_it_knows(
    client: Client, admin: dict[str, str]
) -> None:
    in_body = await client.post(
        "/v1/pets", json={"name": "Rex", "species": "DOGE", "adoptionFee": "1.00"}, headers=admin
    )
    in_query = await client.get("/v1/orders", params={"status": "SENT"}, headers=admin)

    (body_error,) = assert_problem(in_body, 422, "validation-error")["errors"]
    (query_error,) = assert_problem(in_query, 422, "validation-error")["errors"]
    assert (body_error["field"], body_error["code"]) == ("species", "enum")
    assert "DOG, CAT, BIRD, RABBIT, FISH, REPTILE, OTHER" in body_error["message"]
    assert (query_error["field"], query_error["code"]) == ("status", "enum")
    assert "PLACED, APPROVED" in query_error["message"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/pets", {"name": "Rex", "species": "DOG", "adoptionFee": 150}, "adoptionFee"),
        ("/v1/orders", {"petId": ORDER, "totalAmount": 150.5}, "totalAmount"),
    ],
)
async def test_money_sent_as_a_json_number_is_a_422_asking_for_a_decimal_string(
    client: Client, admin: dict[str, str], path: str, body: dict[str, object], field: str
) -> None:
    response = await client.post(path, json=body, headers=admin)

    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert (error["field"], error["code"]) == (field, "type")
    assert 'a decimal string such as "150.00"' in error["message"]


async def test_a_json_body_that_is_not_an_object_is_a_422_problem(client: Client) -> None:
    response = await client.post("/v1/orders", json=["petId"])

    assert_problem(response, 422, "validation-error")


async def test_a_malformed_bearer_header_is_a_401_problem(client: Client) -> None:
    response = await client.get("/v1/orders", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    body = assert_problem(response, 401, "unauthorized")
    assert "Bearer" in body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_revoked_key_is_refused_on_the_next_request(
    client: Client, app_use_cases: UseCases, reader: dict[str, str]
) -> None:
    assert (await client.get("/v1/orders", headers=reader)).status_code == 200
    (key,) = [k for k in await app_use_cases.api_keys.list() if not k.revoked_at]
    await app_use_cases.api_keys.revoke(key.id)

    response = await client.get("/v1/orders", headers=reader)

    assert_problem(response, 401, "unauthorized")


async def test_an_unexpected_error_is_a_500_that_leaks_nothing_and_logs_the_traceback(
    client: Client,
    app: Litestar,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reader: dict[str, str],
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("connection string postgresql://admin:hunter2@db")

    monkeypatch.setattr(app.state.use_cases.order_reads, "get", broken)

    response = await client.get(f"/v1/orders/{ORDER}", headers=reader)

    body = assert_problem(response, 500, "internal-server-error")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    logged = capsys.readouterr().err
    assert "Traceback" in logged
    assert "hunter2" in logged
    assert response.headers["x-request-id"] in logged
    assert body["detail"].startswith("an unexpected error occurred")


async def test_every_response_carries_a_request_id(client: Client, admin: dict[str, str]) -> None:
    responses = [
        await client.get("/v1/livez"),
        await client.get("/v1/pets"),
        await client.get("/v1/nothing-here"),
        await client.post("/v1/orders", json={}),
        await client.delete(f"/v1/orders/{ORDER}", headers=admin),
    ]

    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)


async def test_a_sane_client_request_id_is_echoed_and_a_hostile_one_replaced(client: Client) -> None:
    echoed = await client.get("/v1/livez", headers={"X-Request-Id": "trace-42.a"})
    replaced = await client.get("/v1/livez", headers={"X-Request-Id": "x" * 500})

    assert echoed.headers["x-request-id"] == "trace-42.a"
    assert replaced.headers["x-request-id"] != "x" * 500


async def test_refused_requests_change_nothing(client: Client, admin: dict[str, str], clerk: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=1)
    order = await place(client, pet["id"])
    before = {
        "inventory": (await client.get("/v1/inventory")).json(),
        "orders": (await client.get("/v1/orders", headers=clerk)).json(),
        "pet": (await client.get(f"/v1/pets/{pet['id']}")).json(),
    }

    refused = [
        await client.post("/v1/orders", json={"petId": pet["id"]}),
        await client.post("/v1/orders", json={"petId": pet["id"], "quantity": 2}),
        await client.post("/v1/orders", json={"items": [{"petId": pet["id"]}, {"petId": ORDER}]}),
        await client.post("/v1/orders", json={"petId": pet["id"], "totalAmount": "1.00"}),
        await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "NOPE"}, headers=clerk),
        await client.delete(f"/v1/orders/{order['id']}"),
        await client.put(
            f"/v1/pets/{pet['id']}",
            json={"name": "X", "species": "CAT", "adoptionFee": "1.00", "stock": 0},
            headers=admin,
        ),
        await client.delete(f"/v1/pets/{pet['id']}", headers=admin),
    ]

    assert all(response.status_code >= 400 for response in refused), [r.status_code for r in refused]
    after = {
        "inventory": (await client.get("/v1/inventory")).json(),
        "orders": (await client.get("/v1/orders", headers=clerk)).json(),
        "pet": (await client.get(f"/v1/pets/{pet['id']}")).json(),
    }
    assert after == before


async def test_a_nul_character_in_a_body_or_a_query_is_a_422_on_every_engine(
    client: Client, admin: dict[str, str]
) -> None:
    in_body = await client.post(
        "/v1/pets", json={"name": "a\u0000", "species": "CAT", "adoptionFee": "1.00"}, headers=admin
    )
    in_query = await client.get("/v1/admin/users", params={"search": "a\u0000"}, headers=admin)

    assert assert_problem(in_body, 422, "validation-error")["errors"][0]["field"] == "body"
    assert assert_problem(in_query, 422, "validation-error")["errors"][0]["field"] == "query"
    assert (await client.get("/v1/pets")).json()["data"] == []


@pytest.mark.parametrize(
    "body",
    [b'{"name": "\xff"}', b"[" * 100_000, b'{"name": "Whiskers", "species": "CAT", "adoptionFee": }'],
    ids=["not-utf8", "too-deep", "truncated"],
)
async def test_a_body_that_is_not_sane_json_is_a_400(client: Client, admin: dict[str, str], body: bytes) -> None:
    response = await client.post("/v1/pets", content=body, headers=admin | {"Content-Type": "application/json"})

    assert_problem(response, 400, "bad-request")


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-01-01T10:00:00"],
    ids=["before-year-one-in-utc", "after-9999-in-utc", "no-offset"],
)
async def test_a_time_filter_outside_the_calendar_or_without_offset_is_a_422(
    client: Client, admin: dict[str, str], moment: str
) -> None:
    for path, name in (("/v1/orders", "createdAfter"), ("/v1/admin/orders", "createdBefore"),
                       ("/v1/admin/audit-logs", "occurredAfter")):  # fmt: skip
        response = await client.get(path, params={name: moment}, headers=admin)

        assert assert_problem(response, 422, "validation-error")["errors"][0]["field"] == name


async def test_a_cursor_beyond_any_order_number_is_a_422(client: Client, admin: dict[str, str]) -> None:
    huge = base64.urlsafe_b64encode(json.dumps({"k": "orders", "v": 2**63}).encode()).rstrip(b"=").decode()

    response = await client.get("/v1/orders", params={"cursor": huge}, headers=admin)

    assert_problem(response, 422, "validation-error")


async def test_an_order_total_beyond_what_can_be_recorded_is_a_422(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, adoptionFee="999999999999999.99", stock=1000)

    response = await client.post("/v1/orders", json={"petId": pet["id"], "quantity": 100})

    assert_problem(response, 422, "invalid-amount")
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 1000


async def test_a_stray_credential_does_not_break_public_reads_but_does_break_acting(client: Client) -> None:
    stray = {"Authorization": "Bearer olk_not-a-key-we-issued"}

    probe = await client.get("/v1/livez", headers=stray)
    catalogue = await client.get("/v1/pets", headers=stray)
    order = await client.post("/v1/orders", json={"petId": ORDER}, headers=stray)

    assert (probe.status_code, catalogue.status_code) == (200, 200)
    assert_problem(order, 401, "unauthorized")


# The body is read once, into the route's type (http/strict.py); whatever that reading refuses is refused for the
# same reason as before, in the same order: not well-formed JSON (400) before a NUL character (422) before a value
# of the wrong type (422 naming it). The hot create route (http/hot_routes.py) and Litestar's pets route alike.
MALFORMED_AFTER_A_WRONG_TYPE = {
    "/v1/orders": b'{"petId": 1, "quantity": }',
    "/v1/pets": b'{"name": 1, "species": "CAT", "adoptionFee": }',
}
NUL_BESIDE_A_WRONG_TYPE = {
    "/v1/orders": b'{"petId": 1, "note": "a\\u0000"}',
    "/v1/pets": b'{"name": 1, "species": "CAT", "adoptionFee": "1.00", "description": "a\\u0000"}',
}
NUL_MESSAGE = "NUL characters (U+0000) are not allowed in text"
DEEP_IN_A_FIELD = {
    "/v1/orders": b'{"note": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "/v1/pets": b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/pets"])
async def test_malformed_json_after_a_value_of_the_wrong_type_is_a_400_naming_where_it_breaks(
    client: Client, admin: dict[str, str], path: str
) -> None:
    response = await client.post(
        path, content=MALFORMED_AFTER_A_WRONG_TYPE[path], headers=admin | {"Content-Type": "application/json"}
    )

    assert assert_problem(response, 400, "bad-request")["detail"].startswith("JSON is malformed: invalid character")


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/pets"])
async def test_a_nul_escape_beside_a_value_of_the_wrong_type_is_the_nul_422(
    client: Client, admin: dict[str, str], path: str
) -> None:
    response = await client.post(
        path, content=NUL_BESIDE_A_WRONG_TYPE[path], headers=admin | {"Content-Type": "application/json"}
    )

    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert error == {"field": "body", "message": NUL_MESSAGE, "code": "invalid"}


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/pets"])
async def test_nesting_too_deep_inside_a_field_is_a_400(client: Client, admin: dict[str, str], path: str) -> None:
    response = await client.post(
        path, content=DEEP_IN_A_FIELD[path], headers=admin | {"Content-Type": "application/json"}
    )

    assert assert_problem(response, 400, "bad-request")["detail"] == "the body is not UTF-8 JSON of a sane depth"


async def test_a_nul_escape_in_a_well_typed_order_is_a_422_and_places_nothing(
    client: Client, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=1)
    body = b'{"petId": "%s", "note": "gift\\u0000"}' % pet["id"].encode()

    response = await client.post("/v1/orders", content=body, headers=admin | {"Content-Type": "application/json"})

    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert error == {"field": "body", "message": NUL_MESSAGE, "code": "invalid"}
    assert (await client.get("/v1/orders", headers=admin)).json()["data"] == []


async def test_bytes_that_are_not_utf8_in_a_well_typed_order_are_a_400(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=1)
    body = b'{"petId": "%s", "note": "gift \xff"}' % pet["id"].encode()

    response = await client.post("/v1/orders", content=body, headers=admin | {"Content-Type": "application/json"})

    assert assert_problem(response, 400, "bad-request")["detail"] == "the body is not UTF-8 JSON of a sane depth"


@pytest.mark.parametrize(
    ("body", "status"),
    [(b'{"note": ', 400), (b'{"note": "a\\u0000"}', 422), (b'{"note": "\xff"}', 400)],
    ids=["malformed", "nul", "not-utf8"],
)
async def test_a_route_that_takes_no_body_still_refuses_a_bad_one(
    client: Client, admin: dict[str, str], body: bytes, status: int
) -> None:
    response = await client.post(
        f"/v1/admin/orders/{ORDER}/ship", content=body, headers=admin | {"Content-Type": "application/json"}
    )

    assert_problem(response, status, "bad-request" if status == 400 else "validation-error")


async def test_a_well_typed_order_with_text_beyond_ascii_is_placed(client: Client, admin: dict[str, str]) -> None:
    pet = await make_pet(client, admin, stock=1)
    body = json.dumps({"petId": pet["id"], "note": "für Zoë 🐈"}, ensure_ascii=False).encode()

    response = await client.post("/v1/orders", content=body, headers=admin | {"Content-Type": "application/json"})

    assert (response.status_code, response.json()["note"]) == (201, "für Zoë 🐈"), response.text
