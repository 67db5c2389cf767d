"""Run ``orderline`` with its thread hand-offs counted, for bench/counts.py — nothing in src/ changes.

    python bench/launch.py COUNTS_FILE serve --database-url … (any orderline arguments)

Before orderline is imported, it wraps, in this process only:
- ``orderline.storage.sqlite.Hops`` — every hand-off of work to a SQLite connection's thread, as
  ``SqliteDatabase.hops`` counts it (a COMMIT, a wait for another process's lock, a SELECT too slow for the loop);
- ``litestar.concurrency._run_sync_asyncio`` — every sync callable Litestar runs in its thread pool (a sync guard,
  dependency or handler);
- ``asyncio.to_thread`` and ``anyio.to_thread.run_sync`` — any other hand-off to a thread.
Each adds 1 to its int64 in COUNTS_FILE (mmap, 3 counters in that order), which the benchmark reads between
requests. All three are called on the event loop's thread, so plain increments do not race.
If BENCH_SQL_TRACE is set, every SQL statement SQLite runs (with its bound values) is appended to that file,
for the growth run's EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

import asyncio
import mmap
import os
import sqlite3
import struct
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

COUNTERS = ("SQLite thread hops", "Litestar sync_to_thread", "other to_thread")


def _counter(path: str) -> Callable[[int], None]:
    with open(path, "r+b") as file:
        memory = mmap.mmap(file.fileno(), 8 * len(COUNTERS))

    def bump(index: int) -> None:
        (value,) = struct.unpack_from("q", memory, index * 8)
        struct.pack_into("q", memory, index * 8, value + 1)

    return bump


def _counted_async(owner: Any, name: str, bump: Callable[[int], None], index: int) -> None:
    original = getattr(owner, name)

    @wraps(original)
    async def counted(*args: Any, **kwargs: Any) -> Any:
        bump(index)
        return await original(*args, **kwargs)

    setattr(owner, name, counted)


def _counted_sqlite_hops(bump: Callable[[int], None], index: int) -> None:
    """``SqliteDatabase.hops``, mirrored into the counters file: each ``count += 1`` of its Hops bumps ours."""
    from orderline.storage import sqlite

    class CountedHops(sqlite.Hops):
        @property
        def count(self) -> int:
            return self._counted

        @count.setter
        def count(self, value: int) -> None:
            for _ in range(value - getattr(self, "_counted", 0)):
                bump(index)
            self._counted = value

    sqlite.Hops = CountedHops  # type: ignore[misc]  # where SqliteDatabase looks it up (defined in sqlite_link)


def _trace_sql(path: str) -> None:
    connect = sqlite3.connect
    out = open(path, "a", buffering=1)  # noqa: SIM115 — open for the life of the process

    @wraps(connect)
    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = connect(*args, **kwargs)
        connection.set_trace_callback(lambda sql: out.write(" ".join(sql.split()) + "\n"))
        return connection

    sqlite3.connect = traced  # type: ignore[assignment]


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]  # bench/'s modules
    bump = _counter(sys.argv[1])
    import anyio.to_thread
    import litestar.concurrency

    _counted_sqlite_hops(bump, 0)
    _counted_async(litestar.concurrency, "_run_sync_asyncio", bump, 1)
    _counted_async(asyncio, "to_thread", bump, 2)
    _counted_async(anyio.to_thread, "run_sync", bump, 2)
    if trace := os.environ.get("BENCH_SQL_TRACE"):
        _trace_sql(trace)
    sys.argv = ["orderline", *sys.argv[2:]]
    from orderline.cli import main as orderline

    orderline()


if __name__ == "__main__":
    main()
