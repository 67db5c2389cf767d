"""kill -9 mid-payment on a real server process: after a restart nothing stays stuck and nothing is charged twice.

The test gateway's slow card (4000000000000259) is charged, then answers only after a delay; the server
is killed with SIGKILL inside that delay, exactly between the gateway's charge and orderline keeping its
answer. A second server process on the same database must finish the payment by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.domain.payment import PaymentStatus
from orderline.gateways.testmode import ANSWERS_SLOWLY
from tests.e2e.process import serving, working
from tests.support import TEST_GATEWAY_SECRET, TEST_JWT_SECRET, Db, a_pet

UNLIMITED = "default=100000/60,write=100000/60,auth=100000/60"


def on(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a server on the test's database (PostgreSQL keeps no signing keys: they are given)."""
    return {
        "ORDERLINE_DATABASE_URL": database_url,
        "ORDERLINE_JWT_SECRET": TEST_JWT_SECRET,
        "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET,
        "ORDERLINE_RATE_LIMITS": UNLIMITED,
        **{f"ORDERLINE_{name.upper()}": value for name, value in settings.items()},
    }


async def _payments(db: Db, order_id: UUID) -> list[PaymentStatus]:
    async with db.snapshot() as uow:
        return [payment.status for payment in await uow.payments.of_order(order_id)]


def _payment_body(order: dict[str, Any]) -> dict[str, Any]:
    card = {"object": "card", "number": ANSWERS_SLOWLY, "cvc": "123", "expMonth": 12, "expYear": 2099}
    return {"amount": order["totalAmount"], "currency": order["currency"], "source": card}


async def _pay_until_the_server_dies(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    with contextlib.suppress(httpx.TransportError):  # the server is killed while the client waits
        await http.post(url, json=body, headers=headers, timeout=90)


async def _order_of(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    order: dict[str, Any] = (await http.get(url, headers=headers)).json()
    return order


async def test_a_payment_cut_off_by_kill_9_is_finished_by_the_next_process_and_charged_once(
    database_url: str, use_cases: UseCases, db: Db, tmp_path: Path
) -> None:
    pet = await a_pet(use_cases, stock=2)
    async with httpx.AsyncClient(timeout=10) as http:
        dying_settings = on(database_url, test_gateway_slow_charge="60", refund_poll_seconds="0")
        with serving(cwd=tmp_path, env=dying_settings) as dying:
            base = dying.base
            order = (await http.post(f"{base}/v1/orders", json={"petId": str(pet.id)})).json()
            owner = {"Authorization": f"Bearer {order['orderToken']}", "Idempotency-Key": "pay-once"}
            pay_path = f"/v1/orders/{order['id']}/payment"
            paying = asyncio.create_task(_pay_until_the_server_dies(http, base + pay_path, _payment_body(order), owner))
            order_id = UUID(order["id"])
            while await _payments(db, order_id) != [PaymentStatus.PROCESSING]:
                assert dying.process.poll() is None, "the server died before the payment started"
                await asyncio.sleep(0.05)

            os.kill(dying.process.pid, signal.SIGKILL)
            dying.process.wait(timeout=10)
            await paying
        assert await _payments(db, order_id) == [PaymentStatus.PROCESSING]  # charged, the answer never recorded

        restarted = on(
            database_url, test_gateway_slow_charge="0", refund_poll_seconds="0.2", payment_recovery_after="0"
        )
        # serve runs recovery itself on SQLite; on PostgreSQL the worker does, in a process of its own.
        worker = working(cwd=tmp_path, env=restarted) if database_url.startswith("postgresql") else nullcontext()
        with serving(cwd=tmp_path, env=restarted) as server, worker:
            base = server.base
            retried = await http.post(base + pay_path, json=_payment_body(order), headers=owner)
            read = {"Authorization": owner["Authorization"]}
            deadline = time.monotonic() + 30
            while (approved := await _order_of(http, f"{base}/v1/orders/{order['id']}", read))["status"] == "PLACED":
                assert time.monotonic() < deadline, "recovery did not finish the payment in 30 s"
                await asyncio.sleep(0.1)

    assert retried.status_code == 409, retried.text  # the key is still the dead request's: never a second charge
    assert retried.json()["code"] == "idempotency-key-in-use"
    assert (approved["status"], approved["paymentStatus"]) == ("APPROVED", "PAID")
    assert await _payments(db, order_id) == [PaymentStatus.SUCCEEDED]
    assert (await use_cases.catalogue.get_pet(PUBLIC, pet.id)).stock.reserved == 1
