"""The hot routes (http/hot_routes.py, ADR 0042) answer exactly as Litestar's routes do.

Each case runs twice, on a fresh database each time: once through an app whose front hands the hot routes to
their own router, once through the same app built with ``hot_routes=False``, where Litestar routes everything.
The same requests, the same clock: status, headers (names, order, values) and bodies must agree once the
random parts (ids, tokens, keys) are replaced by placeholders. Each case also says whether its last request
is one the hot router takes (success and every refusal it renders) or one it leaves to Litestar (anything
unusual: a trailing slash, a repeated or unknown parameter, a header parameter, HEAD, OPTIONS...).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from orderline.http.hot_routes import HotRoutes
from tests.e2e.http import make_pet, register
from tests.e2e.twins import Answer, Twins

REQUEST_ID = {"X-Request-Id": "twin-request"}
CARD = {"number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2099}
DECLINED = {**CARD, "number": "4000000000000002"}
_RANDOM = [
    (re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), b"<uuid>"),
    (re.compile(rb"eyJ[A-Za-z0-9_.-]+"), b"<jwt>"),
    (re.compile(rb"ol[ko]_[A-Za-z0-9_-]+"), b"<secret>"),
    (re.compile(rb'"nextCursor":"[A-Za-z0-9_-]+"'), b'"nextCursor":"<cursor>"'),  # it holds an order id
]


@dataclass
class World:
    """What each case starts from: an admin key, a reader's key, alice with an order, bob, a pet."""

    client: httpx.AsyncClient
    admin: dict[str, str]
    reader: dict[str, str]
    alice: dict[str, str]
    bob: dict[str, str]
    pet: str
    order: str
    cursor: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


Case = Callable[[World], Awaitable[httpx.Response]]


async def _world(client: httpx.AsyncClient, use_cases: UseCases) -> World:
    keys = []
    for scopes in ({Scope.ADMIN}, {Scope.READ_ORDERS}):
        _row, secret = await use_cases.api_keys.create("twin", frozenset(scopes))
        keys.append({"Authorization": f"Bearer {secret}", **REQUEST_ID})
    alice = {**await register(client, "alice"), **REQUEST_ID}
    bob = {**await register(client, "bob"), **REQUEST_ID}
    pet = (await make_pet(client, keys[0], stock=3))["id"]
    orders = [await client.post("/v1/orders", json={"petId": pet}, headers=alice) for _ in range(2)]
    assert [placed.status_code for placed in orders] == [201, 201]
    first_page = await client.get("/v1/orders", params={"limit": 1}, headers=alice)
    return World(client, keys[0], keys[1], alice, bob, pet, orders[-1].json()["id"], first_page.json()["nextCursor"])


TWINS = Twins(HotRoutes, _world, _RANDOM)


@pytest.fixture
def twice(
    settings: Settings, fresh_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Awaitable[tuple[Answer, Answer]]]:
    return TWINS.twice(settings, fresh_database, monkeypatch)


def get(path: str, who: str = "admin", **params: Any) -> Case:
    async def case(world: World) -> httpx.Response:
        query = {name: _path(value, world) if isinstance(value, str) else value for name, value in params.items()}
        # No params at all when there are none: httpx would drop a query written into the path.
        return await world.client.get(_path(path, world), params=query or None, headers=getattr(world, who))

    return case


def _path(path: str, world: World) -> str:
    return path.replace("{order}", world.order).replace("{cursor}", world.cursor)


def send(method: str, path: str, who: str = "admin", body: Any = None, **extra: Any) -> Case:
    async def case(world: World) -> httpx.Response:
        payload = body(world) if callable(body) else body
        given = extra.get("headers", {})
        headers = [
            *(getattr(world, who) if who else REQUEST_ID).items(),
            *(given.items() if isinstance(given, dict) else given),
        ]
        return await world.client.request(method, _path(path, world), json=payload, headers=headers)

    return case


def replayed(path: str, first: Any, second: Any, who: str = "alice") -> Case:
    """The same Idempotency-Key twice: the second answer is the last request's."""

    async def case(world: World) -> httpx.Response:
        headers = {**getattr(world, who), "Idempotency-Key": "again"}
        await world.client.post(_path(path, world), json=first(world), headers=headers)
        return await world.client.post(_path(path, world), json=second(world), headers=headers)

    return case


def raw(method: str, path: str, who: str, content: bytes, content_type: str) -> Case:
    async def case(world: World) -> httpx.Response:
        headers = {**getattr(world, who), "Content-Type": content_type}
        return await world.client.request(method, _path(path, world), content=content, headers=headers)

    return case


def nobody(case_path: str) -> Case:
    async def case(world: World) -> httpx.Response:
        return await world.client.get(_path(case_path, world), headers=REQUEST_ID)

    return case


def bad_token(case_path: str) -> Case:
    async def case(world: World) -> httpx.Response:
        headers = {"Authorization": "Bearer not-a-token", **REQUEST_ID}
        return await world.client.get(_path(case_path, world), headers=headers)

    return case


ONE = "/v1/orders/{order}"


async def upper_case_id(world: World) -> httpx.Response:
    return await world.client.get(f"/v1/orders/{world.order.upper()}", headers=world.admin)


def placing(quantity: int = 1, **fields: Any) -> Callable[[World], dict[str, Any]]:
    return lambda world: {"petId": world.pet, "quantity": quantity, **fields}


def paying(amount: str = "150.00", card: dict[str, Any] = CARD) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD", "source": card}


HOT_CASES: dict[str, Case] = {
    "get": get(ONE),
    "get, the customer's own": get(ONE, "alice"),
    "get, another customer's (404)": get(ONE, "bob"),
    "get, no such order (404)": get("/v1/orders/00000000-0000-4000-8000-000000000000"),
    "get, an upper-case id": upper_case_id,
    "get, no credential (401)": nobody(ONE),
    "get, a bad token (401)": bad_token(ONE),
    "list": get("/v1/orders", "alice"),
    "list, limit and status": get("/v1/orders", "alice", limit=1, status="PLACED"),
    "list, the next page": get("/v1/orders", "alice", limit=1, cursor="{cursor}"),
    "list, an admin's": get("/v1/orders", "admin", limit=100),
    "list, no credential (401)": nobody("/v1/orders"),
    "create": send("POST", "/v1/orders", "alice", placing()),
    "create, anonymous": send("POST", "/v1/orders", None, placing()),  # type: ignore[arg-type]
    "create, out of stock (409)": send("POST", "/v1/orders", "alice", placing(quantity=2)),
    "create, no such pet (404)": send("POST", "/v1/orders", "alice", {"petId": "00000000-0000-4000-8000-000000000000"}),
    "create, an unknown field (422)": send("POST", "/v1/orders", "alice", placing(colour="red")),
    "create, a string quantity (422)": send("POST", "/v1/orders", "alice", placing(quantity="1")),  # type: ignore[arg-type]
    "create, no body (422)": send("POST", "/v1/orders", "alice"),
    "create, not JSON (400)": raw("POST", "/v1/orders", "alice", b"{not json", "application/json"),
    "create, a form (415)": raw("POST", "/v1/orders", "alice", b"petId=1", "application/x-www-form-urlencoded"),
    "create, a bad token (401)": send("POST", "/v1/orders", "alice", placing(), headers={"Authorization": "Bearer x"}),
    "cancel": send("POST", f"{ONE}/cancel", "admin", {"reason": "CUSTOMER_REQUEST"}),
    "cancel, by its customer": send("POST", f"{ONE}/cancel", "alice", {"reason": "CUSTOMER_REQUEST"}),
    "cancel, another customer's (404)": send("POST", f"{ONE}/cancel", "bob", {"reason": "CUSTOMER_REQUEST"}),
    "cancel, a reader (403)": send("POST", f"{ONE}/cancel", "reader", {"reason": "CUSTOMER_REQUEST"}),
    "cancel, no such reason (422)": send("POST", f"{ONE}/cancel", "admin", {"reason": "BORED"}),
    "cancel by DELETE": send("DELETE", ONE, "admin"),
    "cancel by DELETE, a reader (403)": send("DELETE", ONE, "reader"),
    "pay": send("POST", f"{ONE}/payment", "admin", paying()),
    "pay, declined (402)": send("POST", f"{ONE}/payment", "admin", paying(card=DECLINED)),
    "pay, the wrong amount (422)": send("POST", f"{ONE}/payment", "admin", paying(amount="1.00")),
    "pay, a reader (403)": send("POST", f"{ONE}/payment", "reader", paying()),
    "create, an Idempotency-Key": send("POST", "/v1/orders", "alice", placing(), headers={"Idempotency-Key": "k1"}),
    "create, a replay": replayed("/v1/orders", placing(), placing()),
    "create, a key reused for another body (422)": replayed("/v1/orders", placing(), placing(quantity=2)),
    "cancel, a stale If-Match (412)": send(
        "POST", f"{ONE}/cancel", "admin", {"reason": "CUSTOMER_REQUEST"}, headers={"If-Match": '"x.1"'}
    ),
    "cancel, If-Match *": send("POST", f"{ONE}/cancel", "admin", {"reason": "DUPLICATE"}, headers={"If-Match": "*"}),
    "cancel by DELETE, an If-Match": send("DELETE", ONE, "admin", headers={"If-Match": "*"}),
    "pay, an Idempotency-Key": send("POST", f"{ONE}/payment", "admin", paying(), headers={"Idempotency-Key": "p"}),
    "pay, a replay": replayed(f"{ONE}/payment", lambda _world: paying(), lambda _world: paying(), "admin"),
}

LITESTARS_CASES: dict[str, Case] = {
    "get, a trailing slash": get(ONE + "/"),
    "get, not a UUID": get("/v1/orders/12345"),
    "get, a UUID without hyphens": get("/v1/orders/" + "0" * 32),
    "get, a query": get(ONE, limit=1),
    "get, HEAD": send("HEAD", ONE, "admin"),
    "get, OPTIONS": send("OPTIONS", ONE, "admin"),
    "list, a trailing slash": get("/v1/orders/", "alice"),
    "list, limit 0 (422)": get("/v1/orders", "alice", limit=0),
    "list, limit 101 (422)": get("/v1/orders", "alice", limit=101),
    "list, limit 2.0 (422)": get("/v1/orders", "alice", limit="2.0"),
    "list, limit twice (422)": get("/v1/orders", "alice", limit=[1, 2]),
    "list, an unknown parameter": get("/v1/orders", "alice", colour="red"),
    "list, a percent-encoded space (422)": get("/v1/orders?status=PLACED%20", "alice"),
    "list, no such status (422)": get("/v1/orders", "alice", status="LOST"),
    "list, createdAfter": get("/v1/orders", "alice", createdAfter="2020-01-01T00:00:00Z"),
    "list, a bad cursor (422)": get("/v1/orders", "alice", cursor="not a cursor"),
    "create, an Idempotency-Key twice": send(
        "POST", "/v1/orders", "alice", placing(), headers=[("Idempotency-Key", "k1"), ("Idempotency-Key", "k2")]
    ),
    "create, an Idempotency-Key too long": send(
        "POST", "/v1/orders", "alice", placing(), headers={"Idempotency-Key": "k" * 256}
    ),
    "cancel, an If-Match too long": send(
        "POST", f"{ONE}/cancel", "admin", {"reason": "CUSTOMER_REQUEST"}, headers={"If-Match": "x" * 257}
    ),
}


def _agree(hot: Answer, litestar: Answer) -> None:
    assert (hot.status, hot.body) == (litestar.status, litestar.body)
    assert hot.headers == litestar.headers


@pytest.mark.parametrize("name", HOT_CASES)
async def test_a_hot_route_answers_as_litestars_route_does(twice: Any, name: str) -> None:
    hot, litestar = await twice(HOT_CASES[name])

    assert hot.own, "the hot router did not take it"
    _agree(hot, litestar)


@pytest.mark.parametrize("name", LITESTARS_CASES)
async def test_anything_unusual_is_left_to_litestar(twice: Any, name: str) -> None:
    hot, litestar = await twice(LITESTARS_CASES[name])

    assert not hot.own, "the hot router took it"
    _agree(hot, litestar)


async def test_over_the_rate_limit_a_hot_route_answers_429_as_litestar_does(twice: Any) -> None:
    async def third_get(world: World) -> httpx.Response:
        for _ in range(2):
            await world.client.get(_path(ONE, world), headers=world.admin)
        return await world.client.get(_path(ONE, world), headers=world.admin)

    hot, litestar = await twice(third_get, rate_limits="default=2/3600")

    assert hot.own
    assert hot.status == 429
    _agree(hot, litestar)


def test_with_the_sandbox_on_litestar_routes_every_request(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[HotRoutes] = []
    monkeypatch.setattr(HotRoutes, "__init__", lambda self, *_args: built.append(self))

    create_app(msgspec.structs.replace(settings, sandbox=True), lambda: build(settings))

    assert built == []
