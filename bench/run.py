"""The benchmark run: per engine, the reference app, orderline's scenarios, the DRF shop, counts; then the table."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from bench import counts, drf, facts, scenarios, workload, wrkgen
from bench.client import Connection, encode_request
from bench.database import (
    BENCH_DATABASE,
    EngineUnavailableError,
    placed_orders,
    postgres_database,
    sqlite_database,
)
from bench.report import EngineRun, render
from bench.scenarios import Load, bearer
from bench.server import Reference, Server, ServerError, create_admin_key, create_user, serves_workers
from bench.wrkgen import Figure

ENGINES = ("sqlite", "postgres")
RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE_STACK = (
    "bench/reference.py: bare Litestar, one route returning a msgspec struct; uvicorn, 1 process, uvloop, "
    "httptools, no access log"
)
USER, PASSWORD = "benchuser", "bench-password-0123"
# The DRF scenarios' customer: as many orders of two lines as the shop's customer (bench/drf_shop/setup.sh seeds
# DRFSHOP_ORDERS, 3,000), so that the list's count and pages are over the same work on both sides.
DRF_USER, DRF_PASSWORD = "drfcustomer", "drf-password-0123"
DRF_ORDERS = 3000


@dataclass(frozen=True)
class Options:
    engines: list[str]
    connections: int
    seconds: float
    warmup: float
    postgres_url: str
    server_log_level: str
    out: Path
    drf_url: str | None
    drf_auth: str | None
    use_wrk: bool
    counts: bool
    extra: dict[str, str] = field(default_factory=dict)
    processes_only: bool = False
    redis_url: str | None = None

    @property
    def load(self) -> Load:
        return Load(self.connections, self.seconds, self.warmup, self.use_wrk)


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: sqlite,postgres")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections (-c)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per scenario (wrk -d)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each read scenario")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://root@127.0.0.1:5432/test",
        help=f"an existing database to connect to; the benchmark creates {BENCH_DATABASE} beside it",
    )
    parser.add_argument("--server-log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the markdown table")
    parser.add_argument("--drf-url", help="the DRF shop (bench/drf_shop/setup.sh), measured in the same run")
    parser.add_argument("--drf-auth", help='its Authorization header, e.g. "Bearer $(cat /tmp/drfshop/token)"')
    parser.add_argument("--python-client", action="store_true", help="use bench/loadgen.py even if wrk is here")
    parser.add_argument("--no-counts", action="store_true", help="skip the round-trip / thread-hop counts")
    parser.add_argument(
        "--processes-only",
        action="store_true",
        help="only the reference app and 1 vs 2 `orderline serve` processes on PostgreSQL (results/processes-*.md)",
    )
    parser.add_argument(
        "--redis-url", help="also measure 2 processes counting rate limits in this Redis instead of PostgreSQL"
    )
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if unknown := sorted(set(engines) - set(ENGINES)):
        parser.error(f"unknown engines {unknown}; choose from {','.join(ENGINES)}")
    if args.connections < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--connections and --seconds must be positive, --warmup not negative")
    if bool(args.drf_url) != bool(args.drf_auth):
        parser.error("--drf-url and --drf-auth go together")
    use_wrk = wrkgen.available() is not None and not args.python_client
    return Options(
        engines, args.connections, args.seconds, args.warmup, args.postgres_url, args.server_log_level,
        args.out, args.drf_url, args.drf_auth, use_wrk, not args.no_counts,
        processes_only=args.processes_only, redis_url=args.redis_url,
    )  # fmt: skip


async def user_token(base: str, username: str = USER, password: str = PASSWORD) -> str:
    """An access token of the benchmark's customer, from the DRF dialect's simplejwt view."""
    port = int(base.rsplit(":", 1)[1])
    connection = Connection("127.0.0.1", port)
    try:
        request = encode_request(
            "POST", "/api/v1/auth/token/",
            body=scenarios.body({"username": username, "password": password}).encode(),
        )  # fmt: skip
        response = await connection.send(request)
    finally:
        await connection.close()
    if response.status != 200:
        raise workload.SetupError(f"POST /api/v1/auth/token/ answered {response.status}: {response.body[:300]!r}")
    token: str = json.loads(response.body)["access"]
    return token


async def bench_engine(engine: str, options: Options, scratch: Path, shop: list[Figure] | None = None) -> EngineRun:
    """One engine's run. ``shop``: the DRF shop's figures, measured by an earlier engine's run of this one (None:
    measure them here). The shop is measured once per run: its erase uses up its orders, so a second measure
    would erase none and list an emptied shop."""
    try:
        if engine == "sqlite":
            url, version = sqlite_database(scratch)
        else:
            url, version = await postgres_database(options.postgres_url)
    except EngineUnavailableError as exc:
        print(f"{engine}: skipped — {exc}", file=sys.stderr)
        return EngineRun(engine, skipped=str(exc))
    print(f"{version}: starting the reference app and the service", file=sys.stderr)
    figures: list[Figure] = []
    load = options.load

    async def run(base: str, scenario: scenarios.Scenario) -> None:
        figure = await scenarios.measure(base, scenario, load)
        print(f"  {figure.name}: {figure.rate:,.0f} req/s, {sum(figure.errors.values())} errors", file=sys.stderr)
        figures.append(figure)

    if options.processes_only:
        async with Reference(scratch / f"{engine}-reference.log") as ref:
            await run(ref.base, _named(scenarios.reference(), "first"))
            workers = await _workers(engine, url, scratch, options)
            await run(ref.base, _named(scenarios.reference(), "last"))
        return EngineRun(version, figures, workers=workers)
    async with Reference(scratch / f"{engine}-reference.log") as ref:
        await run(ref.base, _named(scenarios.reference(), "first"))
        stopped = await _orderline(url, scratch / f"{engine}-server.log", options, run)
        if shop is not None:
            figures += [replace(figure, note=_once(figure.note)) for figure in shop]
        elif options.drf_url and options.drf_auth:
            try:
                figures += await drf.measure_shop(options.drf_url.rstrip("/"), options.drf_auth, load, "shop ")
            except (OSError, RuntimeError) as exc:
                print(f"the DRF shop: {exc}", file=sys.stderr)
        await run(ref.base, _named(scenarios.reference(), "last"))
    found = None
    if options.counts:
        found = await counts.count(engine, url, scratch, options.server_log_level, (USER, PASSWORD))
    workers = await _workers(engine, url, scratch, options)
    return EngineRun(version, figures, stopped=stopped, counts=found, workers=workers)


Run = Callable[[str, scenarios.Scenario], Awaitable[None]]


async def _orderline(url: str, log: Path, options: Options, run: Run) -> str | None:
    """orderline's scenarios, in an order that leaves each enough orders; why it stopped, if it did."""
    load = options.load
    async with Server(url, log, options.server_log_level) as server:
        key = bearer(await create_admin_key(url))
        await create_user(url, USER, PASSWORD)
        user = bearer(await user_token(server.base))
        pets = await workload.stock_catalogue(server.port, key.removeprefix("Bearer "))
        await run(server.base, scenarios.create(pets, user))
        # More orders, unmeasured: pay, cancel and the two erasures each need their own quarter of them.
        await scenarios.measure(server.base, scenarios.create(pets, user), load, warmup=False)
        orders = await placed_orders(url)
        print(f"  {len(orders)} orders to read, pay, cancel and erase", file=sys.stderr)
        if orders:
            await run(server.base, scenarios.get([UUID(o) for o in orders], key))
            # The customer's: GET /v1/orders lists the caller's own orders, and the admin key placed none.
            await run(server.base, scenarios.list20(user))
            await create_user(url, DRF_USER, DRF_PASSWORD)
            drf_user = bearer(await user_token(server.base, DRF_USER, DRF_PASSWORD))
            drf_orders = await _place_two_line_orders(server.port, drf_user, pets, DRF_ORDERS)
            await run(server.base, scenarios.drf_detail(drf_orders, drf_user, "orderline "))
            await run(server.base, scenarios.drf_list10(drf_user, "orderline "))
            third = len(orders) // 3
            parts = [orders[i * third : (i + 1) * third] for i in range(3)]
            await run(server.base, scenarios.pay([UUID(o) for o in parts[0]], key))
            await run(server.base, scenarios.cancel([UUID(o) for o in parts[1]], key))
            await run(server.base, scenarios.erase([UUID(o) for o in parts[2]], key))
            await run(server.base, scenarios.drf_erase(drf_orders, drf_user, "orderline "))
        if (code := server.returncode) is not None:
            return f"the server exited with {code}:\n{server.log_tail()}"
        print(f"  the server log ends:\n{server.log_tail(5)}", file=sys.stderr)
    return None


async def _place_two_line_orders(port: int, auth: str, pets: list[UUID], count: int) -> list[str]:
    """``count`` orders of two lines (two pets, one each, as the shop's seed), placed through the API by eight
    connections at once; their ids."""
    bodies = [
        scenarios.body({"items": [{"petId": str(pets[n % len(pets)]), "quantity": 1},
                                  {"petId": str(pets[(n + 1) % len(pets)]), "quantity": 1}]}).encode()
        for n in range(count)
    ]  # fmt: skip
    placed: list[str] = []

    async def place(share: list[bytes]) -> None:
        connection = Connection("127.0.0.1", port)
        try:
            for payload in share:
                response = await connection.send(encode_request("POST", "/v1/orders", body=payload, authorization=auth))
                if response.status != 201:
                    raise workload.SetupError(f"POST /v1/orders answered {response.status}: {response.body[:300]!r}")
                placed.append(str(json.loads(response.body)["id"]))
        finally:
            await connection.close()

    await asyncio.gather(*(place(bodies[i::8]) for i in range(8)))
    return placed


async def _workers(engine: str, url: str, scratch: Path, options: Options) -> str:
    """1 vs 2 `orderline serve` processes on PostgreSQL (and 2 counting in Redis, with --redis-url)."""
    if engine != "postgres":
        return ""
    if not await serves_workers():
        return (
            "**Placeholder — waits for `orderline serve --workers`** (issue 11). This orderline has no "
            "`--workers` option, so there is one process and nothing to compare; no figure is given."
        )
    # Rate limits are counted whatever the limit: in memory with 1 process, in PostgreSQL with 2 (no Redis).
    runs: list[tuple[int, str, dict[str, str]]] = [(1, "memory", {}), (2, "PostgreSQL", {})]
    if options.redis_url:
        runs.append((2, "Redis", {"ORDERLINE_REDIS_URL": options.redis_url, "ORDERLINE_REDIS_KEY_PREFIX": "bench:"}))
    rows: list[str] = []
    first: tuple[float, float] | None = None
    for workers, counters, env in runs:
        log = scratch / f"workers-{workers}-{counters}.log"
        serve_args = ["--workers", str(workers)]
        async with Server(url, log, options.server_log_level, serve_args=serve_args, env=env) as server:
            key = bearer(await create_admin_key(url))
            pets = await workload.stock_catalogue(server.port, key.removeprefix("Bearer "))
            create = await scenarios.measure(server.base, scenarios.create(pets, key), options.load)
            orders = [UUID(o) for o in await placed_orders(url)]
            get = await scenarios.measure(server.base, scenarios.get(orders, key), options.load)
        print(f"  {workers} processes ({counters}): create {create.rate:,.0f}, get {get.rate:,.0f}", file=sys.stderr)
        first = first or (create.rate, get.rate)
        ratios = f"{create.rate / first[0]:.2f} | {get.rate / first[1]:.2f}" if all(first) else "– | –"
        errors = sum(create.errors.values()) + sum(get.errors.values())
        rows.append(f"| {workers} | {counters} | {create.rate:,.0f} | {get.rate:,.0f} | {ratios} | {errors} |")
    header = (
        "| processes | rate-limit counters | create req/s | get req/s | create ÷ 1 process | get ÷ 1 process | errors |"
    )
    return "\n".join([header, "|---:|---|---:|---:|---:|---:|---:|", *rows])


def _once(note: str) -> str:
    return "; ".join(filter(None, [note, "the shop measured once, in this run's first engine"]))


def _named(scenario: scenarios.Scenario, when: str) -> scenarios.Scenario:
    return scenarios.Scenario(f"{scenario.name} ({when})", scenario.requests, scenario.expected, scenario.once)


async def bench(options: Options) -> list[EngineRun]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="orderline-bench-") as scratch:
        shop: list[Figure] | None = None  # the DRF shop's figures, once measured
        for engine in options.engines:
            try:
                runs.append(await bench_engine(engine, options, Path(scratch), shop))
                measured = [figure for figure in runs[-1].figures if figure.name.startswith("shop ")]
                shop = shop if shop is not None or not measured else measured
            except (ServerError, workload.SetupError) as exc:
                print(f"{engine}: failed — {exc}", file=sys.stderr)
                runs.append(EngineRun(engine, skipped=f"failed: {exc}"))
    return runs


def main(argv: list[str] | None = None) -> None:
    options = parse(argv)
    now = datetime.now(UTC)
    facts_table = _facts(options, now)
    runs = asyncio.run(bench(options))
    facts_table.append(("load after", facts.load()))
    table = render("orderline benchmark", facts_table, runs)
    print(table)
    options.out.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y-%m-%dT%H%M%SZ")
    if options.processes_only:
        (options.out / f"processes-{stamp}.md").write_text(table)
        print(f"written to {options.out / f'processes-{stamp}.md'}", file=sys.stderr)
        return
    (options.out / f"{stamp}.md").write_text(table)
    (options.out / "latest.md").write_text(table)
    print(f"written to {options.out / 'latest.md'}", file=sys.stderr)


def _why(load: Load) -> str:
    if load.use_wrk:
        return ""
    return " — wrk is not installed" if wrkgen.available() is None else " — chosen with --python-client"


def _facts(options: Options, now: datetime) -> list[tuple[str, str]]:
    load = options.load
    return [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", facts.machine()),
        ("load before", facts.load()),
        ("python", facts.python()),
        ("server", f"`orderline serve --demo`: {facts.server_stack()}, log level {options.server_log_level}"),
        ("reference", REFERENCE_STACK),
        ("load generator", f"{load.generator}{_why(load)}, {load.connections} connections, 1 thread"),
        (
            "per scenario",
            f"reads: {load.warmup_seconds:g} s warm-up, then {load.seconds:g} s measured; "
            f"pay, cancel and erase: each order once, at most {load.seconds:g} s",
        ),
        ("DRF shop", options.drf_url or "not measured (no --drf-url)"),
        ("commit", facts.commit()),
    ]
