"""The scenarios of one run, as plain requests, and how one is measured: wrk, or the Python generator without it.

A scenario is "cycle" (its requests sent round and round for the phase's time: reads) or "once" (each request
sent once, because each needs its own order: pay, cancel, erase).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from bench import wrkgen
from bench.client import encode_request
from bench.loadgen import Phase, drive
from bench.wrkgen import Figure, Request

CARD = {"number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2099}
DRF_ORDERS = "/api/v1/i/orders/"  # the DRF shop's order routes, and the same under orderline's DRF dialect


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: Sequence[Request]
    expected: int
    once: bool = False


@dataclass(frozen=True)
class Load:
    """How every scenario of the run is driven."""

    connections: int
    seconds: float
    warmup_seconds: float
    use_wrk: bool

    @property
    def generator(self) -> str:
        return "wrk" if self.use_wrk else "python (bench/loadgen.py)"


async def measure(base: str, scenario: Scenario, load: Load, *, warmup: bool = True) -> Figure:
    """The scenario against ``base`` (http://127.0.0.1:PORT); reads get an unmeasured warm-up first."""
    if warmup and not scenario.once and load.warmup_seconds > 0:
        await _drive(base, scenario, load, load.warmup_seconds)
    return await _drive(base, scenario, load, load.seconds)


async def _drive(base: str, scenario: Scenario, load: Load, seconds: float) -> Figure:
    if load.use_wrk:
        return await wrkgen.run(
            scenario.name, base, scenario.requests, expected=scenario.expected, once=scenario.once,
            seconds=seconds, connections=load.connections,
        )  # fmt: skip
    port = int(base.rsplit(":", 1)[1])
    requests = list(scenario.requests)
    if not scenario.once:  # enough round-robin requests for the time cap at any plausible rate
        requests = [requests[i % len(requests)] for i in range(int(seconds * 20_000))]
    encoded = [
        encode_request(
            r.method, r.path, body=r.body.encode() if r.body else None, authorization=r.authorization or None
        )
        for r in requests
    ]
    result = await drive(port, Phase(scenario.name, encoded, scenario.expected), load.connections, seconds)
    note = "each order once; ran out before the time cap" if scenario.once and result.elapsed_s < seconds else ""
    return Figure(
        scenario.name, result.ok, result.rate, result.percentile_ms(50), result.percentile_ms(99),
        result.errors, "python", note,
    )  # fmt: skip


def bearer(token: str) -> str:
    return f"Bearer {token}"


def body(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


# orderline's native API


def reference() -> Scenario:
    return Scenario("reference: bare Litestar `GET /ping`", [Request("GET", "/ping")], 200)


def create(pets: Sequence[UUID], auth: str) -> Scenario:
    requests = [Request("POST", "/v1/orders", auth, body({"petId": str(pet)})) for pet in pets]
    return Scenario("create `POST /v1/orders`", requests, 201)


def get(orders: Sequence[UUID], auth: str) -> Scenario:
    return Scenario("get `GET /v1/orders/{id}`", [Request("GET", f"/v1/orders/{o}", auth) for o in orders], 200)


def list20(auth: str) -> Scenario:
    return Scenario("list of 20 `GET /v1/orders?limit=20`", [Request("GET", "/v1/orders?limit=20", auth)], 200)


def pay(orders: Sequence[UUID], auth: str) -> Scenario:
    payment = body({"amount": "10.00", "currency": "USD", "source": CARD})
    requests = [Request("POST", f"/v1/orders/{o}/payment", auth, payment) for o in orders]
    return Scenario("pay `POST /v1/orders/{id}/payment`", requests, 200, once=True)


def cancel(orders: Sequence[UUID], auth: str) -> Scenario:
    requests = [Request("DELETE", f"/v1/orders/{o}", auth) for o in orders]
    return Scenario("cancel `DELETE /v1/orders/{id}`", requests, 204, once=True)


def erase(orders: Sequence[UUID], auth: str) -> Scenario:
    requests = [Request("DELETE", f"/v1/admin/orders/{o}", auth) for o in orders]
    return Scenario("erase (admin) `DELETE /v1/admin/orders/{id}`", requests, 204, once=True)


# The DRF shop's three order scenarios: the same paths on the shop and on orderline's DRF dialect


def drf_detail(orders: Sequence[str], auth: str, prefix: str = "") -> Scenario:
    requests = [Request("GET", f"{DRF_ORDERS}{o}/", auth) for o in orders]
    return Scenario(f"{prefix}DRF detail `GET {DRF_ORDERS}{{id}}/`", requests, 200)


def drf_list10(auth: str, prefix: str = "") -> Scenario:
    return Scenario(f"{prefix}DRF list of 10 with lines `GET {DRF_ORDERS}`", [Request("GET", DRF_ORDERS, auth)], 200)


def drf_erase(orders: Sequence[str], auth: str, prefix: str = "") -> Scenario:
    requests = [Request("DELETE", f"{DRF_ORDERS}{o}/", auth) for o in orders]
    return Scenario(f"{prefix}DRF erase `DELETE {DRF_ORDERS}{{id}}/`", requests, 204, once=True)
