"""What observing a request costs (its metrics, its access line), measured in process: ``python -m bench.observe``.

The observation the front (http/front.py) makes of every request — ``access_log.observe``: the metrics and
the access line — around an ASGI app that answers 200 at once, driven through its ASGI callable directly (no
server, no HTTP client, no thread hand-offs), so what is measured is the observation alone. Variants run
interleaved; the median of the runs is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

from orderline import logs
from orderline.http.access_log import observe
from orderline.http.metrics import Metrics

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/v1/orders/019b4139-1234-7abc-8def-123456789abc",
    "raw_path": b"/v1/orders/019b4139-1234-7abc-8def-123456789abc",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"bench")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}
START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
BODY = {"type": "http.response.body", "body": b"{}", "more_body": False}


async def answer(scope: Any, _receive: Any, send: Any) -> None:
    """A routed request's app, as small as one gets: the router's path template, then a 200."""
    scope["path_template"] = "/v1/orders/{order_id}"
    await send(dict(START))
    await send(dict(BODY))


def observed(app: Any, metrics: Metrics) -> Any:
    """``app`` timed and observed as the front does it (its other work, headers and the request id, left out)."""

    async def front(scope: Any, receive: Any, send: Any) -> None:
        start = time.perf_counter()
        status = 0

        async def noting(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await app(scope, receive, noting)
        observe(metrics, scope, scope["path"], status, time.perf_counter() - start)

    return front


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_message: Any) -> None:
    return None


async def _requests(app: Any, count: int) -> float:
    """Seconds per request over ``count`` requests, one after another."""
    start = time.perf_counter()
    for _ in range(count):
        await app({**SCOPE, "state": {}}, _receive, _send)
    return (time.perf_counter() - start) / count


@contextlib.contextmanager
def _logging(level: str) -> Iterator[None]:
    """Log as `serve` does with JSON, into /dev/null: rendering and writing the line stay in the cost."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        logs.configure(level, "json")
        yield


async def measure(requests: int, runs: int) -> dict[str, float]:
    """Median microseconds per request of each variant."""
    observing = observed(answer, Metrics())
    variants: dict[str, tuple[Any, str]] = {
        "not observed": (answer, "warning"),
        "metrics (access line filtered out)": (observing, "warning"),
        "metrics and the JSON access line": (observing, "info"),
    }
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (app, level) in variants.items():
            with _logging(level):
                await _requests(app, requests // 10)  # warm-up
                timings[name].append(await _requests(app, requests))
    return {name: statistics.median(seconds) * 1e6 for name, seconds in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="measured requests per run and variant")
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    results = asyncio.run(measure(options.requests, options.runs))
    bare = results["not observed"]
    print(f"{options.requests} requests x {options.runs} runs, median\n")
    print("| variant | µs/request | added by observing |\n|---|---|---|")
    for name, micros in results.items():
        print(f"| {name} | {micros:.1f} | {micros - bare:+.1f} |")


if __name__ == "__main__":
    main()
