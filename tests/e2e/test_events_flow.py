"""One order's life through real processes, as a subscriber and an order callback see it.

`orderline serve` (with `orderline worker` beside it on PostgreSQL) takes a subscription and an order callback
through the API, then the order is placed, paid and cancelled through the API. The subscriber receives every
event of it, in the order the outbox holds them, each verified with the `standardwebhooks` library and the
secret the API returned; the callback receives `order.processed` when the order was approved and when it was
cancelled, verified with the shop's callback secret that `orderline webhooks callback-secret` prints.
"""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import nullcontext
from pathlib import Path

import httpx
from standardwebhooks import Webhook

from tests.e2e.process import run, serving, working
from tests.support import TEST_GATEWAY_SECRET, TEST_JWT_SECRET
from tests.webhooks import Receiver, receiving

CARD = {"object": "card", "number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2099}
EXPECTED = [  # place; pay; cancel, which asks for the refund, then completes when it comes back (at once here)
    "order.created",
    "payment.succeeded",
    "order.statusChanged",
    "order.processed",
    "order.statusChanged",
    "order.cancelRequested",
    "refund.succeeded",
    "order.statusChanged",
    "order.cancelled",
    "order.processed",
]


def env(database_url: str) -> dict[str, str]:
    return os.environ | {
        "ORDERLINE_DATABASE_URL": database_url,
        "ORDERLINE_JWT_SECRET": TEST_JWT_SECRET,
        "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET,
        "ORDERLINE_WEBHOOKS_ALLOW_PRIVATE": "true",
        "ORDERLINE_WORKER_POLL_SECONDS": "0.05",
    }


async def received(receiver: Receiver, path: str, count: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while len(receiver.on(path)) < count:
        assert time.monotonic() < deadline, f"{path}: {len(receiver.on(path))} of {count} within {within:g} s"
        await asyncio.sleep(0.05)


async def test_a_subscriber_and_an_order_callback_see_an_order_placed_paid_and_cancelled(
    database_url: str, tmp_path: Path
) -> None:
    settings = env(database_url)
    made = run("keys", "create", "--name", "shop", "--scopes", "admin", cwd=tmp_path, env=settings)
    headers = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    callback_secret = run("webhooks", "callback-secret", cwd=tmp_path, env=settings).stdout.strip()
    worker = working(cwd=tmp_path, env=settings) if database_url.startswith("postgresql") else nullcontext()
    with receiving() as receiver, serving("--demo", cwd=tmp_path, env=settings) as server, worker:
        async with httpx.AsyncClient(base_url=server.base, headers=headers) as api:
            subscription = await api.post(
                "/v1/webhooks", json={"url": receiver.url("/hook"), "events": ["order.*", "payment.*", "refund.*"]}
            )
            assert subscription.status_code == 201, subscription.text
            pet = (await api.get("/v1/pets", params={"limit": 1})).json()["data"][0]
            order = (await api.post("/v1/orders", json={"petId": pet["id"]})).json()
            callback = {
                "amount": order["totalAmount"],
                "currency": order["currency"],
                "timestamp": order["createdAt"],
                "callbackUrl": receiver.url("/callback"),
            }
            assert (await api.post(f"/v1/orders/{order['id']}", json=callback)).status_code == 201
            payment = {"amount": order["totalAmount"], "currency": order["currency"], "source": CARD}
            assert (await api.post(f"/v1/orders/{order['id']}/payment", json=payment)).status_code == 200
            assert (await api.delete(f"/v1/orders/{order['id']}")).status_code == 204

            await received(receiver, "/hook", len(EXPECTED))
            await received(receiver, "/callback", 2)

    secret = subscription.json()["secret"]
    hooks = [Webhook(secret).verify(request.body, request.headers) for request in receiver.on("/hook")]
    assert [event["eventType"] for event in hooks] == EXPECTED
    assert len({event["eventId"] for event in hooks}) == len(EXPECTED)
    assert {event["data"]["order"]["id"] for event in hooks} == {order["id"]}
    moves = [(e["data"]["previousStatus"], e["data"]["newStatus"]) for e in hooks if e["eventType"].endswith("Changed")]
    assert moves == [("PLACED", "APPROVED"), ("APPROVED", "CANCEL_PENDING"), ("CANCEL_PENDING", "CANCELLED")]
    assert hooks[1]["data"]["receipt"]["receiptId"].startswith("rcp_")
    assert hooks[-2]["data"]["order"]["status"] == "CANCELLED"

    callbacks = [Webhook(callback_secret).verify(r.body, r.headers) for r in receiver.on("/callback")]
    assert [event["eventType"] for event in callbacks] == ["order.processed", "order.processed"]
    assert [event["data"]["order"]["status"] for event in callbacks] == ["APPROVED", "CANCELLED"]
    assert all("X-Webhook-Signature" in request.headers for request in receiver.received)
