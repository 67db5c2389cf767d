"""The Django REST Framework shop at /api/v1, from its page and its original code, on both engines (ADR 0026)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.config import Settings
from orderline.domain.user import Role
from orderline.http.dialects.drf.errors import NO_ACCOUNT, NOT_EDITABLE, NOT_PROVIDED
from tests.e2e.http import Client, bearer, make_pet, register
from tests.support import ADMIN, TEST_GATEWAY_SECRET, Db, approve, engine_settings

ORDERS = "/api/v1/i/orders/"
PASSWORD = "correct horse battery"
ADDRESS = {"line1": "1 High Street", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"}
DRF_ADDRESS = {"street_address": "123 Main St", "postal_code": 12345, "city": "Anytown", "state": "CA", "country": "US"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(database_url, refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET, dialects="drf")


async def _pair(client: Client, username: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token/", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    pair: dict[str, str] = response.json()
    return pair


async def _customer(client: Client, username: str) -> dict[str, str]:
    """A registered customer's DRF Authorization header, from the dialect's own sign-in."""
    await register(client, username, PASSWORD)
    return bearer((await _pair(client, username))["access"])


async def _order(client: Client, headers: dict[str, str], pet: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/orders", json={"petId": pet["id"], **extra}, headers=headers)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def _paid(use_cases: UseCases, order: dict[str, Any]) -> None:
    await approve(use_cases, await use_cases.orders.get(ADMIN, UUID(order["id"])))


# simplejwt: POST /api/v1/auth/token/ {username, password} -> {refresh, access}; refresh/ {refresh} -> {access}


async def test_signing_in_gives_a_token_pair_whose_access_token_reads_the_orders(client: Client) -> None:
    await register(client, "alice", PASSWORD)

    pair = await _pair(client, "alice")
    listed = await client.get(ORDERS, headers=bearer(pair["access"]))

    assert list(pair) == ["refresh", "access"]
    assert listed.status_code == 200, listed.text


async def test_a_refresh_token_buys_a_new_access_token(client: Client) -> None:
    await register(client, "alice", PASSWORD)
    pair = await _pair(client, "alice")

    refreshed = await client.post("/api/v1/auth/token/refresh/", json={"refresh": pair["refresh"]})

    assert refreshed.status_code == 200, refreshed.text
    assert list(refreshed.json()) == ["access"]
    assert (await client.get(ORDERS, headers=bearer(refreshed.json()["access"]))).status_code == 200


async def test_a_wrong_password_or_an_unknown_user_gets_simplejwts_one_401(client: Client) -> None:
    await register(client, "alice", PASSWORD)

    wrong = await client.post("/api/v1/auth/token/", json={"username": "alice", "password": "not it at all"})
    unknown = await client.post("/api/v1/auth/token/", json={"username": "nobody", "password": PASSWORD})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": NO_ACCOUNT}


async def test_a_missing_sign_in_field_is_a_drf_field_error(client: Client) -> None:
    response = await client.post("/api/v1/auth/token/", json={"username": "alice"})

    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


async def test_a_refresh_token_is_never_accepted_as_an_access_token(client: Client) -> None:
    await register(client, "alice", PASSWORD)
    pair = await _pair(client, "alice")

    response = await client.get(ORDERS, headers=bearer(pair["refresh"]))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"}],
    }


async def test_an_access_token_is_never_accepted_as_a_refresh_token(client: Client) -> None:
    await register(client, "alice", PASSWORD)
    pair = await _pair(client, "alice")

    response = await client.post("/api/v1/auth/token/refresh/", json={"refresh": pair["access"]})

    assert response.status_code == 401
    assert response.json() == {"detail": "Token has wrong type", "code": "token_not_valid"}


async def test_a_forged_token_is_refused_in_simplejwts_words(client: Client) -> None:
    response = await client.get(ORDERS, headers=bearer("eyJhbGciOiJIUzI1NiJ9.e30.forged"))
    refreshed = await client.post("/api/v1/auth/token/refresh/", json={"refresh": "not a token"})

    assert response.status_code == refreshed.status_code == 401
    assert response.json()["messages"][0]["message"] == "Token is invalid or expired"
    assert refreshed.json() == {"detail": "Token is invalid or expired", "code": "token_not_valid"}


async def test_a_suspended_users_refresh_and_access_tokens_stop_working(client: Client, admin: dict[str, str]) -> None:
    await register(client, "alice", PASSWORD)
    pair = await _pair(client, "alice")
    me = (await client.get("/v1/users/me", headers=bearer(pair["access"]))).json()
    await client.patch(f"/v1/admin/users/{me['id']}/status", json={"status": "SUSPENDED"}, headers=admin)

    refreshed = await client.post("/api/v1/auth/token/refresh/", json={"refresh": pair["refresh"]})
    listed = await client.get(ORDERS, headers=bearer(pair["access"]))

    assert refreshed.status_code == listed.status_code == 401
    assert refreshed.json() == {"detail": "No active account found for the given token.", "code": "no_active_account"}
    assert listed.json() == {"detail": "User is inactive", "code": "user_inactive"}


async def test_no_credential_is_drfs_401(client: Client) -> None:
    response = await client.get(ORDERS)

    assert response.status_code == 401
    assert response.json() == {"detail": NOT_PROVIDED}


async def test_sign_ins_count_in_the_auth_rate_limit_group(database_url: str, clock: Any) -> None:
    from orderline.bootstrap import build
    from orderline.http.app import create_app
    from tests.e2e.lifespan import lifespan_of
    from tests.support import FAST_HASHER

    limited = engine_settings(database_url, dialects="drf", rate_limits="auth=2/60")
    app = create_app(limited, lambda: build(limited, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(app):
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http:
            body = {"username": "nobody", "password": PASSWORD}
            answers = [await http.post("/api/v1/auth/token/", json=body) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [401, 401, 429]
    assert answers[2].json()["detail"].startswith("Request was throttled. Expected available in ")


# GET /api/v1/i/orders/ and /api/v1/i/orders/{id}/


async def test_an_order_reads_as_the_original_serializer_writes_it(client: Client, admin: dict[str, str]) -> None:
    alice = await _customer(client, "alice")
    await client.post("/v1/admin/vouchers", json={"code": "TENOFF", "percentOff": 10}, headers=admin)
    pet = await make_pet(client, admin, stock=3)
    placed = await _order(client, alice, pet, quantity=2, voucherCode="TENOFF", billingAddress=ADDRESS)

    response = await client.get(f"{ORDERS}{placed['id']}/", headers=alice)

    assert response.status_code == 200, response.text
    order = response.json()
    assert list(order) == [
        "id",
        "url",
        "customer",
        "created",
        "updated",
        "billing_address",
        "items",
        "items_count",
        "savings_on_items",
        "status",
        "subtotal",
        "amount_saved",
        "shipping",
        "total_amount",
    ]
    assert order["id"] == placed["id"]
    assert order["url"] == f"http://orderline.test/api/v1/i/orders/{placed['id']}/"
    assert order["customer"] == {"email": "alice@example.com", "first_name": "", "last_name": ""}
    assert order["created"].endswith("Z")
    assert order["billing_address"] == {
        "street_address": "1 High Street",
        "postal_code": "SW1A 1AA",
        "city": "London",
        "state": "",
        "country": "GB",
    }
    assert order["items_count"] == 2
    assert [(item["id"], item["quantity"], item["unit_price"], item["total_price"]) for item in order["items"]] == [
        (1, 2, "150.00", "300.00")
    ]
    assert order["status"] == "awaiting_payment"
    assert (order["subtotal"], order["amount_saved"], order["shipping"], order["total_amount"]) == (
        "300.00", "30.00", "0.00", "270.00"
    )  # fmt: skip


async def test_the_list_shows_only_the_callers_orders_newest_first_in_drfs_page(
    client: Client, admin: dict[str, str]
) -> None:
    alice, bob = await _customer(client, "alice"), await _customer(client, "bob")
    pet = await make_pet(client, admin, stock=20)
    mine = [(await _order(client, alice, pet))["id"] for _ in range(12)]
    await _order(client, bob, pet)

    first = (await client.get(ORDERS, headers=alice)).json()
    second = (await client.get(first["next"], headers=alice)).json()

    assert first["count"] == second["count"] == 12
    assert [order["id"] for order in first["results"] + second["results"]] == mine[::-1]
    assert first["next"] == "http://orderline.test/api/v1/i/orders/?limit=10&offset=10"
    assert first["previous"] is None
    assert second["next"] is None
    assert second["previous"] == "http://orderline.test/api/v1/i/orders/?limit=10"


async def test_limit_and_offset_page_as_drf_does_and_a_page_past_the_end_is_empty(
    client: Client, admin: dict[str, str]
) -> None:
    alice = await _customer(client, "alice")
    pet = await make_pet(client, admin, stock=5)
    ids = [(await _order(client, alice, pet))["id"] for _ in range(5)]

    middle = (await client.get(ORDERS, params={"limit": 2, "offset": 2}, headers=alice)).json()
    beyond = (await client.get(ORDERS, params={"offset": 50}, headers=alice)).json()

    assert [order["id"] for order in middle["results"]] == [ids[2], ids[1]]
    assert middle["next"].endswith("?limit=2&offset=4")
    assert middle["previous"].endswith("?limit=2")
    assert beyond == {"count": 5, "next": None, "previous": beyond["previous"], "results": []}


@pytest.mark.parametrize(
    ("status", "shown"),
    [("awaiting_payment", ["placed"]), ("paid", ["paid", "shipped"]), ("delivered", []), ("cancelled", ["cancelled"])],
)
async def test_the_status_filter_takes_the_originals_four_values(
    client: Client, admin: dict[str, str], app_use_cases: UseCases, status: str, shown: list[str]
) -> None:
    alice = await _customer(client, "alice")
    pet = await make_pet(client, admin, stock=10)
    orders = {name: await _order(client, alice, pet) for name in ("placed", "paid", "shipped", "cancelled")}
    await _paid(app_use_cases, orders["paid"])
    await _paid(app_use_cases, orders["shipped"])
    await app_use_cases.orders.ship(ADMIN, UUID(orders["shipped"]["id"]))
    await client.delete(f"/v1/orders/{orders['cancelled']['id']}", headers=alice)

    response = await client.get(ORDERS, params={"status": status}, headers=alice)

    assert response.status_code == 200, response.text
    assert {order["id"] for order in response.json()["results"]} == {orders[name]["id"] for name in shown}
    assert {order["status"] for order in response.json()["results"]} <= {status}


async def test_an_unknown_status_is_djangos_choice_error(client: Client) -> None:
    alice = await _customer(client, "alice")

    response = await client.get(ORDERS, params={"status": "shipped"}, headers=alice)

    assert response.status_code == 400
    assert response.json() == {"status": ["Must be one of awaiting_payment, paid, delivered, cancelled."]}


async def test_another_customers_order_is_not_found(client: Client, admin: dict[str, str]) -> None:
    alice, bob = await _customer(client, "alice"), await _customer(client, "bob")
    order = await _order(client, alice, await make_pet(client, admin))

    read = await client.get(f"{ORDERS}{order['id']}/", headers=bob)
    deleted = await client.delete(f"{ORDERS}{order['id']}/", headers=bob)

    assert read.status_code == deleted.status_code == 404
    assert read.json() == deleted.json() == {"detail": "No Order matches the given query."}
    assert (await client.get(f"{ORDERS}{order['id']}/", headers=alice)).status_code == 200


# The customer beside each order (the original's SimpleCustomerSerializer): read with the order, shown to the
# order's customer and an administrator only, never for a closed account (ADR 0026; ADR 0048 reads it in the
# order's own statement).


async def _named_customer(client: Client, username: str, first: str, last: str) -> tuple[str, dict[str, str]]:
    """A customer with a name, registered natively; their id and DRF Authorization header."""
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD, "firstName": first,
            "lastName": last}  # fmt: skip
    created = await client.post("/v1/users", json=body)
    assert created.status_code == 201, created.text
    return created.json()["id"], bearer((await _pair(client, username))["access"])


async def _support(client: Client, use_cases: UseCases) -> dict[str, str]:
    registration = Registration("sally", "sally@example.com", PASSWORD)
    await use_cases.users.register(ADMIN, registration, Role.SUPPORT)
    return bearer((await _pair(client, "sally"))["access"])


async def test_the_customer_is_shown_to_themselves_and_an_admin_and_to_nobody_else(
    client: Client, admin: dict[str, str], clerk: dict[str, str], app_use_cases: UseCases
) -> None:
    _id, ada = await _named_customer(client, "ada", "Ada", "Lovelace")
    pet = await make_pet(client, admin, stock=5)
    order = await _order(client, ada, pet)
    support = await _support(client, app_use_cases)
    shown = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}

    def customer_of(response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()["customer"]

    assert customer_of(await client.get(f"{ORDERS}{order['id']}/", headers=ada)) == shown
    assert customer_of(await client.get(f"{ORDERS}{order['id']}/", headers=admin)) == shown
    assert customer_of(await client.get(f"{ORDERS}{order['id']}/", headers=support)) is None
    by_admin = (await client.get(ORDERS, headers=admin)).json()["results"]
    by_ada = (await client.get(ORDERS, headers=ada)).json()["results"]
    by_support = (await client.get(ORDERS, headers=support)).json()["results"]
    assert [result["customer"] for result in by_admin + by_ada] == [shown, shown]
    assert [result["customer"] for result in by_support] == [None]
    # A key that reads orders but is no admin sees the orders it placed, with no customer to show.
    keyed = await _order(client, clerk, pet)
    assert customer_of(await client.get(f"{ORDERS}{keyed['id']}/", headers=clerk)) is None


async def test_an_order_without_a_customer_shows_none_and_a_page_mixes_both(
    client: Client, admin: dict[str, str]
) -> None:
    _id, ada = await _named_customer(client, "ada", "Ada", "Lovelace")
    pet = await make_pet(client, admin, stock=5)
    hers = await _order(client, ada, pet)
    anonymous = await _order(client, {}, pet)
    keyed = await _order(client, admin, pet)

    page = (await client.get(ORDERS, headers=admin)).json()
    by_token = await client.get(f"{ORDERS}{anonymous['id']}/", headers=bearer(anonymous["orderToken"]))

    assert [(result["id"], result["customer"]) for result in page["results"]] == [
        (keyed["id"], None),
        (anonymous["id"], None),
        (hers["id"], {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}),
    ]
    assert page["count"] == 3
    assert by_token.status_code == 200, by_token.text
    assert by_token.json()["customer"] is None


async def test_a_closed_accounts_orders_show_no_customer(client: Client, admin: dict[str, str]) -> None:
    ada_id, ada = await _named_customer(client, "ada", "Ada", "Lovelace")
    _bob_id, bob = await _named_customer(client, "bob", "Bob", "Bobson")
    pet = await make_pet(client, admin, stock=5)
    hers, his = await _order(client, ada, pet), await _order(client, bob, pet)

    closed = await client.delete(f"/v1/users/{ada_id}", headers=admin)

    assert closed.status_code == 204, closed.text
    assert (await client.get(f"{ORDERS}{hers['id']}/", headers=admin)).json()["customer"] is None
    page = (await client.get(ORDERS, headers=admin)).json()["results"]
    assert [(result["id"], result["customer"] is None) for result in page] == [(his["id"], False), (hers["id"], True)]


async def test_a_customer_without_orders_gets_an_empty_page_counted_as_none(client: Client) -> None:
    alice = await _customer(client, "alice")

    first = (await client.get(ORDERS, headers=alice)).json()
    beyond = (await client.get(ORDERS, params={"offset": 20, "status": "paid"}, headers=alice)).json()

    assert first == {"count": 0, "next": None, "previous": None, "results": []}
    assert beyond == {"count": 0, "next": None, "previous": beyond["previous"], "results": []}


async def test_a_page_past_the_end_of_a_filtered_list_still_counts_what_the_filter_finds(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    alice = await _customer(client, "alice")
    pet = await make_pet(client, admin, stock=5)
    orders = [await _order(client, alice, pet) for _ in range(3)]
    await _paid(app_use_cases, orders[0])

    paid = (await client.get(ORDERS, params={"status": "paid", "offset": 1}, headers=alice)).json()
    placed = (await client.get(ORDERS, params={"status": "awaiting_payment", "offset": 1}, headers=alice)).json()

    assert (paid["count"], paid["results"]) == (1, [])
    assert placed["count"] == 2
    assert [result["id"] for result in placed["results"]] == [orders[1]["id"]]


# DELETE /api/v1/i/orders/{id}/: the core's erasure, in any status


async def test_deleting_erases_the_order_gives_the_voucher_use_back_and_keeps_the_address(
    client: Client, admin: dict[str, str], db: Db
) -> None:
    alice = await _customer(client, "alice")
    await client.post("/v1/admin/vouchers", json={"code": "ONCE", "percentOff": 10, "maxUses": 1}, headers=admin)
    pet = await make_pet(client, admin, stock=2)
    order = await _order(client, alice, pet, voucherCode="ONCE", billingAddress=ADDRESS)

    deleted = await client.delete(f"{ORDERS}{order['id']}/", headers=alice)
    again = await client.delete(f"{ORDERS}{order['id']}/", headers=alice)

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert again.status_code == 404
    assert again.json() == {"detail": "No Order matches the given query."}
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 2
    assert (await client.get("/v1/admin/vouchers/ONCE", headers=admin)).json()["uses"] == 0
    assert (await _order(client, alice, pet, voucherCode="ONCE"))["voucherCode"] == "ONCE"
    async with db.snapshot() as uow:
        addresses = await uow.connection.fetch_all("SELECT city FROM billing_addresses")
        lines = await uow.connection.fetch_all(
            "SELECT 1 FROM order_lines WHERE order_id = :id", {"id": UUID(order["id"])}
        )
    assert [row["city"] for row in addresses] == ["London"]
    assert lines == []


async def test_a_paid_order_is_deleted_too_as_the_page_says(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    alice = await _customer(client, "alice")
    order = await _order(client, alice, await make_pet(client, admin))
    await _paid(app_use_cases, order)

    deleted = await client.delete(f"{ORDERS}{order['id']}/", headers=alice)

    assert deleted.status_code == 204
    assert (await client.get(f"{ORDERS}{order['id']}/", headers=alice)).status_code == 404


async def test_deleting_without_a_credential_is_401_and_changes_nothing(client: Client, admin: dict[str, str]) -> None:
    alice = await _customer(client, "alice")
    order = await _order(client, alice, await make_pet(client, admin))

    response = await client.delete(f"{ORDERS}{order['id']}/")

    assert response.status_code == 401
    assert response.json() == {"detail": NOT_PROVIDED}
    assert (await client.get(f"{ORDERS}{order['id']}/", headers=alice)).status_code == 200


async def test_the_native_api_still_refuses_customer_erasure_where_the_shop_does_not_allow_it(
    client: Client, admin: dict[str, str]
) -> None:
    alice = await _customer(client, "alice")
    order = await _order(client, alice, await make_pet(client, admin))

    native = await client.post(f"/v1/orders/{order['id']}/erase", headers=alice)

    assert native.status_code == 403


# PUT (billing address) and DELETE items/{item_id}/: only while awaiting payment, else 403


async def test_the_billing_address_changes_while_the_order_awaits_payment(
    client: Client, admin: dict[str, str]
) -> None:
    alice = await _customer(client, "alice")
    order = await _order(client, alice, await make_pet(client, admin))

    response = await client.put(f"{ORDERS}{order['id']}/", json={"billing_address": DRF_ADDRESS}, headers=alice)

    assert response.status_code == 200, response.text
    assert response.json()["billing_address"] == DRF_ADDRESS


async def test_the_original_views_address_key_is_read_too(client: Client, admin: dict[str, str]) -> None:
    alice = await _customer(client, "alice")
    order = await _order(client, alice, await make_pet(client, admin))

    response = await client.put(f"{ORDERS}{order['id']}/", json={"address": DRF_ADDRESS}, headers=alice)

    assert response.status_code == 200, response.text
    assert response.json()["billing_address"]["city"] == "Anytown"


async def test_a_paid_orders_address_and_items_cannot_change(
    client: Client, admin: dict[str, str], app_use_cases: UseCases
) -> None:
    alice = await _customer(client, "alice")
    order = await _order(client, alice, await make_pet(client, admin))
    await _paid(app_use_cases, order)

    put = await client.put(f"{ORDERS}{order['id']}/", json={"billing_address": DRF_ADDRESS}, headers=alice)
    item = await client.delete(f"{ORDERS}{order['id']}/items/1/", headers=alice)

    assert put.status_code == item.status_code == 403
    assert put.json() == item.json() == {"detail": NOT_EDITABLE}
    assert (await client.get(f"{ORDERS}{order['id']}/", headers=alice)).json()["items_count"] == 1


async def test_a_bad_address_is_a_nested_field_error_and_changes_nothing(client: Client, admin: dict[str, str]) -> None:
    alice = await _customer(client, "alice")
    order = await _order(client, alice, await make_pet(client, admin))

    response = await client.put(
        f"{ORDERS}{order['id']}/", json={"billing_address": {**DRF_ADDRESS, "country": "Canada"}}, headers=alice
    )

    assert response.status_code == 400
    assert list(response.json()) == ["billing_address"]
    assert list(response.json()["billing_address"]) == ["country"]
    assert (await client.get(f"{ORDERS}{order['id']}/", headers=alice)).json()["billing_address"] is None


async def test_removing_an_item_takes_it_off_the_order_while_it_awaits_payment(
    client: Client, admin: dict[str, str]
) -> None:
    alice = await _customer(client, "alice")
    cat, dog = await make_pet(client, admin, stock=2), await make_pet(client, admin, name="Rex", species="DOG")
    items = [{"petId": cat["id"], "quantity": 1}, {"petId": dog["id"], "quantity": 1}]
    placed = (await client.post("/v1/orders", json={"items": items}, headers=alice)).json()

    removed = await client.delete(f"{ORDERS}{placed['id']}/items/1/", headers=alice)
    unknown = await client.delete(f"{ORDERS}{placed['id']}/items/9/", headers=alice)

    assert removed.status_code == 204
    assert removed.content == b""
    order = (await client.get(f"{ORDERS}{placed['id']}/", headers=alice)).json()
    assert [item["id"] for item in order["items"]] == [2]
    assert order["total_amount"] == "150.00"
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "No OrderItem matches the given query."}


async def test_removing_the_last_item_cancels_the_order(client: Client, admin: dict[str, str]) -> None:
    alice = await _customer(client, "alice")
    pet = await make_pet(client, admin)
    order = await _order(client, alice, pet)

    response = await client.delete(f"{ORDERS}{order['id']}/items/1/", headers=alice)

    assert response.status_code == 204
    assert (await client.get(f"{ORDERS}{order['id']}/", headers=alice)).json()["status"] == "cancelled"
    assert (await client.get(f"/v1/pets/{pet['id']}")).json()["stockAvailable"] == 1


# Errors under the mount are DRF's


async def test_an_unknown_path_and_a_method_not_served_answer_in_drfs_words(client: Client) -> None:
    alice = await _customer(client, "alice")

    unknown = await client.get("/api/v1/nothing/here/", headers=alice)
    post = await client.post(ORDERS, json={"action": "save_order"}, headers=alice)
    malformed = await client.get(f"{ORDERS}not-a-uuid/", headers=alice)

    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not found."})
    assert (post.status_code, post.json()) == (405, {"detail": 'Method "POST" not allowed.'})
    assert (malformed.status_code, malformed.json()) == (404, {"detail": "Not found."})


async def test_a_body_that_is_not_json_answers_in_drfs_words(client: Client) -> None:
    malformed = await client.post(
        "/api/v1/auth/token/", content=b'{"username": ', headers={"Content-Type": "application/json"}
    )
    text = await client.post("/api/v1/auth/token/", content=b"alice", headers={"Content-Type": "text/plain"})

    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("JSON parse error - ")
    assert (text.status_code, text.json()) == (415, {"detail": 'Unsupported media type "text/plain" in request.'})


async def test_the_document_lists_the_dialect_under_its_tag_with_trailing_slashes(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()

    drf = {path: item for path, item in document["paths"].items() if path.startswith("/api/v1/")}

    assert set(drf) == {
        "/api/v1/auth/token/",
        "/api/v1/auth/token/refresh/",
        "/api/v1/i/orders/",
        "/api/v1/i/orders/{order_id}/",
        "/api/v1/i/orders/{order_id}/items/{item_id}/",
    }
    assert all(operation["tags"] == ["Django REST shop"] for item in drf.values() for operation in item.values())


@pytest.mark.parametrize(
    ("extra", "status"),
    [(b'"\xff"', 400), (b"[" * 100_000 + b"]" * 100_000, 400), (b'"a\\u0000"', None)],
    ids=["not-utf8", "too-deep", "nul"],
)
async def test_a_field_the_dialect_ignores_is_still_read_as_json(
    client: Client, extra: bytes, status: int | None
) -> None:
    body = b'{"username": "alice", "password": "x", "extra": ' + extra + b"}"

    response = await client.post("/api/v1/auth/token/", content=body, headers={"Content-Type": "application/json"})

    if status == 400:
        assert response.json() == {"detail": "JSON parse error - the body is not UTF-8 JSON of a sane depth"}
    else:
        assert response.status_code == 400
        assert "NUL characters" in response.text
