"""wrk as the load generator: a scenario's requests go to a file, bench/wrk/scenario.lua sends them.

wrk (C, epoll) costs the server's two cores far less than a Python client; when it is not installed, the
benchmark falls back to bench/loadgen.py and says so in the table.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "wrk" / "scenario.lua"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    authorization: str = ""  # the whole header value, e.g. "Bearer …"
    body: str = ""  # JSON, one line


@dataclass
class Figure:
    """One measured scenario, whichever generator measured it."""

    name: str
    ok: int = 0
    rate: float = 0.0  # ok responses per second
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    errors: Counter[str] = field(default_factory=Counter)
    generator: str = "wrk"
    note: str = ""  # e.g. "ran out of orders after 2.1 s"

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("nan")


def available() -> str | None:
    return shutil.which("wrk")


async def run(
    name: str,
    url: str,
    requests: Sequence[Request],
    *,
    expected: int,
    once: bool,
    seconds: float,
    connections: int,
    threads: int = 1,
) -> Figure:
    """wrk for ``seconds`` (or, ``once``, until every request has been sent once) on ``connections``."""
    wrk = available()
    assert wrk is not None
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", prefix="bench-wrk-", delete=False) as file:
        for request in requests:
            file.write(f"{request.method}\t{request.path}\t{request.authorization}\t{request.body}\n")
    try:
        process = await asyncio.create_subprocess_exec(
            wrk, "-t", str(threads), "-c", str(max(connections, threads)), "-d", f"{seconds:g}s",
            "--timeout", "10s", "-s", str(SCRIPT), url,
            "--", file.name, "once" if once else "cycle", str(expected), str(threads),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
    finally:
        os.unlink(file.name)
    line = next((row for row in out.decode().splitlines() if row.startswith("BENCH ")), None)
    if process.returncode != 0 or line is None:
        return Figure(name, errors=Counter({f"wrk failed: {err.decode().strip()[:200]}": 1}))
    data = json.loads(line.removeprefix("BENCH "))
    errors: Counter[str] = Counter()
    for counts in data["errors"]:
        errors.update({str(status): count for status, count in counts.items()})
    if data["socket_errors"]:
        errors["socket"] += data["socket_errors"]
    if data["timeouts"]:
        errors["timeout"] += data["timeouts"]
    note = "each order once; ran out before the time cap" if once and data["exhausted"] else ""
    return Figure(name, data["ok"], data["rate"], data["p50_us"] / 1000, data["p99_us"] / 1000, errors, "wrk", note)
