"""What writing the outbox costs a create and a cancel, measured in process: ``python -m bench.outbox``.

Two wirings of the same use cases share one database: one writes each change's events to the outbox before
COMMIT, as `serve` does; the other (``build(outbox=False)``, for this benchmark only) writes none. They run
interleaved, round after round — place N orders, then cancel them — each call awaited before the next, so the
numbers are the latency one request's transaction adds, with no HTTP, no server and no client in them. The
difference of two end-to-end latencies is at the mercy of a shared machine's noise, so the time spent inside
the outbox's two steps (making the events, the INSERT) is also timed directly. The median of the rounds is
reported, per engine, and the table is written to bench/results/outbox-latest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg

from bench import facts
from orderline import logs
from orderline.application.audit import AuditEntry
from orderline.application.catalogue import PetDraft
from orderline.application.events import OutboxEvents
from orderline.application.orders import CancelOrder, LineRequest, PlaceOrder
from orderline.application.ports import EventRecord, Sighted
from orderline.application.principal import SYSTEM, Principal, PrincipalKind, Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.domain.money import Money
from orderline.domain.pet import PetProfile, Species
from orderline.storage.database import DatabaseUrl
from orderline.storage.migrate import upgrade_async
from orderline.storage.outbox import SqlOutboxRepository

RESULTS = Path(__file__).resolve().parent / "results"
DATABASE = "orderline_bench_outbox"  # its own, so it never meets another benchmark's database
CLERK = Principal(PrincipalKind.API_KEY, uuid4(), frozenset({Scope.READ_ORDERS, Scope.WRITE_ORDERS}))
PETS = 8
JWT_SECRET = "bench-jwt-secret-for-postgresql-at-least-32-bytes"  # PostgreSQL keeps no key file beside it
GATEWAY_SECRET = "whsec_" + "A" * 44
VARIANTS = ("without the outbox", "with the outbox")


@dataclass(slots=True)
class Stopwatch:
    """Seconds spent inside the outbox's two steps, per operation: making the events, and the INSERT."""

    operation: str = ""
    making: dict[str, float] = field(default_factory=dict)
    writing: dict[str, float] = field(default_factory=dict)

    def reset(self) -> None:
        self.making.clear()
        self.writing.clear()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Time OutboxEvents.events and SqlOutboxRepository.add wherever they run (the bench's only patch)."""
        make, add = OutboxEvents.events, SqlOutboxRepository.add

        def events(source: OutboxEvents, entries: Sequence[AuditEntry], seen: Sighted) -> list[EventRecord]:
            started = time.perf_counter()
            try:
                return make(source, entries, seen)
            finally:
                self.making[self.operation] = self.making.get(self.operation, 0.0) + time.perf_counter() - started

        async def insert(outbox: SqlOutboxRepository, rows: Sequence[EventRecord]) -> None:
            started = time.perf_counter()
            try:
                await add(outbox, rows)
            finally:
                self.writing[self.operation] = self.writing.get(self.operation, 0.0) + time.perf_counter() - started

        OutboxEvents.events, SqlOutboxRepository.add = events, insert  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            OutboxEvents.events, SqlOutboxRepository.add = make, add  # type: ignore[method-assign]


STOPWATCH = Stopwatch()


@dataclass(slots=True)
class Timings:
    """Per variant and operation: the mean microseconds of each round."""

    rounds: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, variant: str, operation: str, seconds: list[float]) -> None:
        self.rounds.setdefault((variant, operation), []).append(statistics.fmean(seconds) * 1e6)

    def median(self, variant: str, operation: str) -> float:
        return statistics.median(self.rounds[variant, operation])


async def _round(use_cases: UseCases, pets: list[UUID], orders: int) -> tuple[list[float], list[float]]:
    """Place ``orders`` orders, then cancel each: the seconds every call took, creates and cancels."""
    placed, created, cancelled = [], [], []
    STOPWATCH.operation = "create"
    for index in range(orders):
        command = PlaceOrder([LineRequest(pets[index % len(pets)])])
        started = time.perf_counter()
        order = (await use_cases.orders.place(CLERK, command)).order
        created.append(time.perf_counter() - started)
        placed.append(order.id)
    STOPWATCH.operation = "cancel"
    for order_id in placed:
        started = time.perf_counter()
        await use_cases.orders.cancel(CLERK, CancelOrder(order_id))
        cancelled.append(time.perf_counter() - started)
    return created, cancelled


async def measure(database_url: str, orders: int, rounds: int) -> Timings:
    settings = Settings(
        database_url=database_url, refund_poll_seconds=0, jwt_secret=JWT_SECRET, test_gateway_secret=GATEWAY_SECRET
    )
    wirings = {variant: await build(settings, outbox=variant == VARIANTS[1]) for variant in VARIANTS}
    try:
        draft = PetDraft(PetProfile("Bench", Species.CAT, Money.parse("10.00", "USD")), 1_000_000)
        any_wiring = wirings[VARIANTS[0]]
        pets = [(await any_wiring.catalogue.add_pet(SYSTEM, draft)).id for _ in range(PETS)]
        for wiring in wirings.values():  # warm-up: connections, statement caches
            await _round(wiring, pets, orders // 5 + 1)
        timings = Timings()
        for _ in range(rounds):
            for variant, wiring in wirings.items():
                STOPWATCH.reset()
                created, cancelled = await _round(wiring, pets, orders)
                timings.add(variant, "create", created)
                timings.add(variant, "cancel", cancelled)
                if variant == VARIANTS[1]:
                    for operation in ("create", "cancel"):
                        timings.add("making", operation, [STOPWATCH.making[operation] / orders])
                        timings.add("writing", operation, [STOPWATCH.writing[operation] / orders])
        return timings
    finally:
        for wiring in wirings.values():
            await wiring.close()


async def postgres_url(base_url: str) -> tuple[str, str] | None:
    try:
        admin = await asyncpg.connect(base_url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return None
    try:
        version = await admin.fetchval("SHOW server_version")
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{DATABASE}"))
    await upgrade_async(DatabaseUrl.parse(url))
    return url, f"PostgreSQL {version}"


def table(engine: str, timings: Timings) -> list[str]:
    lines = [f"## {engine}", "",
             "| operation | µs without the outbox | µs with it | difference | inside the outbox: making the events "
             "| inside the outbox: the INSERT | inside ÷ without |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for operation in ("create", "cancel"):
        without, with_ = (timings.median(variant, operation) for variant in VARIANTS)
        making, writing = timings.median("making", operation), timings.median("writing", operation)
        lines.append(f"| {operation} | {without:,.0f} | {with_:,.0f} | {with_ - without:+,.0f} | {making:,.0f} "
                     f"| {writing:,.0f} | {(making + writing) / without:.1%} |")  # fmt: skip
    return [*lines, ""]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Business-event lines at warning level are filtered out, as with `serve --log-level warning`."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        logs.configure("warning", "json")
        yield


async def run(options: argparse.Namespace) -> list[str]:
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="orderline-bench-outbox-") as scratch:
        engines: list[tuple[str, str] | None] = []
        if "sqlite" in options.engines:
            engines.append((f"sqlite:///{Path(scratch) / 'bench.db'}", f"SQLite {sqlite3.sqlite_version}"))
        if "postgres" in options.engines:
            engines.append(await postgres_url(options.postgres_url))
        for engine in engines:
            if engine is None:
                sections += ["## PostgreSQL", "", "*Skipped*: unreachable.", ""]
                continue
            url, name = engine
            with _quiet(), STOPWATCH.installed():
                timings = await measure(url, options.orders, options.rounds)
            sections += table(name, timings)
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--orders", type=int, default=100, help="orders placed and cancelled per round and variant")
    parser.add_argument("--rounds", type=int, default=15, help="rounds; each runs both variants, interleaved")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--out", type=Path, default=RESULTS)
    options = parser.parse_args()
    options.engines = [name.strip() for name in options.engines.split(",") if name.strip()]
    now = datetime.now(UTC)
    head = [
        "# orderline benchmark: what writing the outbox costs",
        "",
        "| fact | value |",
        "|---|---|",
        f"| date | {now.strftime('%Y-%m-%d %H:%M UTC')} |",
        f"| machine | {facts.machine()} |",
        f"| python | {facts.python()} |",
        f"| workload | in process, one call at a time: {options.rounds} rounds × {options.orders} orders placed, "
        "then cancelled (unpaid: CANCELLED at once), per variant, interleaved; median of the rounds' means |",
        "| events | create: order.created; cancel: order.statusChanged, order.cancelled, order.processed |",
        f"| commit | {facts.commit()} |",
        "",
    ]
    report = "\n".join([*head, *asyncio.run(run(options))])
    print(report)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / f"outbox-{now.strftime('%Y-%m-%dT%H%M%SZ')}.md").write_text(report)
    (options.out / "outbox-latest.md").write_text(report)


if __name__ == "__main__":
    main()
