"""Data growth: every list filter at 10k and at 1M orders, seeded by SQL, with the query plans.

    .venv/bin/python -m bench.growth                       # both engines, 10,000 and 1,000,000 orders
    .venv/bin/python -m bench.growth --engines sqlite --sizes 10000,100000

For each engine and size: a fresh database (SQLite: a file; PostgreSQL: ``orderline_bench_growth_<size>``), migrated
by ``orderline serve --demo``, then orders written straight into it by SQL — ``INSERT … SELECT generate_series`` on
PostgreSQL, a recursive CTE on SQLite, no Python per row and nothing through the API. One order in ten is the
benchmark's customer's (own); the rest belong to 1,000 other customers. Statuses: DELIVERED 88 %, CANCELLED 10 %,
PLACED 1.9 %, SHIPPED 0.1 % (the rare one). ``created_at`` rises with ``seq`` over the last 365 days. Each order has
one line. PostgreSQL is then VACUUM ANALYZEd (autovacuum would do it soon after such a load); SQLite is not: orderline's
own `PRAGMA optimize` runs after migrations and at close, so the served process has no statistics for the orders
seeded under it, and its plans must not need them (ADR 0036).

Both sizes of an engine are served at once (one ``orderline serve`` each), and every filter combination is requested
one at a time, alternating between the sizes (3 unmeasured rounds, then 20 measured), over HTTP; the median latency
is reported. Alternating makes the machine's load at any moment weigh on both sizes alike, so the ratio — the target
of issue 11 is 1M within 1.3 times 10k — holds on a busy machine. The statements each one ran are captured (SQLite:
the trace callback, with the bound values, via bench/launch.py; PostgreSQL: the Parse and Bind messages seen by
bench/counts.py's proxy) and their plans written out: SQLite ``EXPLAIN QUERY PLAN`` of the exact statement;
PostgreSQL ``EXPLAIN`` of the prepared statement with ``plan_cache_mode = force_generic_plan`` (the plan does not
depend on the values; PostgreSQL 15 has no ``EXPLAIN (GENERIC_PLAN)``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg

from bench import facts
from bench.client import Connection, encode_request
from bench.counts import LAUNCHER, Hops, Proxy
from bench.server import Server, create_admin_key, create_user, orderline

RESULTS = Path(__file__).resolve().parent / "results"
DATABASE = "orderline_bench_growth"
USER, PASSWORD = "growthuser", "growth-password-0123"
SPAN = timedelta(days=365)
WARMUP, MEASURED = 3, 20


@dataclass(frozen=True)
class Combination:
    name: str
    admin: bool
    query: str  # without limit; {user} and {cursor} are filled in


def combinations(start: datetime) -> list[Combination]:
    def at(share: float) -> str:
        return (start + SPAN * share).strftime("%Y-%m-%dT%H:%M:%SZ")

    after, before = f"createdAfter={at(0.5)}", f"createdBefore={at(0.1)}"
    window = f"createdAfter={at(0.4)}&createdBefore={at(0.41)}"
    rows = [
        ("no filter", ""),
        ("status PLACED", "status=PLACED"),
        ("status SHIPPED (rare)", "status=SHIPPED"),
        ("createdAfter (newest half)", after),
        ("createdBefore (oldest tenth)", before),
        ("createdAfter + createdBefore (1 % window)", window),
        ("status SHIPPED + createdBefore", f"status=SHIPPED&{before}"),
        ("cursor mid-way", "cursor={cursor}"),
    ]
    found = [Combination(f"own: {name}", False, query) for name, query in rows]
    found += [Combination(f"admin: {name}", True, query) for name, query in rows]
    found += [
        Combination("admin: userId", True, "userId={user}"),
        Combination("admin: userId + status PLACED", True, "userId={user}&status=PLACED"),
        Combination("admin: userId + createdBefore", True, f"userId={{user}}&{before}"),
    ]
    return found


@dataclass
class Timing:
    median_ms: float
    plans: list[str] = field(default_factory=list)
    orders: int = 0  # in the page answered: where the two sizes differ, so does the work


async def _fresh(engine: str, base_url: str, scratch: Path, size: int) -> str:
    if engine == "sqlite":
        return f"sqlite:///{(scratch / f'growth-{size}.db').resolve()}"
    database = f"{DATABASE}_{size}"
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{database}"))
    await orderline("migrate", "--database-url", url)
    return url


PG_SEED = """
INSERT INTO orders (id, seq, customer_id, currency, subtotal_minor, discount_minor, total_minor, status, version,
                    created_at, updated_at, payment_status, captured_minor, refunded_minor)
SELECT gen_random_uuid(), nextval('order_seq'),
       CASE WHEN i % 10 = 0 THEN $1::uuid ELSE md5('customer' || (i % 1000))::uuid END,
       'USD', 1000, 0, 1000,
       CASE WHEN i % 1000 = 7 THEN 'SHIPPED' WHEN i % 100 < 2 AND i % 1000 <> 7 THEN 'PLACED'
            WHEN i % 10 = 5 THEN 'CANCELLED' ELSE 'DELIVERED' END,
       1, $2::timestamptz + (i::float8 / $3) * interval '365 days',
       $2::timestamptz + (i::float8 / $3) * interval '365 days', 'UNPAID', 0, 0
FROM generate_series(1, $3) AS i
"""
PG_LINES = """
INSERT INTO order_lines (order_id, line_no, pet_id, name, unit_price_minor, quantity)
SELECT id, 1, $1::uuid, 'Bench pet', 1000, 1 FROM orders
"""

SQLITE_SEED = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :size)
INSERT INTO orders (id, seq, customer_id, currency, subtotal_minor, discount_minor, total_minor, status, version,
                    created_at, updated_at, payment_status, captured_minor, refunded_minor)
SELECT lower(hex(randomblob(16))), :base + i,
       CASE WHEN i % 10 = 0 THEN :user ELSE substr(lower(hex(randomblob(16))), 1, 28) || printf('%04d', i % 1000) END,
       'USD', 1000, 0, 1000,
       CASE WHEN i % 1000 = 7 THEN 'SHIPPED' WHEN i % 100 < 2 AND i % 1000 <> 7 THEN 'PLACED'
            WHEN i % 10 = 5 THEN 'CANCELLED' ELSE 'DELIVERED' END,
       1,
       strftime('%Y-%m-%d %H:%M:%S', :start + (i * 31536.0 * 1000 / :size), 'unixepoch') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', :start + (i * 31536.0 * 1000 / :size), 'unixepoch') || '.000000',
       'UNPAID', 0, 0
FROM n
"""
SQLITE_LINES = """
INSERT INTO order_lines (order_id, line_no, pet_id, name, unit_price_minor, quantity)
SELECT id, 1, :pet, 'Bench pet', 1000, 1 FROM orders
"""


async def _seed(url: str, size: int, start: datetime, username: str) -> tuple[str, float]:
    """Write ``size`` orders by SQL; the customer's id and the seconds it took."""
    began = time.perf_counter()
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            user = db.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()[0]
            pet = db.execute("SELECT id FROM pets LIMIT 1").fetchone()[0]
            base = db.execute("SELECT COALESCE(MAX(seq), 0) FROM orders").fetchone()[0]
            db.execute(SQLITE_SEED, {"size": size, "base": base, "user": user, "start": int(start.timestamp())})
            db.execute(SQLITE_LINES, {"pet": pet})
        return str(UUID(hex=user)), time.perf_counter() - began
    postgres = await asyncpg.connect(url)
    try:
        user_id = await postgres.fetchval("SELECT id FROM users WHERE username = $1", username)
        pet_id = await postgres.fetchval("SELECT id FROM pets LIMIT 1")
        await postgres.execute(PG_SEED, user_id, start, size)
        await postgres.execute(PG_LINES, pet_id)
        # What autovacuum does soon after such a load (statistics, the visibility map); done now, so it does not
        # run in the middle of the measurement instead.
        await postgres.execute("VACUUM ANALYZE")
    finally:
        await postgres.close()
    return str(user_id), time.perf_counter() - began


def _mid_cursor(first_page: bytes, size: int) -> str:
    """The first page's cursor with the seq of the middle order: a page half-way down the list."""
    cursor = json.loads(first_page)["nextCursor"]
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw["v"] = max(2, int(raw["v"]) - size // 2)
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).rstrip(b"=").decode()


@dataclass
class Served:
    """One size of one engine, seeded and served: what its requests need."""

    size: int
    url: str
    trace: Path
    proxy: Proxy | None
    connection: Connection
    key: str = ""
    token: str = ""
    user_id: str = ""
    cursors: tuple[str, str] = ("", "")  # admin, own
    seeded: float = 0.0


async def start_server(
    stack: AsyncExitStack, engine: str, url: str, scratch: Path, label: str
) -> tuple[Path, Proxy | None, Connection]:
    """``orderline serve`` on ``url`` for as long as ``stack``: its SQL trace, PostgreSQL's counting proxy (None on
    SQLite) and a client connection. ``label`` names its files in ``scratch``."""
    proxy: Proxy | None = None
    trace = scratch / f"{label}-{engine}.sql"
    trace.write_text("")
    if engine == "postgres":
        parts = urlsplit(url)
        proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        await proxy.start()
        stack.push_async_callback(proxy.stop)
    hops = Hops(scratch / f"{label}-hops.bin")
    server = await stack.enter_async_context(
        Server(
            url, scratch / f"{label}-{engine}.log", "warning", launcher=[LAUNCHER, str(hops.path)],
            database_port=proxy.port if proxy else None, env={"BENCH_SQL_TRACE": str(trace)},
            serve_args=["--no-worker"] if engine == "sqlite" else [],
        )
    )  # fmt: skip
    connection = Connection("127.0.0.1", server.port)
    stack.push_async_callback(connection.close)
    return trace, proxy, connection


async def _serve(
    stack: AsyncExitStack, engine: str, base_url: str, scratch: Path, size: int, start: datetime
) -> Served:
    url = await _fresh(engine, base_url, scratch, size)
    trace, proxy, connection = await start_server(stack, engine, url, scratch, f"growth-{size}")
    served = Served(size, url, trace, proxy, connection, key=await create_admin_key(url))
    await create_user(url, USER, PASSWORD)
    served.user_id, served.seeded = await _seed(url, size, start, USER)
    print(f"  {engine} {size:,} orders seeded in {served.seeded:.1f} s", file=sys.stderr)
    login = json.dumps({"username": USER, "password": PASSWORD}).encode()
    answer = await connection.send(encode_request("POST", "/api/v1/auth/token/", body=login))
    served.token = json.loads(answer.body)["access"]
    first = await connection.send(encode_request("GET", "/v1/admin/orders?limit=20", token=served.key))
    own_first = await connection.send(encode_request("GET", "/v1/orders?limit=20", token=served.token))
    served.cursors = (_mid_cursor(first.body, size), _mid_cursor(own_first.body, size))
    return served


async def run_engine(
    engine: str, base_url: str, scratch: Path, sizes: list[int]
) -> dict[int, tuple[dict[str, Timing], float]]:
    """Every size served at once, and each combination's requests alternated between them, so the machine's
    load at any moment weighs on every size alike (the ratio is what issue 11 asks for)."""
    start = datetime.now(UTC) - SPAN - timedelta(days=1)
    async with AsyncExitStack() as stack:
        served = [await _serve(stack, engine, base_url, scratch, size, start) for size in sizes]
        for one in served:  # idle through the next size's seeding: the server has closed it (keep-alive timeout)
            await one.connection.close()
        timings: dict[int, dict[str, Timing]] = {size: {} for size in sizes}
        for combo in combinations(start):
            requests = [_request(combo, one) for one in served]
            latencies: list[list[float]] = [[] for _ in served]
            statements: list[list[str]] = [[] for _ in served]
            counted = [0 for _ in served]
            for attempt in range(WARMUP + MEASURED):
                for index, one in enumerate(served):
                    mark = _mark(one.trace, one.proxy)
                    elapsed, counted[index] = await _timed(one.connection, requests[index])
                    if attempt >= WARMUP:
                        latencies[index].append(elapsed * 1000)
                    if attempt == WARMUP:
                        statements[index] = _statements(one.trace, mark, one.proxy)
            for index, one in enumerate(served):
                plans = await _plans(one.url, statements[index])
                timings[one.size][combo.name] = Timing(statistics.median(latencies[index]), plans, counted[index])
    return {one.size: (timings[one.size], one.seeded) for one in served}


def _request(combo: Combination, one: Served) -> bytes:
    cursor = one.cursors[0] if combo.admin else one.cursors[1]
    query = combo.query.format(user=one.user_id, cursor=cursor)
    path = ("/v1/admin/orders" if combo.admin else "/v1/orders") + "?limit=20" + (f"&{query}" if query else "")
    return encode_request("GET", path, token=one.key if combo.admin else one.token)


async def _timed(connection: Connection, request: bytes) -> tuple[float, int]:
    """Seconds to the whole answer, and the orders in its page."""
    began = time.perf_counter()
    response = await connection.send(request)
    elapsed = time.perf_counter() - began
    if response.status != 200:
        raise RuntimeError(f"{request[:200]!r}: {response.status} {response.body[:300]!r}")
    return elapsed, len(json.loads(response.body)["data"])


def _mark(trace: Path, proxy: Proxy | None) -> tuple[int, int]:
    """Where the statements of the next request will start: in the SQLite trace, in the proxy's binds."""
    return os.path.getsize(trace), len(proxy.bound) if proxy else 0


def _statements(trace: Path, mark: tuple[int, int], proxy: Proxy | None) -> list[str]:
    """The statements on orders that one request ran."""
    if proxy is not None:
        found = [proxy.prepared.get(name, "") for name in proxy.bound[mark[1] :]]
    else:
        with trace.open() as file:
            file.seek(mark[0])
            found = file.read().splitlines()
    return list(dict.fromkeys(s for s in found if " FROM orders" in s or " from orders" in s))


async def _plans(url: str, statements: list[str]) -> list[str]:
    plans = []
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            for sql in statements:
                rows = db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
                plans.append(sql + "\n" + "\n".join(f"  {row[-1]}" for row in rows))
        return plans
    postgres = await asyncpg.connect(url)
    try:
        await postgres.execute("SET plan_cache_mode = force_generic_plan")
        for number, sql in enumerate(statements):
            params = max((int(p) for p in _placeholders(sql)), default=0)
            await postgres.execute(f"PREPARE bench_{number} AS {sql}")
            args = ", ".join(["NULL"] * params)
            rows = await postgres.fetch(f"EXPLAIN EXECUTE bench_{number}" + (f"({args})" if params else ""))
            plans.append(sql + "\n" + "\n".join(f"  {row[0]}" for row in rows))
    finally:
        await postgres.close()
    return plans


def _placeholders(sql: str) -> list[str]:
    return re.findall(r"\$(\d+)", sql)


def render(engine: str, sizes: list[int], runs: dict[int, tuple[dict[str, Timing], float]]) -> list[str]:
    small, large = sizes[0], sizes[-1]
    lines = [f"## {engine}", ""]
    lines += [f"Seeded by SQL: {', '.join(f'{s:,} orders in {runs[s][1]:.1f} s' for s in sizes)}.", ""]
    lines += [
        f"| list | orders in the page | {small:,} ms | {large:,} ms | {large:,} ÷ {small:,} | ≤ 1.3 |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, timing in runs[small][0].items():
        big = runs[large][0][name]
        ratio = big.median_ms / timing.median_ms if timing.median_ms else float("nan")
        lines.append(
            f"| {name} | {timing.orders} / {big.orders} | {timing.median_ms:.1f} | {big.median_ms:.1f} | {ratio:.2f} "
            f"| {'yes' if ratio <= 1.3 else 'no'} |"
        )
    for size in sizes:
        lines += ["", f"### Query plans at {size:,} orders", ""]
        for name, timing in runs[size][0].items():
            lines += [f"**{name}**", "", "```", *(timing.plans or ["(no statement on orders captured)"]), "```", ""]
    return lines


async def main_async(engines: list[str], sizes: list[int], postgres_url: str, now: datetime) -> str:
    lines = [
        "# orderline list filters at growing data",
        "",
        f"{now:%Y-%m-%d %H:%M UTC}; {facts.machine()}; {facts.load()}; commit {facts.commit()}.",
        f"Median of {MEASURED} sequential requests (after {WARMUP} unmeasured), `limit=20`, over HTTP.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="orderline-growth-") as scratch:
        for engine in engines:
            lines += render(engine, sizes, await run_engine(engine, postgres_url, Path(scratch), sizes))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--postgres-url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    engines = [e for e in options.engines.split(",") if e]
    sizes = sorted(int(s) for s in options.sizes.split(","))
    now = datetime.now(UTC)
    table = asyncio.run(main_async(engines, sizes, options.postgres_url, now))
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / f"growth-{now:%Y-%m-%dT%H%M%SZ}.md").write_text(table)
    (options.out / "growth-latest.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
