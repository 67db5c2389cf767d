"""The DRF dialect's fast routes (http/dialects/drf/fast.py, ADR 0048) answer exactly as Litestar's routes do.

As tests/e2e/test_hot_routes.py does for the native hot routes: each case runs twice, on a fresh database each time,
once through the app whose front hands the DRF detail, list and delete to their fast router, once through the same
app built with ``hot_routes=False``, where Litestar routes everything. Status, headers (names, order, values) and
bodies must agree once ids and tokens are replaced by placeholders; each case also says whether its last request is
one the fast router takes or one it leaves to Litestar.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest

from orderline.application.principal import Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from orderline.http.dialects.drf.fast import DrfFastRoutes
from tests.e2e.http import bearer, make_pet
from tests.e2e.twins import Answer, Twins
from tests.support import engine_settings

ORDERS = "/api/v1/i/orders/"
PASSWORD = "correct horse battery"
REQUEST_ID = {"X-Request-Id": "twin-request"}
_RANDOM = [
    (re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), b"<uuid>"),
    (re.compile(rb"eyJ[A-Za-z0-9_.-]+"), b"<jwt>"),
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return engine_settings(database_url, refund_poll_seconds=0, dialects="drf")


@dataclass
class World:
    """An admin key, a key that reads pets only, alice (a name, three orders) and bob, each with DRF tokens."""

    client: httpx.AsyncClient
    admin: dict[str, str]
    pets_only: dict[str, str]
    alice: dict[str, str]
    alice_refresh: str
    bob: dict[str, str]
    order: str


Case = Callable[[World], Awaitable[httpx.Response]]


async def _signed_in(client: httpx.AsyncClient, username: str) -> tuple[dict[str, str], str]:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD, "firstName": "Al"}
    assert (await client.post("/v1/users", json=body)).status_code == 201
    pair = (await client.post("/api/v1/auth/token/", json={"username": username, "password": PASSWORD})).json()
    return {**bearer(pair["access"]), **REQUEST_ID}, pair["refresh"]


async def _world(client: httpx.AsyncClient, use_cases: UseCases) -> World:
    keys = []
    for scopes in ({Scope.ADMIN}, {Scope.READ_PETS}):
        _row, secret = await use_cases.api_keys.create("twin", frozenset(scopes))
        keys.append({**bearer(secret), **REQUEST_ID})
    alice, refresh = await _signed_in(client, "alice")
    bob, _refresh = await _signed_in(client, "bob")
    pets = [(await make_pet(client, keys[0], name=name, stock=10))["id"] for name in ("Rex", "Tom")]
    lines = {"items": [{"petId": pet, "quantity": 1} for pet in pets]}
    orders = [await client.post("/v1/orders", json=lines, headers=alice) for _ in range(3)]
    assert [placed.status_code for placed in orders] == [201] * 3
    return World(client, keys[0], keys[1], alice, refresh, bob, orders[-1].json()["id"])


TWINS = Twins(DrfFastRoutes, _world, _RANDOM)


@pytest.fixture
def twice(
    settings: Settings, fresh_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Awaitable[tuple[Answer, Answer]]]:
    return TWINS.twice(settings, fresh_database, monkeypatch)


def _path(path: str, world: World) -> str:
    return path.replace("{order}", world.order)


def call(method: str, path: str, who: str = "alice", query: str = "", **headers: str) -> Case:
    """A request written out as the client sends it: the query exactly as given (httpx would re-encode it)."""

    async def case(world: World) -> httpx.Response:
        sent = {**(getattr(world, who) if who else REQUEST_ID), **headers}
        url = _path(path, world) + (f"?{query}" if query else "")
        return await world.client.request(method, url, headers=sent)

    return case


ONE = ORDERS + "{order}/"


def with_token(path: str, authorization: Callable[[World], str]) -> Case:
    async def case(world: World) -> httpx.Response:
        headers = {"Authorization": authorization(world), **REQUEST_ID}
        return await world.client.get(_path(path, world), headers=headers)

    return case


async def upper_case_id(world: World) -> httpx.Response:
    return await world.client.get(f"{ORDERS}{world.order.upper()}/", headers=world.alice)


async def erased_twice(world: World) -> httpx.Response:
    await world.client.delete(_path(ONE, world), headers=world.alice)
    return await world.client.delete(_path(ONE, world), headers=world.alice)


async def read_after_erasure(world: World) -> httpx.Response:
    await world.client.delete(_path(ONE, world), headers=world.alice)
    return await world.client.get(_path(ONE, world), headers=world.alice)


async def a_text_body(world: World) -> httpx.Response:
    headers = {**world.alice, "Content-Type": "text/plain"}
    return await world.client.request("GET", _path(ONE, world), content=b"hello", headers=headers)


FAST_CASES: dict[str, Case] = {
    "detail": call("GET", ONE),
    "detail, an admin's": call("GET", ONE, "admin"),
    "detail, another customer's (404)": call("GET", ONE, "bob"),
    "detail, no such order (404)": call("GET", ORDERS + "00000000-0000-4000-8000-000000000000/"),
    "detail, an upper-case id": upper_case_id,
    "detail, no credential (401)": call("GET", ONE, ""),
    "detail, a forged token (401)": with_token(ONE, lambda _world: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged"),
    "detail, a refresh token (401)": with_token(ONE, lambda world: f"Bearer {world.alice_refresh}"),
    "detail, Bearer with three values (401)": with_token(ONE, lambda _world: "Bearer a b"),
    "detail, another scheme is anonymous (401)": with_token(ONE, lambda _world: "Token abc"),
    "detail, a key without the scope (403)": call("GET", ONE, "pets_only"),
    "detail, an erased order (404)": read_after_erasure,
    "detail, a body of another media type": a_text_body,
    "list": call("GET", ORDERS),
    "list, an admin's": call("GET", ORDERS, "admin"),
    "list, limit and offset": call("GET", ORDERS, query="limit=1&offset=1"),
    "list, offset then limit and status": call("GET", ORDERS, query="offset=1&status=awaiting_payment&limit=2"),
    "list, past the end": call("GET", ORDERS, query="offset=10000"),
    "list, a limit above 250 is cut": call("GET", ORDERS, query="limit=2147483647"),
    "list, status paid": call("GET", ORDERS, query="status=paid"),
    "list, no credential (401)": call("GET", ORDERS, ""),
    "list, a key without the scope (403)": call("GET", ORDERS, "pets_only"),
    "delete": call("DELETE", ONE),
    "delete, an admin's": call("DELETE", ONE, "admin"),
    "delete, another customer's (404)": call("DELETE", ONE, "bob"),
    "delete, twice (404)": erased_twice,
    "delete, no credential (401)": call("DELETE", ONE, ""),
    "delete, a key without the scope (403)": call("DELETE", ONE, "pets_only"),
}

LITESTARS_CASES: dict[str, Case] = {
    "detail, no trailing slash": call("GET", ONE.rstrip("/")),
    "detail, not a UUID (404)": call("GET", ORDERS + "12345/"),
    "detail, a UUID without hyphens": call("GET", ORDERS + "0" * 32 + "/"),
    "detail, a query": call("GET", ONE, query="limit=1"),
    "detail, HEAD": call("HEAD", ONE),
    "detail, OPTIONS": call("OPTIONS", ONE),
    "detail, PUT without a body (400)": call("PUT", ONE),
    "detail, two slashes": call("GET", ONE + "/"),
    "list, no trailing slash": call("GET", ORDERS.rstrip("/")),
    "list, limit 0 (400)": call("GET", ORDERS, query="limit=0"),
    "list, limit 01 (400)": call("GET", ORDERS, query="limit=01"),
    "list, limit 2.0 (400)": call("GET", ORDERS, query="limit=2.0"),
    "list, limit above 2**31 - 1 (400)": call("GET", ORDERS, query="limit=2147483648"),
    "list, limit twice (400)": call("GET", ORDERS, query="limit=1&limit=2"),
    "list, offset above 10,000 (400)": call("GET", ORDERS, query="offset=10001"),
    "list, offset -1 (400)": call("GET", ORDERS, query="offset=-1"),
    "list, an empty status (400)": call("GET", ORDERS, query="status="),
    "list, no such status (400)": call("GET", ORDERS, query="status=shipped"),
    "list, a percent-encoded status": call("GET", ORDERS, query="status=paid%20"),
    "list, an unknown parameter": call("GET", ORDERS, query="colour=red"),
    "list, a bare name": call("GET", ORDERS, query="limit"),
    "list, POST (405)": call("POST", ORDERS),
    "delete, a query": call("DELETE", ONE, query="force=1"),
}


def _agree(fast: Answer, litestar: Answer) -> None:
    assert (fast.status, fast.body) == (litestar.status, litestar.body)
    assert fast.headers == litestar.headers


@pytest.mark.parametrize("name", FAST_CASES)
async def test_a_fast_route_answers_as_litestars_route_does(twice: Any, name: str) -> None:
    fast, litestar = await twice(FAST_CASES[name])

    assert fast.own, "the fast router did not take it"
    _agree(fast, litestar)


@pytest.mark.parametrize("name", LITESTARS_CASES)
async def test_anything_unusual_is_left_to_litestar(twice: Any, name: str) -> None:
    fast, litestar = await twice(LITESTARS_CASES[name])

    assert not fast.own, "the fast router took it"
    _agree(fast, litestar)


async def test_over_the_rate_limit_a_fast_route_answers_429_as_litestar_does(twice: Any) -> None:
    async def third_read(world: World) -> httpx.Response:
        for _ in range(2):
            await world.client.get(_path(ONE, world), headers=world.alice)
        return await world.client.get(_path(ONE, world), headers=world.alice)

    fast, litestar = await twice(third_read, rate_limits="default=2/3600")

    assert fast.own
    assert fast.status == 429
    _agree(fast, litestar)


async def test_an_erasure_through_the_fast_route_is_audited_as_the_dialects(twice: Any) -> None:
    async def erased_then_audit(world: World) -> httpx.Response:
        await world.client.delete(_path(ONE, world), headers=world.alice)
        return await world.client.get("/v1/admin/audit-logs", params={"action": "ORDER_ERASED"}, headers=world.admin)

    fast, litestar = await twice(erased_then_audit)

    _agree(fast, litestar)
    assert b'"api":"drf"' in fast.body


def test_with_the_sandbox_on_litestar_routes_every_request(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[DrfFastRoutes] = []
    monkeypatch.setattr(DrfFastRoutes, "__init__", lambda self, *_args: built.append(self))

    create_app(msgspec.structs.replace(settings, sandbox=True), lambda: build(settings))

    assert built == []


def test_without_the_dialect_no_fast_router_is_built(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[DrfFastRoutes] = []
    monkeypatch.setattr(DrfFastRoutes, "__init__", lambda self, *_args: built.append(self))

    create_app(msgspec.structs.replace(settings, dialects=""), lambda: build(settings))
    create_app(settings, lambda: build(settings))

    assert len(built) == 1
