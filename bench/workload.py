"""The catalogue every run orders from: pets with stock that never runs out (the scenarios are bench/scenarios.py)."""

from __future__ import annotations

import json
from uuid import UUID

from bench.client import Connection, encode_request

# Orders spread over several pets, so the benchmark measures the order path rather than one hot stock row.
PETS = 8
PET_STOCK = 1_000_000


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


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
