"""The bounded load generator: N connections send a phase's requests, and what came back becomes a Result."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from bench.client import Connection, ProtocolError, Response

# One request that takes longer than this is counted as an error, so a stuck server cannot hang a phase.
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Phase:
    """One measured endpoint: the exact requests to send and the status each should get."""

    name: str
    requests: Sequence[bytes]
    expected: int
    # Called with each expected response, e.g. to collect the ids of created orders.
    on_ok: Callable[[Response], None] | None = None


@dataclass
class Result:
    name: str
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0  # this process's CPU time: shows whether the client itself was the limit
    latencies_ns: list[int] = field(default_factory=list)

    @property
    def client_cpu_share(self) -> float:
        """The client's CPU time over wall-clock time: 1.0 means it kept one core busy."""
        return self.client_cpu_s / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def rate(self) -> float:
        """Expected responses per second of wall-clock time."""
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile of the expected responses' latencies."""
        if not self.latencies_ns:
            return math.nan
        ordered = sorted(self.latencies_ns)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1] / 1e6


async def drive(port: int, phase: Phase, concurrency: int, max_seconds: float) -> Result:
    """Send the phase's requests over ``concurrency`` connections until all are sent or time is up."""
    result = Result(phase.name)
    indices = itertools.count()  # shared by the workers; next() never yields to the event loop
    deadline = time.perf_counter() + max_seconds
    started, cpu = time.perf_counter(), time.process_time()
    workers = [_worker(port, phase, indices, deadline, result) for _ in range(concurrency)]
    await asyncio.gather(*workers)
    result.elapsed_s = time.perf_counter() - started
    result.client_cpu_s = time.process_time() - cpu
    return result


async def _worker(port: int, phase: Phase, indices: Iterator[int], deadline: float, result: Result) -> None:
    connection = Connection("127.0.0.1", port)
    try:
        for index in indices:
            if index >= len(phase.requests) or time.perf_counter() >= deadline:
                return
            await _one(connection, phase, phase.requests[index], result)
    finally:
        await connection.close()


async def _one(connection: Connection, phase: Phase, request: bytes, result: Result) -> None:
    began = time.perf_counter_ns()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            response = await connection.send(request)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ProtocolError) as exc:
        # The connection's state is unknown after a failure; start the next request on a fresh one.
        await connection.close()
        result.errors[type(exc).__name__] += 1
        return
    latency = time.perf_counter_ns() - began
    if response.status != phase.expected:
        result.errors[str(response.status)] += 1
        return
    result.ok += 1
    result.latencies_ns.append(latency)
    if phase.on_ok is not None:
        phase.on_ok(response)
