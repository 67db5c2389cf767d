"""The DRF shop's three order scenarios against any server that has its routes: ``python -m bench.drf``.

    .venv/bin/python -m bench.drf --url http://127.0.0.1:8765 --auth "Bearer $(cat /tmp/drfshop/token)"

Measures, with the same wrk harness as ``python -m bench``: an order's detail (``GET /api/v1/i/orders/{id}/``),
the list of 10 with lines (``GET /api/v1/i/orders/``, the shop's PAGE_SIZE) and erase (``DELETE …/{id}/``, each
order once). The order ids are read from the list itself, so any seeded shop (bench/drf_shop/setup.sh) or
orderline's DRF dialect can be measured. `python -m bench --drf-url … --drf-auth …` runs the same beside
orderline in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from urllib.parse import urlsplit

from bench import scenarios, wrkgen
from bench.client import Connection, encode_request
from bench.scenarios import DRF_ORDERS, Load
from bench.wrkgen import Figure

PAGE = 100


async def order_ids(base: str, auth: str, most: int = 100_000) -> list[str]:
    """Every order id the caller's list shows (newest first), paging with limit/offset."""
    parts = urlsplit(base)
    connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
    ids: list[str] = []
    try:
        while len(ids) < most:
            request = encode_request("GET", f"{DRF_ORDERS}?limit={PAGE}&offset={len(ids)}", authorization=auth)
            response = await connection.send(request)
            if response.status != 200:
                raise RuntimeError(f"GET {DRF_ORDERS} answered {response.status}: {response.body[:300]!r}")
            page = json.loads(response.body)["results"]
            ids += [str(order["id"]) for order in page]
            if len(page) < PAGE:
                break
    finally:
        await connection.close()
    return ids


async def measure_shop(base: str, auth: str, load: Load, prefix: str = "") -> list[Figure]:
    ids = await order_ids(base, auth)
    if not ids:
        raise RuntimeError("the caller has no orders to read or erase; seed some first")
    figures = [
        await scenarios.measure(base, scenarios.drf_detail(ids, auth, prefix), load),
        await scenarios.measure(base, scenarios.drf_list10(auth, prefix), load),
        await scenarios.measure(base, scenarios.drf_erase(ids, auth, prefix), load),
    ]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.drf", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8765")
    parser.add_argument("--auth", required=True, help='the Authorization header value, e.g. "Bearer eyJ…"')
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured reads first")
    options = parser.parse_args()
    load = Load(options.connections, options.seconds, options.warmup, wrkgen.available() is not None)
    figures = asyncio.run(measure_shop(options.url.rstrip("/"), options.auth, load))
    print(f"generator: {load.generator}, {options.connections} connections\n")
    print("| scenario | ok | errors | req/s | p50 ms | p99 ms | p99/p50 |\n|---|---:|---|---:|---:|---:|---:|")
    for f in figures:
        errors = sum(f.errors.values())
        print(f"| {f.name} | {f.ok} | {errors} | {f.rate:,.0f} | {f.p50_ms:.1f} | {f.p99_ms:.1f} | {f.tail:.1f} |")


if __name__ == "__main__":
    main()
