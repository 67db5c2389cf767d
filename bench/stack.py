"""The app's CPU per request, in process: ``python -m bench.stack``.

The real app (``create_app`` on a fresh SQLite file, or with ``--engine postgres`` on a fresh PostgreSQL database
of its own; rate limits lifted, logs at ``warning`` as the benchmark serves) and the bare reference
(bench/reference.py) are driven through their ASGI callables directly, one request after another: no server, no
socket, no HTTP client, so what is measured is the app's own CPU per request (``time.process_time``, the least of
three runs), which moves far less with the machine's load than req/s. On PostgreSQL the server's CPU is not in
the figure (another process): what is left is ours, asyncpg's and the loop's. Pay and cancel need an order each,
so they send ``--writes`` requests (to orders made beforehand, unmeasured), as does create, where the reads send
``--requests``.
``--profile NAME`` runs one scenario under cProfile and prints where its time goes. ``--compare SRC``
alternates rounds between this checkout and another checkout (or its ``src/``, e.g. an exported base commit),
each round in a fresh process, and prints both columns with their medians: a before/after measured in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from bench.server import POSTGRES_KEYS, UNLIMITED

T = TypeVar("T")
Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
PASSWORD = "correct horse battery staple"
ORDERS = 24  # the customer's: a list of 20 is a full page
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"  # the server; the benchmark makes a database of its own
CARD = {"number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2099}
WRITES = {"create (customer)", "pay (admin key)", "cancel (admin key)", "DRF erase (customer)"}
# The DRF dialect's customer (ADR 0026, bench/run.py's DRF_USER): orders of two lines each, as the DRF shop's seed;
# its scenarios are the wrk run's DRF detail, list of 10 with lines and erase, in process (ADR 0048).
DRF_ORDERS = 50
DRF_PATH = "/api/v1/i/orders/"
# Which create places the orders a write scenario consumes (each measured request to an order of its own).
PLACED_BY = {"DRF erase (customer)": "DRF create (customer)"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""


@dataclass
class Answer:
    status: int = 0
    headers: list[tuple[bytes, bytes]] | None = None
    body: bytes = b""


def _scope(request: Request) -> dict[str, Any]:
    """What uvicorn with httptools hands the app for one request."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"wrk"),
        (b"accept", b"*/*"),
        *request.headers,
    ]
    if request.body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(request.body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": request.method,
        "root_path": "",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": request.query,
        "headers": headers,
        "state": {},
    }


async def call(app: Asgi, request: Request, answer: Answer | None = None) -> Answer:
    """One request through the ASGI callable; the answer's status, and its headers and body when kept."""
    answer = answer or Answer()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that waits: as a disconnect would only come after the answer
        sent = True
        return {"type": "http.request", "body": request.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await app(_scope(request), receive, send)
    return answer


def bearer(token: str) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"authorization", f"Bearer {token}".encode()),)


async def _expect(app: Asgi, request: Request, status: int) -> Any:
    answer = await call(app, request)
    if answer.status != status:
        raise RuntimeError(f"{request.method} {request.path} answered {answer.status}: {answer.body[:300]!r}")
    return json.loads(answer.body) if answer.body else None


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Scenario:
    """The requests of one scenario: the same one again and again (reads), or each to an order of its own
    (``following`` makes each; ``first`` is then only their shape)."""

    first: Request
    following: Callable[[], Request] | None = None

    def next(self) -> Request:
        return self.first if self.following is None else self.following()


async def prepare(app: Any) -> dict[str, Request]:
    """An admin key, a customer with a token, a pet and the customer's orders; the scenarios' requests."""
    from orderline.application.principal import Scope

    _row, key = await app.state.use_cases.api_keys.create("bench", frozenset({Scope.ADMIN}))
    user = {"username": "benchuser", "email": "bench@example.com", "password": PASSWORD}
    await _expect(app, Request("POST", "/v1/users", body=_json(user)), 201)
    credentials = {"username": "benchuser", "password": PASSWORD}
    token = (await _expect(app, Request("POST", "/v1/auth/tokens", body=_json(credentials)), 200))["token"]
    pet = {"name": "Bench", "species": "DOG", "adoptionFee": "10.00", "stock": 1_000_000}
    pet_id = (await _expect(app, Request("POST", "/v1/pets", headers=bearer(key), body=_json(pet)), 201))["id"]
    order_id = ""
    placed = Request("POST", "/v1/orders", headers=bearer(token), body=_json({"petId": pet_id}))
    for _ in range(ORDERS):
        order_id = (await _expect(app, placed, 201))["id"]
    drf = await _drf_customer(app, key)
    return {
        "get (admin key)": Request("GET", f"/v1/orders/{order_id}", headers=bearer(key)),
        "get (customer)": Request("GET", f"/v1/orders/{order_id}", headers=bearer(token)),
        "list of 20 (customer)": Request("GET", "/v1/orders", b"limit=20", headers=bearer(token)),
        "livez": Request("GET", "/v1/livez"),
        "unknown route (404)": Request("GET", "/v1/nowhere"),
        "create (customer)": placed,
        # The two below are only the shape: each measured request goes to an order of its own (``orders_for``).
        "pay (admin key)": Request("POST", "/v1/orders/{id}/payment", headers=bearer(key), body=_json(_payment())),
        "cancel (admin key)": Request("DELETE", "/v1/orders/{id}", headers=bearer(key)),
        **drf,
    }


async def _drf_customer(app: Any, key: str) -> dict[str, Request]:
    """The DRF dialect's customer, signed in through the dialect, with ``DRF_ORDERS`` two-line orders; its
    scenarios (the last three are only shapes, as pay's and cancel's)."""
    user = {"username": "drfuser", "email": "drf@example.com", "password": PASSWORD, "firstName": "Ada"}
    await _expect(app, Request("POST", "/v1/users", body=_json(user)), 201)
    credentials = {"username": "drfuser", "password": PASSWORD}
    token = (await _expect(app, Request("POST", "/api/v1/auth/token/", body=_json(credentials)), 200))["access"]
    pets = []
    for name in ("Rex", "Tom"):
        pet = {"name": name, "species": "DOG", "adoptionFee": "12.50", "stock": 1_000_000}
        pets.append((await _expect(app, Request("POST", "/v1/pets", headers=bearer(key), body=_json(pet)), 201))["id"])
    lines = {"items": [{"petId": pet, "quantity": 1} for pet in pets]}
    placed = Request("POST", "/v1/orders", headers=bearer(token), body=_json(lines))
    order_id = ""
    for _ in range(DRF_ORDERS):
        order_id = (await _expect(app, placed, 201))["id"]
    return {
        "DRF detail (customer)": Request("GET", f"{DRF_PATH}{order_id}/", headers=bearer(token)),
        "DRF list of 10 (customer)": Request("GET", DRF_PATH, headers=bearer(token)),
        "DRF create (customer)": placed,
        "DRF erase (customer)": Request("DELETE", DRF_PATH + "{id}/", headers=bearer(token)),
    }


def _payment() -> dict[str, object]:
    return {"amount": "10.00", "currency": "USD", "source": CARD}


async def orders_for(app: Asgi, requests: dict[str, Request], name: str, count: int) -> Scenario:
    """A scenario whose every request goes to an order of its own: ``count`` orders placed now, unmeasured."""
    shape = requests[name]
    if name not in WRITES or name == "create (customer)":
        return Scenario(shape)
    ids = []
    create = requests[PLACED_BY.get(name, "create (customer)")]
    for _ in range(count):
        ids.append((await _expect(app, create, 201))["id"])
    pending = iter(ids)

    def following() -> Request:
        return Request(shape.method, shape.path.replace("{id}", next(pending)), shape.query, shape.headers, shape.body)

    return Scenario(shape, following)


def reference_app() -> tuple[Asgi, dict[str, Request]]:
    from bench.reference import app

    asgi: Any = app
    return asgi, {"reference": Request("GET", "/ping")}


REPEATS = 3


def needed(count: int, repeats: int = REPEATS) -> int:
    """Requests ``measure`` sends for ``count`` measured ones: the first, a tenth unmeasured, the runs, the last."""
    return 2 + count // 10 + repeats * count


async def measure(app: Asgi, scenario: Scenario | Request, count: int, repeats: int = REPEATS) -> float:
    """CPU microseconds per request: the least of ``repeats`` runs of ``count`` requests, after a tenth as many
    unmeasured. The least, because on a shared machine other processes only ever add to a run's CPU time
    (caches and the core's other hyperthread taken from it). Every answer of a run must have the first's status."""
    if isinstance(scenario, Request):
        scenario = Scenario(scenario)
    first = scenario.next()
    expected = (await call(app, first)).status
    if expected >= 400 and first.path != "/v1/nowhere":
        raise RuntimeError(f"{first.method} {first.path} answered {expected}")
    for _ in range(count // 10):
        await call(app, scenario.next())
    runs = []
    for _ in range(repeats):
        batch = [scenario.next() for _ in range(count)]
        statuses = []
        start = time.process_time()
        for request in batch:
            statuses.append((await call(app, request)).status)
        runs.append((time.process_time() - start) / count * 1e6)
        if any(status != expected for status in statuses):
            raise RuntimeError(f"{first.method} {first.path} answered {expected}, then {set(statuses)}")
    micros = min(runs)
    last = (await call(app, scenario.next())).status
    if last != expected:
        raise RuntimeError(f"{first.path} answered {expected}, then {last}")
    return micros


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Log as the benchmark's server does (JSON at warning), into /dev/null."""
    from orderline import logs

    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        logs.configure("warning", "json")
        yield


@dataclass(frozen=True)
class Engine:
    name: str  # "sqlite" or "postgres"
    postgres_url: str = POSTGRES_URL
    loop: str = "uvloop"  # what `orderline serve` runs on; "asyncio" for the standard loop

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        factory = None
        if self.loop == "uvloop":
            import uvloop

            factory = uvloop.new_event_loop
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(work)


@contextlib.contextmanager
def database(engine: Engine, scratch: Path) -> Iterator[str]:
    """A fresh database at the newest schema: a SQLite file in ``scratch``, or a PostgreSQL database of this
    process's own on the server (dropped afterwards)."""
    if engine.name == "sqlite":
        yield f"sqlite:///{scratch / 'stack.db'}"
        return
    import asyncpg

    from orderline.storage.database import DatabaseUrl
    from orderline.storage.migrate import upgrade

    name = f"orderline_stack_{os.getpid()}"

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(engine.postgres_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        url = engine.postgres_url.rsplit("/", 1)[0] + "/" + name
        upgrade(DatabaseUrl.parse(url))
        yield url
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextlib.asynccontextmanager
async def orderline_app(url: str) -> Any:
    from tests.e2e.lifespan import lifespan_of

    from orderline.bootstrap import build
    from orderline.config import Settings
    from orderline.http.app import create_app

    settings = Settings(database_url=url, rate_limits=UNLIMITED)
    if not url.startswith("sqlite"):  # PostgreSQL keeps no signing keys: the benchmark's server gets the same
        settings = msgspec.structs.replace(
            settings,
            jwt_secret=POSTGRES_KEYS["ORDERLINE_JWT_SECRET"],
            test_gateway_secret=POSTGRES_KEYS["ORDERLINE_TEST_GATEWAY_SECRET"],
        )
    app = create_app(settings, lambda: build(settings))
    async with lifespan_of(app):
        yield app


def _count_of(name: str, count: int, writes: int) -> int:
    return writes if name in WRITES else count


async def one_round(url: str, count: int, writes: int, only: set[str] | None) -> dict[str, float]:
    """Every scenario once (the reference first and last), µs of CPU per request."""
    results: dict[str, float] = {}
    reference, ref_requests = reference_app()
    first = await measure(reference, ref_requests["reference"], count)
    async with orderline_app(url) as app:
        requests = await prepare(app)
        for name in requests:
            if (only is None or name in only) and name not in PLACED_BY.values():
                number = _count_of(name, count, writes)
                scenario = await orders_for(app, requests, name, needed(number))
                results[name] = await measure(app, scenario, number)
    last = await measure(reference, ref_requests["reference"], count)
    return {"reference": (first + last) / 2, **results}


def rounds_of(engine: Engine, count: int, writes: int, only: set[str] | None) -> dict[str, float]:
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="stack-") as scratch, database(engine, Path(scratch)) as url:
        return engine.run(one_round(url, count, writes, only))


def profile(engine: Engine, name: str, count: int, top: int) -> str:
    with quiet_logs(), tempfile.TemporaryDirectory(prefix="stack-") as scratch, database(engine, Path(scratch)) as url:
        profiler = engine.run(_profiled(url, name, count))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"{count} requests of {name!r}; calls per request: {stats.total_calls / count:,.0f}\n")  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


async def _profiled(url: str, name: str, count: int) -> cProfile.Profile:
    async with orderline_app(url) as app:
        requests = await prepare(app)
        scenario = await orders_for(app, requests, name, needed(count // 10, 1) + count)
        await measure(app, scenario, count // 10, repeats=1)
        batch = [scenario.next() for _ in range(count)]
        profiler = cProfile.Profile()
        profiler.enable()
        for request in batch:
            await call(app, request)
        profiler.disable()
    return profiler


def source_of(checkout: Path) -> Path:
    """The folder to put first on the path for a checkout's code: its ``src/``, or the folder itself."""
    inner = checkout / "src"
    if (inner / "orderline").is_dir():
        return inner
    if (checkout / "orderline").is_dir():
        return checkout
    raise SystemExit(f"{checkout} holds no orderline package (neither {inner}/orderline nor {checkout}/orderline)")


def _round_in(src: Path | None, engine: Engine, count: int, writes: int, only: str | None) -> dict[str, float]:
    """One round in a fresh process, on this checkout's code or on ``src``'s."""
    environment = dict(os.environ)
    if src is not None:
        environment["PYTHONPATH"] = os.pathsep.join([str(source_of(src)), str(Path.cwd())])
    command = [
        sys.executable, "-m", "bench.stack", "--json", "--requests", str(count), "--writes", str(writes),
        "--engine", engine.name, "--postgres-url", engine.postgres_url, "--loop", engine.loop,
    ]  # fmt: skip
    if only:
        command += ["--only", only]
    output = subprocess.run(command, env=environment, check=True, capture_output=True, text=True).stdout
    answer: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return answer


def compare(other: Path, engine: Engine, rounds: int, count: int, writes: int, only: str | None) -> str:
    source_of(other)  # refuse a folder without orderline before the first round
    columns: dict[str, list[dict[str, float]]] = {"other": [], "this": []}
    for number in range(rounds):
        order = ["other", "this"] if number % 2 == 0 else ["this", "other"]
        for which in order:
            columns[which].append(_round_in(other if which == "other" else None, engine, count, writes, only))
    lines = [
        f"{engine.name} on {engine.loop}: {rounds} rounds x {count} requests per scenario "
        f"({writes} for create, pay and cancel), alternating; "
        f"median µs of CPU per request (reference ÷ this in brackets); other = {other}",
        "",
        "| scenario | other | this | this ÷ other |",
        "|---|---:|---:|---:|",
    ]
    for name in columns["this"][0]:
        before = statistics.median(result[name] for result in columns["other"])
        after = statistics.median(result[name] for result in columns["this"])
        ref_before = statistics.median(result["reference"] for result in columns["other"])
        ref_after = statistics.median(result["reference"] for result in columns["this"])
        lines.append(
            f"| {name} | {before:,.0f} ({ref_before / before:.3f}) | {after:,.0f} ({ref_after / after:.3f}) "
            f"| {after / before:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="the server (its database is not used)")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="uvloop: as `serve` runs")
    parser.add_argument("--requests", type=int, default=5000, help="measured requests per scenario")
    parser.add_argument("--writes", type=int, default=500, help="measured requests of create, pay, cancel")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated scenario names (the reference always runs)")
    parser.add_argument("--profile", metavar="SCENARIO", help="cProfile one scenario instead")
    parser.add_argument("--top", type=int, default=45, help="rows of the profile")
    parser.add_argument("--compare", type=Path, metavar="SRC", help="another checkout's src/, rounds alternating")
    parser.add_argument("--json", action="store_true", help="one round, printed as one JSON line")
    options = parser.parse_args()
    only = set(options.only.split(",")) if options.only else None
    engine = Engine(options.engine, options.postgres_url, options.loop)
    if options.profile:
        print(profile(engine, options.profile, options.requests, options.top))
    elif options.compare:
        print(compare(options.compare, engine, options.rounds, options.requests, options.writes, options.only))
    elif options.json:
        print(json.dumps(rounds_of(engine, options.requests, options.writes, only)))
    else:
        rounds = [rounds_of(engine, options.requests, options.writes, only) for _ in range(options.rounds)]
        reference = statistics.median(result["reference"] for result in rounds)
        print(
            f"{engine.name} on {engine.loop}: {options.rounds} rounds x {options.requests} requests "
            f"({options.writes} for create, pay and cancel); median µs of CPU per request\n"
        )
        print("| scenario | µs/request | reference ÷ this |\n|---|---:|---:|")
        for name in rounds[0]:
            micros = statistics.median(result[name] for result in rounds)
            print(f"| {name} | {micros:,.0f} | {reference / micros:.3f} |")


if __name__ == "__main__":
    main()
