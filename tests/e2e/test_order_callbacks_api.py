"""POST /v1/orders/{id}, the Pet Store's Callback Example, on each engine: a callback is a webhook subscription bound
to the order, for order.processed, signed with the shop's callback secret; refusals change nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest

from orderline.application.principal import SYSTEM, Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from orderline.security.callback_secret import callback_secret
from tests.e2e.http import as_owner, assert_problem, make_pet, place
from tests.e2e.lifespan import lifespan_of
from tests.e2e.process import run
from tests.support import FAST_HASHER, Db, SteppingClock

CALLBACK = {
    "amount": "150.00",
    "currency": "USD",
    "timestamp": "2026-11-30T12:00:00Z",
    "callbackUrl": "https://client.example.com/callbacks/orders?ref=42",
}

CONFIGURED_SECRET = "whsec_c2VjcmV0LWZvci1vcmRlci1jYWxsYmFja3MtMzItYnl0ZXM="


@pytest.fixture
async def order(client: httpx.AsyncClient, admin: dict[str, str], alice: dict[str, str]) -> dict[str, Any]:
    """Alice's order."""
    pet = await make_pet(client, admin, stock=10)
    return await place(client, pet["id"], headers=alice)


async def _subscriptions(db: Db) -> list[Any]:
    async with db.snapshot() as uow:
        return await uow.connection.fetch_all(
            "SELECT id, url, events, active, secret, order_id, description FROM webhook_subscriptions"
        )


async def test_the_owner_registers_a_callback_and_it_is_stored_as_a_subscription_for_order_processed(
    client: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str], app_use_cases: UseCases
) -> None:
    response = await client.post(f"/v1/orders/{order['id']}", json=CALLBACK, headers=alice)

    assert response.status_code == 201, response.text
    assert response.json() == {}
    [row] = await _subscriptions(db)
    assert UUID(str(row["order_id"])) == UUID(order["id"])
    assert row["url"] == CALLBACK["callbackUrl"]
    assert row["active"] in (True, 1)
    assert str(row["events"]).replace(" ", "") == '["order.processed"]'
    [stored] = await app_use_cases.order_callbacks.of_order(SYSTEM, UUID(order["id"]))
    assert stored.secret == row["secret"]
    assert stored.secret.startswith("whsec_")


async def test_the_bearer_of_an_anonymous_orders_token_and_an_admin_may_register_too(
    client: httpx.AsyncClient, db: Db, admin: dict[str, str]
) -> None:
    pet = await make_pet(client, admin, stock=10)
    anonymous = await place(client, pet["id"])

    by_token = await client.post(f"/v1/orders/{anonymous['id']}", json=CALLBACK, headers=as_owner(anonymous))
    by_admin = await client.post(f"/v1/orders/{anonymous['id']}", json=CALLBACK, headers=admin)

    assert (by_token.status_code, by_admin.status_code) == (201, 201)
    assert len(await _subscriptions(db)) == 2


async def test_every_callback_is_signed_with_the_shops_callback_secret(
    client: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str], settings: Settings
) -> None:
    await client.post(f"/v1/orders/{order['id']}", json=CALLBACK, headers=alice)
    await client.post(f"/v1/orders/{order['id']}", json=CALLBACK | {"callbackUrl": "http://other.example:8080/cb"},
                      headers=alice)  # fmt: skip

    secrets = {row["secret"] for row in await _subscriptions(db)}

    assert len(secrets) == 1
    if settings.test_gateway_secret:
        assert secrets == {callback_secret(settings.callback_secret, settings.test_gateway_secret)}


async def test_someone_elses_order_is_not_found_and_nothing_is_stored(
    client: httpx.AsyncClient, db: Db, order: dict[str, Any], bob: dict[str, str]
) -> None:
    response = await client.post(f"/v1/orders/{order['id']}", json=CALLBACK, headers=bob)

    assert_problem(response, 404, "not-found")
    assert await _subscriptions(db) == []


async def test_an_unknown_order_is_not_found(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post("/v1/orders/019b4139-1234-7abc-8def-123456789abc", json=CALLBACK, headers=admin)

    assert_problem(response, 404, "not-found")


async def test_registering_needs_credentials(client: httpx.AsyncClient, order: dict[str, Any]) -> None:
    assert_problem(await client.post(f"/v1/orders/{order['id']}", json=CALLBACK), 401, "unauthorized")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"callbackUrl": "ftp://client.example.com/cb"}, "callbackUrl"),
        ({"callbackUrl": "https://user:secret@client.example.com/cb"}, "callbackUrl"),
        ({"callbackUrl": "https://client.example.com/cb#fragment"}, "callbackUrl"),
        ({"callbackUrl": "https://client.example.com:99999/cb"}, "callbackUrl"),
        ({"callbackUrl": "not a url at all"}, "callbackUrl"),
        ({"callbackUrl": "https://" + "a" * 2050 + ".example"}, "callbackUrl"),
        ({"amount": 150}, "amount"),
        ({"amount": "1.2.3"}, "amount"),
        ({"currency": "usd"}, "currency"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2026-11-30T12:00:00"}, "timestamp"),
        ({"extra": "field"}, "extra"),
    ],
)
async def test_a_callback_that_breaks_a_rule_is_refused_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str], change: dict[str, Any], field: str
) -> None:
    response = await client.post(f"/v1/orders/{order['id']}", json=CALLBACK | change, headers=alice)

    body = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in body["errors"]] == [field]
    assert await _subscriptions(db) == []


@pytest.mark.parametrize("missing", sorted(CALLBACK))
async def test_every_field_is_required(
    client: httpx.AsyncClient, db: Db, order: dict[str, Any], alice: dict[str, str], missing: str
) -> None:
    body = {name: value for name, value in CALLBACK.items() if name != missing}

    response = await client.post(f"/v1/orders/{order['id']}", json=body, headers=alice)

    assert_problem(response, 422, "validation-error")
    assert await _subscriptions(db) == []


def test_the_operator_prints_the_callback_secret_receivers_verify_with(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")}

    derived = [run("webhooks", "callback-secret", "--database-url", database, cwd=tmp_path, env=env) for _ in range(2)]
    configured = env | {"ORDERLINE_CALLBACK_SECRET": CONFIGURED_SECRET}
    chosen = run("webhooks", "callback-secret", "--database-url", database, cwd=tmp_path, env=configured)

    assert [result.returncode for result in derived] == [0, 0], derived[0].stderr
    assert derived[0].stdout == derived[1].stdout
    assert derived[0].stdout.startswith("whsec_")
    assert chosen.stdout.strip() == CONFIGURED_SECRET


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/cb", "http://10.1.2.3/cb", "http://169.254.169.254/latest"])
async def test_a_callback_to_a_non_public_address_is_refused_as_a_webhook_would_be(
    settings: Settings, clock: SteppingClock, db: Db, url: str
) -> None:
    guarded = msgspec.structs.replace(settings, webhooks_allow_private=False)
    app = create_app(guarded, lambda: build(guarded, clock=clock, hasher=FAST_HASHER))
    asgi: Any = app
    async with lifespan_of(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi),
                                                   base_url="http://orderline.test") as client:  # fmt: skip
        use_cases: UseCases = app.state.use_cases
        _key, secret = await use_cases.api_keys.create("ops", frozenset({Scope.ADMIN}))
        admin = {"Authorization": f"Bearer {secret}"}
        order = await place(client, (await make_pet(client, admin))["id"])

        response = await client.post(f"/v1/orders/{order['id']}", json=CALLBACK | {"callbackUrl": url}, headers=admin)

    body = assert_problem(response, 400, "invalid-webhook")
    assert body["field"] == "callbackUrl"
    assert await _subscriptions(db) == []
