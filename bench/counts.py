"""Round trips to PostgreSQL and thread hops per request, endpoint by endpoint, counted from outside src/.

- PostgreSQL round trips: orderline connects through a TCP proxy in the benchmark's process. A round trip is a
  burst of client→server bytes that follows data from the server (or opens the connection): the client sent,
  then had to wait for an answer before sending again. Pipelined messages (Parse/Bind/Execute/Sync sent
  together) count once; the connection's start-up and authentication count once per new connection.
  The proxy also counts the protocol's Sync and Query messages (one per statement asyncpg sends).
- Thread hops: bench/launch.py runs ``orderline serve`` with SQLite's hops (``SqliteDatabase.hops``), Litestar's
  sync_to_thread and to_thread wrapped to count (see there).

Requests go one at a time; each request's count is the difference between the counters before it and 50 ms after
its response (so an asyncpg pool's reset on release, which follows the response, is in it). Background work
(the refund poller, the worker) also talks to the database, so the table gives the median over several requests
and the range.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mmap
import os
import statistics
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench import launch, scenarios, workload
from bench.client import Connection, encode_request
from bench.server import Server, ServerError, create_admin_key, create_user

REQUESTS = 12  # per scenario: reads; writes use fewer orders
SETTLE_S = 0.05
LAUNCHER = os.path.abspath(launch.__file__)


@dataclass
class Proxy:
    """A counting TCP proxy to PostgreSQL."""

    upstream: tuple[str, int]
    round_trips: int = 0
    messages: int = 0  # Sync ('S') and Query ('Q') messages
    prepared: dict[str, str] = field(default_factory=dict)  # statement name → SQL, from Parse ('P') messages
    bound: list[str] = field(default_factory=list)  # the statement name of every Bind ('B'), in order
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _connection(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        state = {"waiting": True}  # True when the server has spoken since the client last did
        buffer = bytearray()
        started = [False]

        async def up() -> None:
            while data := await client_r.read(65536):
                if state["waiting"]:
                    self.round_trips += 1
                    state["waiting"] = False
                buffer.extend(data)
                self._parse(buffer, started)
                server_w.write(data)
                await server_w.drain()
            server_w.close()

        async def down() -> None:
            while data := await server_r.read(65536):
                state["waiting"] = True
                client_w.write(data)
                await client_w.drain()
            client_w.close()

        await asyncio.gather(up(), down(), return_exceptions=True)

    def _parse(self, buffer: bytearray, started: list[bool]) -> None:
        """Count the frontend messages of complete frames; the start-up message has no type byte."""
        while True:
            if not started[0]:
                if len(buffer) < 4:
                    return
                (length,) = struct.unpack_from("!i", buffer, 0)
                if len(buffer) < length:
                    return
                code = struct.unpack_from("!i", buffer, 4)[0] if length >= 8 else 0
                del buffer[:length]
                if code != 80877103:  # SSLRequest is answered with one byte and followed by the real start-up
                    started[0] = True
                continue
            if len(buffer) < 5:
                return
            kind = chr(buffer[0])
            (length,) = struct.unpack_from("!i", buffer, 1)
            if len(buffer) < 1 + length:
                return
            self._message(kind, bytes(buffer[5 : 1 + length]))
            del buffer[: 1 + length]

    def _message(self, kind: str, body: bytes) -> None:
        if kind in "SQ":
            self.messages += 1
        elif kind in "PB":  # Parse: name \0 query \0 …; Bind: portal \0 statement \0 …
            fields = body.split(b"\0", 2)
            if kind == "P":
                self.prepared[fields[0].decode()] = " ".join(fields[1].decode(errors="replace").split())
            else:
                self.bound.append(fields[1].decode())


class Hops:
    """The launcher's counters, read through the same file."""

    def __init__(self, path: Path) -> None:
        path.write_bytes(b"\0" * 8 * len(launch.COUNTERS))
        self.path = path

    def read(self) -> tuple[int, ...]:
        with self.path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as memory:
            return struct.unpack("q" * len(launch.COUNTERS), memory[: 8 * len(launch.COUNTERS)])


@dataclass
class Row:
    name: str
    samples: list[tuple[int, ...]] = field(default_factory=list)  # (round trips, messages, hops…) per request


Snapshot = Callable[[], tuple[int, ...]]


async def count(engine: str, url: str, scratch: Path, log_level: str, user: tuple[str, str]) -> str:
    hops = Hops(scratch / f"{engine}-hops.bin")
    proxy: Proxy | None = None
    if engine == "postgres":
        parts = urlsplit(url)
        proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        await proxy.start()
    launcher = [LAUNCHER, str(hops.path)]

    def snapshot() -> tuple[int, ...]:
        wire = (proxy.round_trips, proxy.messages) if proxy else (0, 0)
        return wire + hops.read()

    try:
        async with Server(
            url, scratch / f"{engine}-counts.log", log_level, launcher=launcher,
            database_port=proxy.port if proxy else None,
            serve_args=["--no-worker"] if engine == "sqlite" else [],
        ) as server:  # fmt: skip
            rows = await _measure(server, url, snapshot, user)
    except Exception as exc:  # noqa: BLE001 — a failed count must not lose the run's figures
        print(f"counts: {exc!r}", file=sys.stderr)
        return f"Not counted: {exc!r}"
    finally:
        if proxy:
            await proxy.stop()
    return _table(engine, rows)


async def _measure(server: Server, url: str, snapshot: Snapshot, user: tuple[str, str]) -> list[Row]:
    key = await create_admin_key(url)
    with contextlib.suppress(ServerError):  # the main run made this user already, in the same database
        await create_user(url, *user)
    connection = Connection("127.0.0.1", server.port)
    rows: list[Row] = []

    async def one(row: Row, request: bytes, expected: int) -> bytes:
        before = snapshot()
        response = await connection.send(request)
        await asyncio.sleep(SETTLE_S)
        if response.status != expected:
            raise RuntimeError(f"{row.name}: {response.status} {response.body[:200]!r}")
        row.samples.append(tuple(b - a for a, b in zip(before, snapshot(), strict=True)))
        return response.body

    async def scenario(name: str, requests: list[bytes], expected: int) -> list[bytes]:
        row = Row(name)
        rows.append(row)
        return [await one(row, request, expected) for request in requests]

    try:
        login = scenarios.body({"username": user[0], "password": user[1]}).encode()
        answer = await connection.send(encode_request("POST", "/api/v1/auth/token/", body=login))
        token = json.loads(answer.body)["access"]
        pets = await workload.stock_catalogue(server.port, key)
        await asyncio.sleep(SETTLE_S)  # set-up traffic settles before the first counted request
        create = [
            encode_request("POST", "/v1/orders", token=token, body=scenarios.body({"petId": str(pets[0])}).encode())
        ] * (REQUESTS + 12)
        bodies = await scenario("create", create, 201)
        ids = [json.loads(body)["id"] for body in bodies]
        read = ids[:REQUESTS]
        await scenario("get", [encode_request("GET", f"/v1/orders/{o}", token=key) for o in read], 200)
        # The customer's own orders, as the wrk scenario lists them (the admin key placed none).
        await scenario("list of 20", [encode_request("GET", "/v1/orders?limit=20", token=token)] * REQUESTS, 200)
        drf = scenarios.DRF_ORDERS
        await scenario("DRF detail", [encode_request("GET", f"{drf}{o}/", token=token) for o in read], 200)
        await scenario("DRF list of 10", [encode_request("GET", drf, token=token)] * REQUESTS, 200)
        payment = scenarios.body({"amount": "10.00", "currency": "USD", "source": scenarios.CARD}).encode()
        await scenario("pay", [encode_request("POST", f"/v1/orders/{o}/payment", token=key, body=payment)
                               for o in ids[0:6]], 200)  # fmt: skip
        await scenario("cancel", [encode_request("DELETE", f"/v1/orders/{o}", token=key) for o in ids[6:12]], 204)
        await scenario("erase (admin)", [encode_request("DELETE", f"/v1/admin/orders/{o}", token=key)
                                         for o in ids[12:18]], 204)  # fmt: skip
        await scenario("DRF erase", [encode_request("DELETE", f"{drf}{o}/", token=token) for o in ids[18:24]], 204)
    finally:
        await connection.close()
    return rows


def _median(values: list[int]) -> str:
    if not values:
        return "n/a"
    low, high = min(values), max(values)
    middle = statistics.median(values)
    shown = f"{middle:g}"
    return shown if low == high else f"{shown} ({low}–{high})"


TARGETS = {"get": 3, "list of 20": 3, "create": 6, "cancel": 7, "pay": 10}


def _table(engine: str, rows: list[Row]) -> str:
    names = [*launch.COUNTERS]
    header = "| endpoint | n | PG round trips | PG Sync+Query msgs | PG target (issue 11) | " + " | ".join(names) + " |"
    lines = [header, "|---|---:|" + "---:|" * (3 + len(names))]
    for row in rows:
        columns = list(zip(*row.samples, strict=True)) if row.samples else [() for _ in range(2 + len(names))]
        wire = [_median(list(c)) for c in columns[:2]] if engine == "postgres" else ["—", "—"]
        target = f"≤ {TARGETS[row.name]}" if row.name in TARGETS else ""
        hop_cells = [_median(list(c)) for c in columns[2:]]
        lines.append(
            f"| {row.name} | {len(row.samples)} | {wire[0]} | {wire[1]} | {target} | " + " | ".join(hop_cells) + " |"
        )
    lines += ["", "Median per request (min–max over the requests). SQLite's target: one hand-off per unit of work."]
    return "\n".join(lines)
