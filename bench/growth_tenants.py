"""A small tenant's lists beside a large one (issue 13): 100 orders alone, and 100 orders beside a tenant of 1M.

    .venv/bin/python -m bench.growth_tenants                          # both engines, beside 1,000,000 orders
    .venv/bin/python -m bench.growth_tenants --engines sqlite --orders 50000

Two databases per engine, seeded by SQL as bench.growth seeds (its statuses, dates and one line per order): in
"alone" the small tenant's 100 orders are all there is; in "beside" a large tenant's ``--orders`` are written
first, then the same 100. Both are served at once and every admin list filter of bench.growth is requested by a
key bound to the small tenant (``orderline keys create --tenant``), alternating between the two databases (3
unmeasured rounds, then 20 measured); the table gives the medians, their ratio, and the plans of the statements
each request ran. Every index a list uses leads with the tenant (ADR 0040), so the ratio should stay near 1.

PostgreSQL plans as it chooses by default. ``--plans generic`` makes the served databases plan every statement
generically (``plan_cache_mode = force_generic_plan``): asyncpg prepares each statement, and PostgreSQL may keep
a generic plan after its fifth run when that plan's estimated cost is no higher than the custom plans' — the
worst case of what it may choose, though forcing it also shows generic plans it would never choose (see
docs/performance.md). The plans printed are the generic ones either way.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg

from bench import facts
from bench.client import encode_request
from bench.growth import (
    MEASURED,
    PG_SEED,
    RESULTS,
    SPAN,
    SQLITE_SEED,
    WARMUP,
    Combination,
    Served,
    Timing,
    _fresh,
    _mark,
    _mid_cursor,
    _plans,
    _statements,
    _timed,
    combinations,
    start_server,
)
from bench.server import environment as server_environment
from bench.server import orderline

SMALL = UUID("0190f5c2-7d3e-7a1b-8c2d-000000000100")  # the tenant of 100 orders
LARGE = UUID("0190f5c2-7d3e-7a1b-8c2d-0000000f4240")  # the tenant of many
SMALL_ORDERS = 100
CUSTOMER = UUID("00000000-0000-4000-8000-00000000c0de")  # the small tenant's customer for the userId filters

# bench.growth's seeds, each order written in the tenant named by the last parameter.
PG_TENANT_SEED = PG_SEED.replace("refunded_minor)", "refunded_minor, tenant_id)").replace(
    "'UNPAID', 0, 0\nFROM", "'UNPAID', 0, 0, $4::uuid\nFROM"
)
PG_TENANT_LINES = """
INSERT INTO order_lines (order_id, line_no, pet_id, name, unit_price_minor, quantity)
SELECT id, 1, $1::uuid, 'Bench pet', 1000, 1 FROM orders WHERE tenant_id = $2::uuid
"""
SQLITE_TENANT_SEED = SQLITE_SEED.replace("refunded_minor)", "refunded_minor, tenant_id)").replace(
    "'UNPAID', 0, 0\nFROM", "'UNPAID', 0, 0, :tenant\nFROM"
)
SQLITE_TENANT_LINES = """
INSERT INTO order_lines (order_id, line_no, pet_id, name, unit_price_minor, quantity)
SELECT id, 1, :pet, 'Bench pet', 1000, 1 FROM orders WHERE tenant_id = :tenant
"""


async def _seed(url: str, tenants: list[tuple[UUID, int]], start: datetime) -> float:
    """Write each tenant's orders in turn (the large one first); the seconds it took."""
    began = time.perf_counter()
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            pet = db.execute("SELECT id FROM pets LIMIT 1").fetchone()[0]
            for tenant, size in tenants:
                base = db.execute("SELECT COALESCE(MAX(seq), 0) FROM orders").fetchone()[0]
                values = {"size": size, "base": base, "user": CUSTOMER.hex, "start": int(start.timestamp())}
                db.execute(SQLITE_TENANT_SEED, {**values, "tenant": tenant.hex})
                db.execute(SQLITE_TENANT_LINES, {"pet": pet, "tenant": tenant.hex})
        return time.perf_counter() - began
    postgres = await asyncpg.connect(url)
    try:
        pet = await postgres.fetchval("SELECT id FROM pets LIMIT 1")
        for tenant, size in tenants:
            await postgres.execute(PG_TENANT_SEED, CUSTOMER, start, size, tenant)
            await postgres.execute(PG_TENANT_LINES, pet, tenant)
        await postgres.execute("VACUUM ANALYZE")
    finally:
        await postgres.close()
    return time.perf_counter() - began


async def _bound_key(url: str) -> str:
    out = await orderline(
        "keys", "create", "--scopes", "admin", "--tenant", str(SMALL), "--database-url", url,
        env=server_environment(url),
    )  # fmt: skip
    return out.strip().splitlines()[-1]


async def _plan_generically(url: str) -> None:
    """Every later session of the database at ``url`` plans its statements without their parameters' values."""
    postgres = await asyncpg.connect(url)
    try:
        database = await postgres.fetchval("SELECT current_database()")
        await postgres.execute(f'ALTER DATABASE "{database}" SET plan_cache_mode = force_generic_plan')
    finally:
        await postgres.close()


async def _serve(
    stack: AsyncExitStack, engine: str, base_url: str, scratch: Path, large: int, start: datetime, generic: bool
) -> Served:
    """One database: the small tenant alone (``large`` 0) or beside a tenant of ``large`` orders."""
    url = await _fresh(engine, base_url, scratch, SMALL_ORDERS + large)
    if generic and engine != "sqlite":
        await _plan_generically(url)
    trace, proxy, connection = await start_server(stack, engine, url, scratch, f"tenants-{large}")
    served = Served(large, url, trace, proxy, connection, key=await _bound_key(url), user_id=str(CUSTOMER))
    tenants = [(LARGE, large)] if large else []
    served.seeded = await _seed(url, [*tenants, (SMALL, SMALL_ORDERS)], start)
    print(f"  {engine}: {SMALL_ORDERS} orders beside {large:,} seeded in {served.seeded:.1f} s", file=sys.stderr)
    first = await connection.send(encode_request("GET", "/v1/admin/orders?limit=20", token=served.key))
    served.cursors = (_mid_cursor(first.body, SMALL_ORDERS), "")
    await connection.close()  # idle through the other database's seeding
    return served


def _request(combo: Combination, one: Served) -> bytes:
    query = combo.query.format(user=one.user_id, cursor=one.cursors[0])
    return encode_request("GET", "/v1/admin/orders?limit=20" + (f"&{query}" if query else ""), token=one.key)


async def run_engine(
    engine: str, base_url: str, scratch: Path, large: int, generic: bool
) -> dict[int, dict[str, Timing]]:
    start = datetime.now(UTC) - SPAN - timedelta(days=1)
    async with AsyncExitStack() as stack:
        served = [await _serve(stack, engine, base_url, scratch, size, start, generic) for size in (0, large)]
        timings: dict[int, dict[str, Timing]] = {0: {}, large: {}}
        for combo in [combo for combo in combinations(start) if combo.admin]:
            latencies: list[list[float]] = [[], []]
            statements: list[list[str]] = [[], []]
            for attempt in range(WARMUP + MEASURED):
                for index, one in enumerate(served):
                    mark = _mark(one.trace, one.proxy)
                    elapsed, _ = await _timed(one.connection, _request(combo, one))
                    if attempt >= WARMUP:
                        latencies[index].append(elapsed * 1000)
                    if attempt == WARMUP:
                        statements[index] = _statements(one.trace, mark, one.proxy)
            for index, one in enumerate(served):
                plans = await _plans(one.url, statements[index])
                timings[one.size][combo.name] = Timing(statistics.median(latencies[index]), plans)
    return timings


def render(engine: str, large: int, timings: dict[int, dict[str, Timing]]) -> list[str]:
    lines = [
        f"## {engine}",
        "",
        f"| list of the {SMALL_ORDERS}-order tenant | alone ms | beside {large:,} ms | ratio |",
    ]
    lines.append("|---|---:|---:|---:|")
    for name, alone in timings[0].items():
        beside = timings[large][name].median_ms
        ratio = beside / alone.median_ms if alone.median_ms else float("nan")
        lines.append(f"| {name.removeprefix('admin: ')} | {alone.median_ms:.1f} | {beside:.1f} | {ratio:.2f} |")
    lines += ["", f"### Query plans beside {large:,} orders", ""]
    for name, timing in timings[large].items():
        lines += [f"**{name}**", "", "```", *(timing.plans or ["(no statement on orders captured)"]), "```", ""]
    return lines


async def main_async(engines: list[str], large: int, postgres_url: str, now: datetime, generic: bool) -> str:
    lines = [
        "# A small tenant's lists beside a large tenant",
        "",
        f"{now:%Y-%m-%d %H:%M UTC}; {facts.machine()}; {facts.load()}; commit {facts.commit()}.",
        f"Median of {MEASURED} sequential requests (after {WARMUP} unmeasured), `limit=20`, over HTTP, by a key "
        f"bound to the small tenant. PostgreSQL plans "
        + ("generically (`plan_cache_mode = force_generic_plan`)." if generic else "as it chooses (`--plans auto`)."),
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="orderline-tenants-") as scratch:
        for engine in engines:
            lines += render(engine, large, await run_engine(engine, postgres_url, Path(scratch), large, generic))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.growth_tenants", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--orders", type=int, default=1_000_000, help="the large tenant's orders")
    parser.add_argument("--postgres-url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--plans", choices=["generic", "auto"], default="auto", help="PostgreSQL's plan cache mode")
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    now = datetime.now(UTC)
    engines = [e for e in options.engines.split(",") if e]
    table = asyncio.run(main_async(engines, options.orders, options.postgres_url, now, options.plans == "generic"))
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / f"growth-tenants-{now:%Y-%m-%dT%H%M%SZ}.md").write_text(table)
    (options.out / "growth-tenants-latest.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
