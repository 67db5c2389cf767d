"""Faults injected into a sandbox tenant's next call, over HTTP (ADR 0041): once, and only in that tenant."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar

from orderline.bootstrap import build, worker_beside
from orderline.config import Settings
from orderline.http.app import create_app
from tests.e2e.http import make_pet, place
from tests.e2e.lifespan import lifespan_of
from tests.e2e.test_sandbox_clock import CARD, advance
from tests.e2e.test_sandbox_tenants import a_tenant
from tests.support import FAST_HASHER, SteppingClock
from tests.webhooks import Receiver, receiving


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Retries an hour apart at most, so only the tenant's clock brings one within the test; a worker that looks
    # often, so what is due goes at once.
    return msgspec.structs.replace(settings, sandbox=True, webhook_backoff_base=3600, webhook_backoff_cap=3600,
                                   worker_poll_seconds=0.05)  # fmt: skip


@pytest.fixture
async def app(settings: Settings, clock: SteppingClock) -> AsyncIterator[Litestar]:
    """The app with the worker beside it, as `serve` runs on SQLite."""
    application = create_app(
        settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER), partial(worker_beside, settings)
    )
    async with lifespan_of(application):
        yield application


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiving_:
        yield receiving_


async def inject(client: httpx.AsyncClient, tenant: str, key: dict[str, str], call: str, outcome: str) -> None:
    answer = await client.post(f"/v1/sandbox/tenants/{tenant}/faults", json={"next": call, "outcome": outcome},
                               headers=key)  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"tenantId": tenant, "next": call, "outcome": outcome}


async def paid_order(client: httpx.AsyncClient, key: dict[str, str]) -> dict[str, Any]:
    order = await place(client, (await make_pet(client, key))["id"], headers=key)
    payment = {"amount": order["totalAmount"], "currency": "USD", "source": {**CARD, "number": "4242424242424242"}}
    paid = await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=key)
    assert paid.status_code == 200, paid.text
    return order


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not seen within {within:g} s: {what}"
        await asyncio.sleep(0.05)


async def test_an_injected_charge_failure_declines_the_next_payment_and_no_other(client: httpx.AsyncClient) -> None:
    tenant, key, _made = await a_tenant(client)
    order = await place(client, (await make_pet(client, key))["id"], headers=key)
    payment = {"amount": order["totalAmount"], "currency": "USD", "source": {**CARD, "number": "4242424242424242"}}
    await inject(client, tenant, key, "charge", "fail")

    declined = await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=key)
    accepted = await client.post(f"/v1/orders/{order['id']}/payment", json=payment, headers=key)

    assert (declined.status_code, declined.json()["code"]) == (402, "payment-declined")
    assert accepted.status_code == 200, accepted.text


async def test_an_injected_refund_failure_puts_the_cancelled_order_back_to_approved(
    client: httpx.AsyncClient,
) -> None:
    tenant, key, _made = await a_tenant(client)
    order = await paid_order(client, key)
    await inject(client, tenant, key, "refund", "fail")

    await client.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "CUSTOMER_REQUEST"}, headers=key)
    after = (await client.get(f"/v1/orders/{order['id']}", headers=key)).json()

    assert (after["status"], after["paymentStatus"]) == ("APPROVED", "REFUND_FAILED")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"next": "webhook", "outcome": "pending"}, "outcome"),
        ({"next": "shipment", "outcome": "fail"}, "next"),
        ({"next": "refund", "outcome": "explode"}, "outcome"),
        ({"next": "refund"}, "outcome"),
    ],
)
async def test_a_fault_the_sandbox_cannot_inject_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    tenant, key, _made = await a_tenant(client)

    refused = await client.post(f"/v1/sandbox/tenants/{tenant}/faults", json=body, headers=key)

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(("outcome", "status_code"), [("fail", 500), ("timeout", None)])
async def test_a_failed_webhook_attempt_is_retried_when_the_tenants_clock_reaches_the_retry(
    client: httpx.AsyncClient, receiver: Receiver, outcome: str, status_code: int | None
) -> None:
    tenant, key, _made = await a_tenant(client)
    made = await client.post("/v1/webhooks", json={"url": receiver.url(), "events": ["order.created"]}, headers=key)
    hook = made.json()["id"]
    await inject(client, tenant, key, "webhook", outcome)

    async def listed() -> list[dict[str, Any]]:
        deliveries: list[dict[str, Any]] = (await client.get(f"/v1/webhooks/{hook}/deliveries", headers=key)).json()[
            "data"
        ]
        return deliveries

    async def failed_once() -> bool:
        return [(d["status"], d["attempts"]) for d in await listed()] == [("PENDING", 1)]

    async def delivered() -> bool:
        return [d["status"] for d in await listed()] == ["DELIVERED"]

    await place(client, (await make_pet(client, key))["id"], headers=key)
    await eventually(failed_once, "the failed first attempt")
    [first] = await listed()
    await asyncio.sleep(0.3)  # the worker's rounds go on: nothing is due yet
    waited = receiver.received[:]

    await advance(client, tenant, key, 3601)
    await eventually(delivered, "the retry, delivered")

    assert first["lastStatusCode"] == status_code
    assert "sandbox fault" in first["lastResponse"]
    assert waited == []
    assert [event["eventType"] for event in receiver.events()] == ["order.created"]
