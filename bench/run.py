"""The benchmark run: for each engine, start the service, measure every phase, then write the table."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from bench import facts, workload
from bench.database import BENCH_DATABASE, EngineUnavailableError, postgres_database, sqlite_database
from bench.loadgen import Phase, Result, drive
from bench.report import EngineRun, render
from bench.server import Server, ServerError, ServerExitedError, create_admin_key

ENGINES = ("sqlite", "postgres")
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Options:
    engines: list[str]
    concurrency: int
    requests: int
    seconds: float
    warmup: int
    postgres_url: str
    server_log_level: str
    out: Path


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: sqlite,postgres")
    parser.add_argument("--concurrency", type=int, default=16, help="connections, each sending sequentially")
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="time cap per phase")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured requests before each phase")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://root@127.0.0.1:5432/test",
        help=f"an existing database to connect to; the benchmark creates {BENCH_DATABASE} beside it",
    )
    parser.add_argument(
        "--server-log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="warning keeps uvicorn's per-request access log off the measured path",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the markdown table")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if unknown := sorted(set(engines) - set(ENGINES)):
        parser.error(f"unknown engines {unknown}; choose from {','.join(ENGINES)}")
    if min(args.concurrency, args.requests, args.warmup + 1) < 1 or args.seconds <= 0:
        parser.error("--concurrency, --requests and --seconds must be positive, --warmup not negative")
    return Options(
        engines,
        args.concurrency,
        args.requests,
        args.seconds,
        args.warmup,
        args.postgres_url,
        args.server_log_level,
        args.out,
    )


async def bench_engine(engine: str, options: Options, scratch: Path) -> EngineRun:
    try:
        if engine == "sqlite":
            url, version = sqlite_database(scratch)
        else:
            url, version = await postgres_database(options.postgres_url)
    except EngineUnavailableError as exc:
        print(f"{engine}: skipped — {exc}", file=sys.stderr)
        return EngineRun(engine, skipped=str(exc))
    print(f"{version}: starting the service", file=sys.stderr)
    results: list[Result] = []
    stopped = None
    async with Server(url, scratch / f"{engine}-server.log", options.server_log_level) as server:
        key = await create_admin_key(url)
        pets = await workload.stock_catalogue(server.port, key)
        try:
            await _phases(server, key, pets, options, results)
        except ServerExitedError as exc:
            stopped = str(exc)
        if stopped or any(result.errors for result in results):
            print(f"{version}: errors; the server log ends:\n{server.log_tail()}", file=sys.stderr)
    return EngineRun(version, results, stopped=stopped)


async def _phases(server: Server, key: str, pets: list[UUID], options: Options, results: list[Result]) -> None:
    """The order endpoints between two no-op phases, each after the same warm-up and within the same bounds.

    Results are appended as phases end, so a server that dies midway still leaves the phases before.
    """
    n, w = options.requests, options.warmup
    orders: list[UUID] = []  # every order created, warm-up ones first; each is cancelled once at the end

    async def measure(warmup: Phase | None, phase: Phase) -> None:
        if warmup is not None:
            await drive(server.port, warmup, options.concurrency, options.seconds)
        result = await drive(server.port, phase, options.concurrency, options.seconds)
        print(f"  {result.name}: {result.rate:,.0f} req/s, {result.errors.total()} errors", file=sys.stderr)
        results.append(result)
        server.check_running(during=phase.name)

    # The no-op runs first and last: the machine is shared, and the two show how much its speed moved.
    await measure(workload.noop(w, "first"), workload.noop(n, "first"))
    await measure(workload.create_orders(w, pets, orders), workload.create_orders(n, pets, orders))
    if orders:  # otherwise there is nothing to read or cancel; the create row's errors say why
        await measure(workload.get_orders(w, orders, key), workload.get_orders(n, orders, key))
        await measure(workload.list_orders(w, key), workload.list_orders(n, key))
        # The measured orders split in two: half paid then cancelled with a refund, half cancelled unpaid.
        paid, unpaid = orders[w : w + n // 2], orders[w + n // 2 :]
        await measure(workload.pay_orders(orders[:w], key), workload.pay_orders(paid, key))
        await measure(workload.cancel_orders(orders[:w], key, paid=True), workload.cancel_orders(unpaid, key))
        await measure(None, workload.cancel_orders(paid, key, paid=True))  # warmed up by the phase before
    await measure(workload.noop(w, "last"), workload.noop(n, "last"))


async def bench(options: Options) -> list[EngineRun]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="orderline-bench-") as scratch:
        for engine in options.engines:
            try:
                runs.append(await bench_engine(engine, options, Path(scratch)))
            except (ServerError, workload.SetupError) as exc:
                print(f"{engine}: failed — {exc}", file=sys.stderr)
                runs.append(EngineRun(engine, skipped=f"failed: {exc}"))
    return runs


def main(argv: list[str] | None = None) -> None:
    options = parse(argv)
    now = datetime.now(UTC)
    facts_table = _facts(options, now)
    runs = asyncio.run(bench(options))
    table = render("orderline benchmark", facts_table, runs)
    print(table)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / f"{now.strftime('%Y-%m-%dT%H%M%SZ')}.md").write_text(table)
    (options.out / "latest.md").write_text(table)
    print(f"written to {options.out / 'latest.md'}", file=sys.stderr)


def _facts(options: Options, now: datetime) -> list[tuple[str, str]]:
    client = f"raw asyncio HTTP/1.1 keep-alive on 127.0.0.1, same machine, {options.concurrency} connections"
    bounds = f"{options.requests} requests or {options.seconds:g} s, whichever ends first"
    return [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", facts.machine()),
        ("python", facts.python()),
        ("server", f"`orderline serve --demo`: {facts.server_stack()}, log level {options.server_log_level}"),
        ("client", f"{client}, each sending its requests one after another"),
        ("per phase", f"{bounds}, after {options.warmup} unmeasured warm-up requests"),
        ("commit", facts.commit()),
    ]
