"""The sFOX REST dialect at /sfox/v1, written from the original page's examples and tables (docs/dialects.md).

Orders are placed and paid through the native API by an API key (sFOX's credential), then read and cancelled
through sFOX's routes by their integer ids.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

import httpx
import msgspec
import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.order import NUMBER_OFFSET
from orderline.gateways.testmode import REFUNDS_LATER, SUCCEEDS
from orderline.http.app import create_app
from tests.e2e.http import Client, make_pet
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, Db, SteppingClock

IN_ACCOUNT_ERROR = {"error": "internal error"}
NONE_QUALIFY = {"error": "the order ids provided were invalid or the orders were already done/canceled"}
IDS_REFUSED = {"error": "ids: give 1 to 100 order ids, comma-separated, such as ids=1,2,3"}
LATER = timedelta(seconds=3)  # past the test gateway's refund delay of 2 s
CARD = {"object": "card", "name": "Ada Lovelace", "cvc": "7319", "expMonth": 12, "expYear": 2030,
        "addressCity": "London", "addressCountry": "GB"}  # fmt: skip


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, dialects="sfox")


async def _key(use_cases: UseCases, *scopes: Scope) -> dict[str, str]:
    _row, secret = await use_cases.api_keys.create("sfox trader", frozenset(scopes))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def trader(app_use_cases: UseCases) -> dict[str, str]:
    """An sFOX client's API key: it reads and cancels the orders it placed."""
    return await _key(app_use_cases, Scope.READ_ORDERS, Scope.WRITE_ORDERS)


@pytest.fixture
async def other_trader(app_use_cases: UseCases) -> dict[str, str]:
    return await _key(app_use_cases, Scope.READ_ORDERS, Scope.WRITE_ORDERS)


class Shop:
    """Orders in each state, placed by a key through the native API; ``seq`` is sFOX's id for one."""

    def __init__(self, client: Client, admin: dict[str, str], key: dict[str, str]) -> None:
        self.client, self.admin, self.key = client, admin, key

    async def placed(self, quantity: int = 1, fee: str = "150.00") -> dict[str, Any]:
        pet = await make_pet(self.client, self.admin, stock=quantity, adoptionFee=fee)
        response = await self.client.post("/v1/orders", json={"petId": pet["id"], "quantity": quantity},
                                          headers=self.key)  # fmt: skip
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    async def paid(self, card: str = SUCCEEDS) -> dict[str, Any]:
        order = await self.placed()
        payment = {"amount": order["totalAmount"], "currency": order["currency"], "source": {**CARD, "number": card}}
        response = await self.client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=self.key)
        assert response.status_code == 200, response.text
        return order

    async def shipped(self) -> dict[str, Any]:
        order = await self.paid()
        response = await self.client.post(f"/v1/admin/orders/{order['id']}/ship", headers=self.admin)
        assert response.status_code == 200, response.text
        return order

    async def delivered(self) -> dict[str, Any]:
        order = await self.shipped()
        response = await self.client.post(f"/v1/admin/orders/{order['id']}/deliver", headers=self.admin)
        assert response.status_code == 200, response.text
        return order

    async def cancelled(self) -> dict[str, Any]:
        order = await self.placed()
        response = await self.client.delete(f"/v1/orders/{order['id']}", headers=self.key)
        assert response.status_code == 204, response.text
        return order

    async def native_status(self, order: dict[str, Any]) -> str:
        response = await self.client.get(f"/v1/orders/{order['id']}", headers=self.key)
        assert response.status_code == 200, response.text
        status: str = response.json()["status"]
        return status


def seq(order: dict[str, Any]) -> int:
    return int(order["number"]) - NUMBER_OFFSET


@pytest.fixture
def shop(client: Client, admin: dict[str, str], trader: dict[str, str]) -> Shop:
    return Shop(client, admin, trader)


async def sfox_cancel(client: Client, headers: dict[str, str], order_id: object) -> httpx.Response:
    return await client.delete(f"/sfox/v1/orders/{order_id}", headers=headers)


async def sfox_read(client: Client, headers: dict[str, str], order: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/sfox/v1/orders/{seq(order)}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refunds_of(db: Db, order: dict[str, Any]) -> int:
    async with db.snapshot() as uow:
        return len(await uow.payments.refunds_of(UUID(order["id"])))


# Cancel Order: DELETE /orders/:order_id


async def test_cancelling_an_unpaid_order_answers_canceled(client: Client, shop: Shop, trader: dict[str, str]) -> None:
    order = await shop.placed()

    response = await sfox_cancel(client, trader, seq(order))

    assert response.status_code == 200
    assert response.json() == {"status": "canceled"}
    assert await shop.native_status(order) == "CANCELLED"


async def test_a_cancel_through_sfox_is_audited_as_coming_through_sfox(
    client: Client, shop: Shop, trader: dict[str, str], admin: dict[str, str]
) -> None:
    order = await shop.placed()

    await sfox_cancel(client, trader, seq(order))

    trail = (await client.get("/v1/admin/audit-logs", params={"entityId": order["id"]}, headers=admin)).json()["data"]
    assert [(entry["action"], entry["api"]) for entry in trail] == [
        ("ORDER_CANCELLED", "sfox"),
        ("ORDER_CREATED", "native"),
    ]


async def test_cancelling_a_paid_order_whose_refund_completes_at_once_answers_canceled(
    client: Client, shop: Shop, trader: dict[str, str], db: Db
) -> None:
    order = await shop.paid(SUCCEEDS)

    response = await sfox_cancel(client, trader, seq(order))

    assert (response.status_code, response.json()) == (200, {"status": "canceled"})
    assert await shop.native_status(order) == "CANCELLED"
    assert await refunds_of(db, order) == 1


async def test_a_paid_order_whose_refund_is_asynchronous_is_cancel_pending_then_canceled(
    client: Client, shop: Shop, trader: dict[str, str], clock: SteppingClock, app_use_cases: UseCases, db: Db
) -> None:
    order = await shop.paid(REFUNDS_LATER)

    pending = await sfox_cancel(client, trader, seq(order))
    again = await sfox_cancel(client, trader, seq(order))
    while_pending = await sfox_read(client, trader, order)
    refunds_asked = await refunds_of(db, order)
    clock.advance(LATER)
    settled = await app_use_cases.refunds.settle_pending()
    after = await sfox_read(client, trader, order)
    finished = await sfox_cancel(client, trader, seq(order))

    assert (pending.status_code, pending.json()) == (200, {"status": "cancel pending"})
    assert (again.status_code, again.json()) == (200, {"status": "cancel pending"})
    assert (while_pending["status"], while_pending["status_code"]) == ("Cancel Pending", 90)
    assert refunds_asked == 1  # asking again started nothing new
    assert settled == 1
    assert (after["status"], after["status_code"]) == ("Canceled", 10)
    assert (finished.status_code, finished.json()) == (200, {"status": "order already finished"})


@pytest.mark.parametrize("state", ["shipped", "delivered", "cancelled"])
async def test_an_order_that_is_shipped_delivered_or_cancelled_answers_order_already_finished(
    client: Client, shop: Shop, trader: dict[str, str], state: str
) -> None:
    order = await getattr(shop, state)()
    before = await shop.native_status(order)

    response = await sfox_cancel(client, trader, seq(order))

    assert (response.status_code, response.json()) == (200, {"status": "order already finished"})
    assert await shop.native_status(order) == before


@pytest.mark.parametrize(
    "order_id",
    ["424242", "0", "-1", "abc", "1.0", "9223372036854775807", "9223372036854775808", "9" * 40],
    ids=["unknown", "zero", "negative", "not-a-number", "decimal", "bigint-max", "beyond-bigint", "forty-digits"],
)
async def test_an_id_that_is_no_order_in_the_account_is_400_internal_error(
    client: Client, trader: dict[str, str], order_id: str
) -> None:
    cancel = await sfox_cancel(client, trader, order_id)
    read = await client.get(f"/sfox/v1/orders/{order_id}", headers=trader)

    assert (cancel.status_code, cancel.json()) == (400, IN_ACCOUNT_ERROR)
    assert (read.status_code, read.json()) == (400, IN_ACCOUNT_ERROR)


async def test_another_accounts_order_is_400_internal_error_and_stays_as_it_was(
    client: Client, shop: Shop, other_trader: dict[str, str]
) -> None:
    order = await shop.placed()

    cancel = await sfox_cancel(client, other_trader, seq(order))
    read = await client.get(f"/sfox/v1/orders/{seq(order)}", headers=other_trader)

    assert (cancel.status_code, cancel.json()) == (400, IN_ACCOUNT_ERROR)
    assert (read.status_code, read.json()) == (400, IN_ACCOUNT_ERROR)
    assert await shop.native_status(order) == "PLACED"


async def test_an_admin_key_cancels_any_order(client: Client, shop: Shop, admin: dict[str, str]) -> None:
    order = await shop.placed()

    response = await sfox_cancel(client, admin, seq(order))

    assert (response.status_code, response.json()) == (200, {"status": "canceled"})


# Credentials


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer olk_not-a-key"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["none", "unknown-key", "not-bearer"],
)
async def test_without_a_valid_api_key_every_route_is_401_with_an_error_body(
    client: Client, shop: Shop, headers: dict[str, str]
) -> None:
    order = await shop.placed()
    requests = [
        client.delete(f"/sfox/v1/orders/{seq(order)}", headers=headers),
        client.delete("/sfox/v1/orders", params={"ids": str(seq(order))}, headers=headers),
        client.get("/sfox/v1/orders", headers=headers),
        client.get(f"/sfox/v1/orders/{seq(order)}", headers=headers),
    ]

    for request in requests:
        response = await request
        assert response.status_code == 401, response.text
        assert set(response.json()) == {"error"}
        assert response.json()["error"]
    assert await shop.native_status(order) == "PLACED"


async def test_a_key_that_may_only_read_cannot_cancel(client: Client, shop: Shop, app_use_cases: UseCases) -> None:
    order = await shop.placed()
    reader = await _key(app_use_cases, Scope.READ_ORDERS)

    response = await sfox_cancel(client, reader, seq(order))

    assert (response.status_code, response.json()) == (403, {"error": "this operation needs the scope 'write:orders'"})
    assert await shop.native_status(order) == "PLACED"


# Cancel Multiple Orders: DELETE /orders?ids=1,2,3


async def test_a_bulk_cancel_lists_only_the_orders_that_were_cancelled_or_began_cancelling(
    client: Client, shop: Shop, trader: dict[str, str], other_trader: dict[str, str], db: Db
) -> None:
    delivered = await shop.delivered()
    pending = await shop.paid(REFUNDS_LATER)
    placed = await shop.placed()
    foreign = await Shop(client, shop.admin, other_trader).placed()
    ids = [seq(delivered), seq(pending), seq(placed), seq(foreign), 424242]

    response = await client.delete("/sfox/v1/orders", params={"ids": ",".join(map(str, ids))}, headers=trader)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "orders": [{"id": seq(pending), "status": "Cancel pending"}, {"id": seq(placed), "status": "Canceled"}]
    }
    assert await shop.native_status(delivered) == "DELIVERED"
    assert await Shop(client, shop.admin, other_trader).native_status(foreign) == "PLACED"
    assert await refunds_of(db, pending) == 1


async def test_a_bulk_cancel_where_no_order_qualifies_is_400_and_changes_nothing(
    client: Client, shop: Shop, trader: dict[str, str]
) -> None:
    delivered = await shop.delivered()
    cancelled = await shop.cancelled()

    response = await client.delete(
        "/sfox/v1/orders", params={"ids": f"{seq(delivered)},{seq(cancelled)},424242"}, headers=trader
    )

    assert (response.status_code, response.json()) == (400, NONE_QUALIFY)
    assert await shop.native_status(delivered) == "DELIVERED"


async def test_a_bulk_cancel_of_ids_no_order_has_is_400_none_qualify(client: Client, trader: dict[str, str]) -> None:
    response = await client.delete("/sfox/v1/orders", params={"ids": "0,424242,99999999999999999999"}, headers=trader)

    assert (response.status_code, response.json()) == (400, NONE_QUALIFY)


async def test_a_pending_order_asked_again_in_bulk_is_listed_as_cancel_pending_and_starts_nothing_new(
    client: Client, shop: Shop, trader: dict[str, str], db: Db
) -> None:
    pending = await shop.paid(REFUNDS_LATER)
    await sfox_cancel(client, trader, seq(pending))

    response = await client.delete("/sfox/v1/orders", params={"ids": str(seq(pending))}, headers=trader)

    assert response.json() == {"orders": [{"id": seq(pending), "status": "Cancel pending"}]}
    assert await refunds_of(db, pending) == 1


async def test_bulk_ids_may_have_spaces_and_repeats_and_each_order_is_answered_once(
    client: Client, shop: Shop, trader: dict[str, str]
) -> None:
    first, second = await shop.placed(), await shop.placed()

    response = await client.delete(
        "/sfox/v1/orders", params={"ids": f" {seq(first)} , {seq(second)},{seq(first)}"}, headers=trader
    )

    assert response.json() == {
        "orders": [{"id": seq(first), "status": "Canceled"}, {"id": seq(second), "status": "Canceled"}]
    }


@pytest.mark.parametrize(
    "ids",
    ["", " ", "a", "1,,2", "1;2", "-1", "1.5", "1,", ",".join(str(n) for n in range(1, 102))],
    ids=["empty", "blank", "letters", "empty-item", "semicolon", "negative", "decimal", "trailing-comma", "101-ids"],
)
async def test_an_ids_list_that_cannot_be_read_is_400_naming_ids_and_cancels_nothing(
    client: Client, shop: Shop, trader: dict[str, str], ids: str
) -> None:
    order = await shop.placed()
    listed = ids.replace("1", str(seq(order)), 1) if ids != "1,,2" else f"{seq(order)},,2"

    response = await client.delete("/sfox/v1/orders", params={"ids": listed}, headers=trader)

    assert (response.status_code, response.json()) == (400, IDS_REFUSED)
    assert await shop.native_status(order) == "PLACED"


async def test_a_bulk_cancel_without_ids_is_400(client: Client, trader: dict[str, str]) -> None:
    response = await client.delete("/sfox/v1/orders", headers=trader)

    assert response.status_code == 400
    assert "ids" in response.json()["error"]


# Reads: GET /orders (open orders) and GET /orders/:order_id


async def test_the_order_object_maps_status_quantity_price_amount_and_dates(
    client: Client, shop: Shop, trader: dict[str, str]
) -> None:
    order = await shop.placed(quantity=3, fee="33.33")

    response = await client.get(f"/sfox/v1/orders/{seq(order)}", headers=trader)

    assert response.status_code == 200
    assert response.json() == {
        "id": seq(order),
        "status": "Started",
        "status_code": 100,
        "quantity": 3,
        "price": 33.33,
        "amount": 99.99,
        "filled": 0,
        "date_added": order["createdAt"],
        "dateupdated": order["updatedAt"],
        "client_order_id": None,
    }
    # Numbers as exact decimals, written from the stored amount, never through a float.
    assert re.search(rb'"price":33\.33,"amount":99\.99,', response.content)


async def test_amounts_beyond_a_floats_precision_are_written_exactly(
    client: Client, shop: Shop, trader: dict[str, str]
) -> None:
    order = await shop.placed(fee="999999999999999.99")

    response = await client.get(f"/sfox/v1/orders/{seq(order)}", headers=trader)

    assert b'"amount":999999999999999.99' in response.content
    assert str(json.loads(response.content, parse_float=str)["amount"]) == "999999999999999.99"


@pytest.mark.parametrize(
    ("state", "status", "code", "filled"),
    [
        ("placed", "Started", 100, 0),
        ("paid", "Started", 100, 0),
        ("shipped", "Filled", 210, 1),
        ("delivered", "Done", 300, 1),
        ("cancelled", "Canceled", 10, 0),
    ],
)
async def test_each_core_status_reads_as_its_sfox_status_and_code(
    client: Client, shop: Shop, trader: dict[str, str], state: str, status: str, code: int, filled: int
) -> None:
    order = await getattr(shop, state)()

    body = await sfox_read(client, trader, order)

    assert (body["status"], body["status_code"], body["filled"]) == (status, code, filled)


async def test_an_order_of_pets_at_different_prices_has_no_one_price(
    client: Client, shop: Shop, trader: dict[str, str]
) -> None:
    cat = await make_pet(client, shop.admin, adoptionFee="150.00")
    dog = await make_pet(client, shop.admin, name="Rex", species="DOG", adoptionFee="80.00")
    items = [{"petId": cat["id"], "quantity": 1}, {"petId": dog["id"], "quantity": 1}]
    order = (await client.post("/v1/orders", json={"items": items}, headers=trader)).json()

    body = await sfox_read(client, trader, order)

    assert (body["quantity"], body["price"], body["amount"]) == (2, None, 230.0)


async def test_open_orders_are_the_started_and_cancel_pending_ones_of_the_account_newest_first(
    client: Client, shop: Shop, trader: dict[str, str], other_trader: dict[str, str]
) -> None:
    placed = await shop.placed()
    paid = await shop.paid()
    pending = await shop.paid(REFUNDS_LATER)
    await sfox_cancel(client, trader, seq(pending))
    await shop.delivered()
    await shop.shipped()
    await shop.cancelled()
    await Shop(client, shop.admin, other_trader).placed()

    response = await client.get("/sfox/v1/orders", headers=trader)

    assert response.status_code == 200
    assert [(o["id"], o["status"]) for o in response.json()] == [
        (seq(pending), "Cancel Pending"),
        (seq(paid), "Started"),
        (seq(placed), "Started"),
    ]


async def test_open_orders_page_with_limit_and_offset(client: Client, shop: Shop, trader: dict[str, str]) -> None:
    orders = [await shop.placed() for _ in range(3)]

    response = await client.get("/sfox/v1/orders", params={"limit": 1, "offset": 1}, headers=trader)

    assert [o["id"] for o in response.json()] == [seq(orders[1])]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "251"}, {"offset": "-1"}, {"limit": "x"}])
async def test_open_orders_refuse_a_page_beyond_the_bounds_with_400(
    client: Client, trader: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/sfox/v1/orders", params=params, headers=trader)

    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error"}


# Everything under the mount answers in sFOX's error body


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/sfox/v1/nowhere", 404), ("POST", "/sfox/v1/orders", 405), ("PUT", "/sfox/v1/orders/1", 405)],
)
async def test_unknown_routes_and_methods_answer_in_the_error_body(
    client: Client, trader: dict[str, str], method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, headers=trader)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"error"}


async def test_over_the_rate_limit_the_answer_is_429_in_the_error_body_with_retry_after(
    settings: Settings, clock: SteppingClock
) -> None:
    limited = msgspec.structs.replace(settings, rate_limits="default=1/60,write=1/60")
    application = create_app(limited, lambda: build(limited, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(application):
        transport = httpx.ASGITransport(app=cast(Any, application), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://orderline.test") as http:
            await http.get("/sfox/v1/orders")
            response = await http.get("/sfox/v1/orders")

    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["Retry-After"] == "60"
    assert set(response.json()) == {"error"}
