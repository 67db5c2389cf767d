"""The reference every endpoint is divided by: a bare Litestar app with one route returning a small msgspec struct.

Served by bench/run.py as ``uvicorn bench.reference:app --loop uvloop --http httptools`` in one process: the
HTTP capacity of this stack on this machine, with nothing of orderline's (no middleware, no guard, no database).
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, get


class Pong(msgspec.Struct):
    ok: bool
    service: str


PONG = Pong(ok=True, service="reference")


@get("/ping", sync_to_thread=False)
def ping() -> Pong:
    return PONG


app = Litestar([ping], openapi_config=None)
