"""What is measured: a catalogue with stock that never runs out, and the requests of each endpoint's phase."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from uuid import UUID

from bench.client import Connection, Response, encode_request
from bench.loadgen import Phase

# Orders spread over several pets, so the benchmark measures the order path rather than one hot stock row.
PETS = 8
PET_STOCK = 1_000_000
NOOP = "no-op `GET /v1/livez`"


class SetupError(Exception):
    """The catalogue could not be prepared; the message carries the service's answer."""


async def stock_catalogue(port: int, key: str) -> list[UUID]:
    connection = Connection("127.0.0.1", port)
    pets = []
    try:
        for number in range(PETS):
            body = {"name": f"Bench {number}", "species": "DOG", "adoptionFee": "10.00", "stock": PET_STOCK}
            response = await connection.send(encode_request("POST", "/v1/pets", body=_json(body), token=key))
            if response.status != 201:
                raise SetupError(f"POST /v1/pets answered {response.status}: {response.body[:300]!r}")
            pets.append(UUID(json.loads(response.body)["id"]))
    finally:
        await connection.close()
    return pets


def noop(count: int, when: str) -> Phase:
    request = encode_request("GET", "/v1/livez")
    return Phase(f"{NOOP} ({when})", [request] * count, 200)


def create_orders(count: int, pets: Sequence[UUID], created: list[UUID]) -> Phase:
    """Anonymous checkouts (placing an order needs no key); each new order's id goes into ``created``."""
    requests = [
        encode_request("POST", "/v1/orders", body=_json({"petId": str(pets[i % len(pets)])})) for i in range(count)
    ]
    return Phase("create `POST /v1/orders`", requests, 201, on_ok=_collect_id(created))


def get_orders(count: int, orders: Sequence[UUID], key: str) -> Phase:
    requests = [encode_request("GET", f"/v1/orders/{orders[i % len(orders)]}", token=key) for i in range(count)]
    return Phase("get `GET /v1/orders/{id}`", requests, 200)


def list_orders(count: int, key: str) -> Phase:
    request = encode_request("GET", "/v1/orders?limit=20", token=key)
    return Phase("list `GET /v1/orders?limit=20`", [request] * count, 200)


def pay_orders(orders: Sequence[UUID], key: str) -> Phase:
    """One payment per order with the test gateway's card that succeeds (and later refunds) at once."""
    card = {"number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2099}
    body = _json({"amount": "10.00", "currency": "USD", "source": card})
    requests = [encode_request("POST", f"/v1/orders/{order}/payment", body=body, token=key) for order in orders]
    return Phase("pay `POST /v1/orders/{id}/payment`", requests, 200)


def cancel_orders(orders: Sequence[UUID], key: str, *, paid: bool = False) -> Phase:
    """One DELETE per order: a cancelled order cannot be cancelled again, so each needs its own open one."""
    requests = [encode_request("DELETE", f"/v1/orders/{order}", token=key) for order in orders]
    name = "cancel paid, refunded `DELETE /v1/orders/{id}`" if paid else "cancel `DELETE /v1/orders/{id}`"
    return Phase(name, requests, 204)


def _collect_id(into: list[UUID]) -> Callable[[Response], None]:
    def collect(response: Response) -> None:
        into.append(UUID(json.loads(response.body)["id"]))

    return collect


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
