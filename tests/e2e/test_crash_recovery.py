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
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from orderline.application.use_cases import UseCases
from orderline.domain.payment import PaymentStatus
from orderline.gateways.testmode import ANSWERS_SLOWLY
from tests.support import TEST_GATEWAY_SECRET, Db, a_pet

ORDERLINE = [sys.executable, "-m", "orderline"]
UNLIMITED = "default=100000/60,write=100000/60,auth=100000/60"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(database_url: str, cwd: Path, **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`orderline serve` on the test's database, until the block ends (or the test kills it)."""
    port = _free_port()
    env = os.environ | {
        "ORDERLINE_DATABASE_URL": database_url,
        "ORDERLINE_JWT_SECRET": "crash-recovery-test-secret-" + "x" * 32,
        "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET,
        "ORDERLINE_RATE_LIMITS": UNLIMITED,
        **{f"ORDERLINE_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [*ORDERLINE, "serve", "--port", str(port)], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _answers(base), "the server to answer", process)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/v1/livez", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _wait_until(done: Callable[[], bool], what: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while not done():
        if process is not None and process.poll() is not None:
            errors = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"the server exited while waiting for {what}: {errors}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


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
        with serving(database_url, tmp_path, test_gateway_slow_charge="60", refund_poll_seconds="0") as (base, dying):
            order = (await http.post(f"{base}/v1/orders", json={"petId": str(pet.id)})).json()
            owner = {"Authorization": f"Bearer {order['orderToken']}", "Idempotency-Key": "pay-once"}
            pay_path = f"/v1/orders/{order['id']}/payment"
            paying = asyncio.create_task(_pay_until_the_server_dies(http, base + pay_path, _payment_body(order), owner))
            order_id = UUID(order["id"])
            while await _payments(db, order_id) != [PaymentStatus.PROCESSING]:
                assert dying.poll() is None, "the server died before the payment started"
                await asyncio.sleep(0.05)

            os.kill(dying.pid, signal.SIGKILL)
            dying.wait(timeout=10)
            await paying
        assert await _payments(db, order_id) == [PaymentStatus.PROCESSING]  # charged, the answer never recorded

        restarted = {"test_gateway_slow_charge": "0", "refund_poll_seconds": "0.2", "payment_recovery_after": "0"}
        with serving(database_url, tmp_path, **restarted) as (base, _):
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
    assert (await use_cases.catalogue.get_pet(pet.id)).stock.reserved == 1
