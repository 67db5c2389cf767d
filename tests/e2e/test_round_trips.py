"""PostgreSQL round trips per request, authentication included, counted on the wire so they cannot creep back.

The app talks to PostgreSQL through a proxy that counts each point where the client waits for the server
(a Sync or a simple Query). Each endpoint runs a few times first, so asyncpg's statement cache is warm, as
it is in a running server; then one request is counted. Each limit is the count reached, each within issue
11's target (ADR 0032 for reads, ADR 0034 for writes): a write transaction's BEGIN travels with its row lock,
and the writes whose results nobody reads travel together with the COMMIT.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from orderline.application.principal import Scope
from orderline.bootstrap import build
from orderline.gateways.testmode import SUCCEEDS
from orderline.http.app import create_app
from tests.conftest import _empty_postgres
from tests.e2e.http import Client, as_owner, make_pet, register
from tests.e2e.lifespan import lifespan_of
from tests.round_trips import CountingProxy
from tests.support import FAST_HASHER, SteppingClock, engine_settings

WARM_UP = 3


@asynccontextmanager
async def counted_app(database_url: str, **fields: Any) -> AsyncIterator[tuple[Client, dict[str, str], CountingProxy]]:
    """The app talking to ``database_url`` through a counting proxy (settings ``fields`` on top), and an admin key."""
    async with CountingProxy(database_url) as proxy:
        settings = engine_settings(proxy.url, refund_poll_seconds=0, **fields)
        app = create_app(settings, lambda: build(settings, clock=SteppingClock(), hasher=FAST_HASHER))
        asgi: Any = app
        async with lifespan_of(app):
            _key, secret = await app.state.use_cases.api_keys.create("admin", frozenset({Scope.ADMIN}))
            transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://orderline.test") as http:
                yield http, {"Authorization": f"Bearer {secret}"}, proxy


@pytest.fixture
async def counted(postgres_database: str) -> AsyncIterator[tuple[Client, dict[str, str], CountingProxy]]:
    await asyncio.to_thread(asyncio.run, _empty_postgres(postgres_database))
    async with counted_app(postgres_database) as running:
        yield running


Act = Callable[[], Awaitable[httpx.Response]]
Prepare = Callable[[Client, dict[str, str], str], Awaitable[Act]]


async def _place(http: Client, pet_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await http.post("/v1/orders", json={"petId": pet_id}, headers=headers)
    assert response.status_code == 201, response.text
    placed: dict[str, Any] = response.json()
    return placed


def _payment(order: dict[str, Any]) -> dict[str, Any]:
    card = {"object": "card", "name": "Ada Lovelace", "number": SUCCEEDS, "cvc": "7319", "expMonth": 12,
            "expYear": 2030, "addressCity": "London", "addressCountry": "GB"}  # fmt: skip
    return {"amount": order["totalAmount"], "currency": order["currency"], "source": card}


async def get_order(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    order = await _place(http, pet_id)
    return lambda: http.get(f"/v1/orders/{order['id']}", headers=admin)


async def list_orders(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    await _place(http, pet_id)
    return lambda: http.get("/v1/orders?limit=20", headers=admin)


async def list_orders_as_a_customer(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    customer = await register(http, f"rt-{uuid.uuid4().hex[:12]}")
    for _ in range(3):
        await _place(http, pet_id, customer)
    return lambda: http.get("/v1/orders?limit=20", headers=customer)


async def create_order(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    return lambda: http.post("/v1/orders", json={"petId": pet_id})


async def create_order_with_a_key(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    return lambda: http.post("/v1/orders", json={"petId": pet_id}, headers=admin)


async def create_order_as_a_customer(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    customer = await register(http, f"rt-{uuid.uuid4().hex[:12]}")
    return lambda: http.post("/v1/orders", json={"petId": pet_id}, headers=customer)


async def cancel_order(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    order = await _place(http, pet_id)
    return lambda: http.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))


async def pay_order(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    order = await _place(http, pet_id)
    return lambda: http.post(f"/v1/orders/{order['id']}/payment", json=_payment(order), headers=as_owner(order))


async def erase_order(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    order = await _place(http, pet_id)
    return lambda: http.delete(f"/v1/admin/orders/{order['id']}", headers=admin)


async def _two_lines(http: Client, admin: dict[str, str], pet_id: str) -> dict[str, Any]:
    """An order's body of two lines: ``pet_id`` and another pet, ahead of it in the body but not always by id."""
    other = await make_pet(http, admin, name="Nemo", stock=100)
    return {"items": [{"petId": other["id"], "quantity": 2}, {"petId": pet_id, "quantity": 1}]}


async def _place_two_lines(http: Client, admin: dict[str, str], pet_id: str) -> dict[str, Any]:
    response = await http.post("/v1/orders", json=await _two_lines(http, admin, pet_id))
    assert response.status_code == 201, response.text
    placed: dict[str, Any] = response.json()
    return placed


async def create_order_of_two_lines(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    body = await _two_lines(http, admin, pet_id)
    return lambda: http.post("/v1/orders", json=body)


async def cancel_order_of_two_lines(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    order = await _place_two_lines(http, admin, pet_id)
    return lambda: http.delete(f"/v1/orders/{order['id']}", headers=as_owner(order))


async def erase_order_of_two_lines(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    order = await _place_two_lines(http, admin, pet_id)
    return lambda: http.delete(f"/v1/admin/orders/{order['id']}", headers=admin)


async def drf_detail(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    customer = await register(http, f"rt-{uuid.uuid4().hex[:12]}")
    order = await _place(http, pet_id, customer)
    return lambda: http.get(f"/api/v1/i/orders/{order['id']}/", headers=customer)


async def drf_list(http: Client, admin: dict[str, str], pet_id: str) -> Act:
    customer = await register(http, f"rt-{uuid.uuid4().hex[:12]}")
    for _ in range(12):  # more than a page: the count is not the page's length
        await _place(http, pet_id, customer)
    return lambda: http.get("/api/v1/i/orders/", headers=customer)


# (the request, its expected status, round trips at most), as the benchmark sends them.
LIMITS: dict[str, tuple[Prepare, int, int]] = {
    # the key and the order with its lines in one statement (ADR 0049; was 2: the key in a statement of its own)
    "get": (get_order, 200, 1),
    "list": (list_orders, 200, 2),
    # the benchmark's list: the customer's standing and the page in one statement (ADR 0049; was 2)
    "list as a customer": (list_orders_as_a_customer, 200, 1),
    # BEGIN, stock, order + lines, order token + audit + outbox, COMMIT
    "create": (create_order, 201, 5),
    # key, BEGIN, stock, order + lines, audit + outbox, COMMIT
    "create with a key": (create_order_with_a_key, 201, 6),
    # the benchmark's create: the customer's row (its token names it), BEGIN, stock, order + lines, audit + outbox,
    # COMMIT
    "create as a customer": (create_order_as_a_customer, 201, 6),
    # token, BEGIN + lock, order + payments + refunds, stock, order + audit + outbox, COMMIT
    "cancel": (cancel_order, 204, 6),
    # token, then twice: BEGIN + lock, order + payments + refunds, the writes with the outbox, COMMIT
    "pay": (pay_order, 200, 9),
    # key, BEGIN + lock, order + payments + refunds, stock, the order's DELETE + audit + outbox, COMMIT (ADR 0046:
    # the DELETE waits for the COMMIT's statement, as a save does)
    "erase": (erase_order, 204, 6),
    # Two lines cost what one does: both pets' stock moves in one statement, their locks taken in id order
    # (ADR 0034, "Round 3"; was a round trip per pet: create 6, cancel 7, erase 7).
    "create of two lines": (create_order_of_two_lines, 201, 5),
    "cancel of two lines": (cancel_order_of_two_lines, 204, 6),
    "erase of two lines": (erase_order_of_two_lines, 204, 6),
    # The DRF dialect's reads (ADR 0048), a customer's as the benchmark's: the token's user with the order, its
    # lines and its customer in one statement (ADR 0049; was 5, then 2 by ADR 0048) ...
    "DRF detail": (drf_detail, 200, 1),
    # ... and the page with its lines, customers and the count of the whole list in one (was 8).
    "DRF list": (drf_list, 200, 2),
}


@pytest.mark.postgres
@pytest.mark.parametrize("endpoint", LIMITS)
async def test_a_request_takes_no_more_postgresql_round_trips_than_its_limit(
    counted: tuple[Client, dict[str, str], CountingProxy], endpoint: str
) -> None:
    http, admin, proxy = counted
    prepare, status, limit = LIMITS[endpoint]
    pet = await make_pet(http, admin, stock=100)
    for _ in range(WARM_UP):
        assert (await (await prepare(http, admin, pet["id"]))()).status_code == status
    act = await prepare(http, admin, pet["id"])
    counting = _Counting(proxy)

    response = await act()

    assert response.status_code == status, response.text
    assert counting.round_trips() <= limit, "\n".join(counting.statements())


class _Counting:
    """The round trips since it was made, and the statements prepared or sent since."""

    def __init__(self, proxy: CountingProxy) -> None:
        self._proxy = proxy
        self._start = proxy.round_trips
        self._statements = len(proxy.statements)

    def round_trips(self) -> int:
        return self._proxy.round_trips - self._start

    def statements(self) -> list[str]:
        return self._proxy.statements[self._statements :]
