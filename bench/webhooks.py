"""Webhook delivery throughput: events relayed per second by `orderline worker` to a receiver on 127.0.0.1.

Run as ``python -m bench.webhooks``. For each engine it writes N events to the outbox of an empty database
(one subscription for every event), starts one `orderline worker`, and times the receiver getting every
event: from the first delivery to the last, so process start-up is not counted. It prints a markdown table
and writes it to ``bench/results/webhooks-latest.md`` and a timestamped copy.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec

from bench import facts
from bench.server import ServerError, environment, orderline
from orderline.storage.database import DatabaseUrl, open_database

BENCH_DATABASE = "orderline_bench_webhooks"
SECRET = "whsec_YmVuY2gtb25seS13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5"
WAIT_AT_MOST_S = 300.0


@dataclass
class Receiver:
    """A minimal HTTP/1.1 keep-alive server: answers every POST 204 at once, and notes its webhook-id."""

    expected: int
    ids: list[str] = field(default_factory=list)
    first: float = 0.0
    last: float = 0.0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line)
                lowered = {name.lower(): value for name, value in headers.items()}
                await reader.readexactly(int(lowered.get("content-length", "0")))
                self._note(lowered.get("webhook-id", ""))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _note(self, webhook_id: str) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.ids.append(webhook_id)
        if len(set(self.ids)) >= self.expected:
            self.done.set()


@dataclass(frozen=True)
class Row:
    engine: str
    setting: str
    events: int
    seconds: float
    duplicates: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def write_events(database_url: str, url: str, events: int, orders: int) -> None:
    """One subscription to every event, and ``events`` outbox rows spread over ``orders`` orders."""
    db = await open_database(DatabaseUrl.parse(database_url))
    now = datetime.now(UTC)
    order_ids = [uuid.uuid4() for _ in range(orders)]
    try:
        async with db.transaction() as uow:
            await uow.connection.execute(
                "INSERT INTO webhook_subscriptions (id, url, events, active, secret, created_at, updated_at)"
                " VALUES (:id, :url, :events, :active, :secret, :now, :now)",
                {"id": uuid.uuid4(), "url": url, "events": '["*"]', "active": True, "secret": SECRET, "now": now},
            )
            for n in range(events):
                event_id = uuid.uuid4()
                payload = {"eventId": str(event_id), "eventType": "order.statusChanged", "timestamp": now.isoformat()}
                await uow.connection.execute(
                    "INSERT INTO outbox (id, event_type, order_id, payload, occurred_at)"
                    " VALUES (:id, 'order.statusChanged', :order_id, :payload, :now)",
                    {
                        "id": event_id,
                        "order_id": order_ids[n % orders],
                        "payload": msgspec.json.encode(payload | {"data": {"n": n}}).decode(),
                        "now": now,
                    },
                )
            await uow.commit()
    finally:
        await db.close()


async def fresh_database(engine: str, scratch: Path, postgres_url: str) -> str:
    if engine == "sqlite":
        url = f"sqlite:///{(scratch / f'webhooks-{time.monotonic_ns()}.db').resolve()}"
    else:
        try:
            admin = await asyncpg.connect(postgres_url, timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise ServerError(f"PostgreSQL is unreachable: {exc}") from None
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}"')
            await admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
        finally:
            await admin.close()
        url = urlunsplit(urlsplit(postgres_url)._replace(path=f"/{BENCH_DATABASE}"))
    await orderline("migrate", "--database-url", url, env=environment(url))
    return url


async def measure(
    engine: str, setting: str, variables: dict[str, str], options: argparse.Namespace, scratch: Path
) -> Row:
    url = await fresh_database(engine, scratch, options.postgres_url)
    receiver = Receiver(options.events)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await write_events(url, f"http://127.0.0.1:{port}/hook", options.events, options.orders)
    env = environment(url, ORDERLINE_DATABASE_URL=url, ORDERLINE_WEBHOOKS_ALLOW_PRIVATE="true",
                      ORDERLINE_LOG_LEVEL="warning", ORDERLINE_REFUND_POLL_SECONDS="0", **variables)  # fmt: skip
    log = (scratch / f"worker-{engine}-{time.monotonic_ns()}.log").open("wb")
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orderline", "worker", env=env, stdout=log, stderr=log
    )
    try:
        await asyncio.wait_for(receiver.done.wait(), WAIT_AT_MOST_S)
    except TimeoutError:
        raise ServerError(f"{engine}: not every event arrived within {WAIT_AT_MOST_S:g} s") from None
    finally:
        worker.terminate()
        await worker.wait()
        log.close()
        server.close()
    return Row(engine, setting, options.events, receiver.last - receiver.first, len(receiver.ids) - options.events)


def render(rows: list[Row], options: argparse.Namespace, now: datetime, skipped: list[str]) -> str:
    lines = [
        "# orderline webhook delivery benchmark",
        "",
        "| fact | value |",
        "|---|---|",
        f"| date | {now.strftime('%Y-%m-%d %H:%M UTC')} |",
        f"| machine | {facts.machine()} |",
        f"| python | {facts.python()} |",
        "| worker | one `orderline worker` process, log level warning |",
        "| receiver | asyncio HTTP/1.1 keep-alive on 127.0.0.1, same machine, answers 204 at once |",
        f"| events | {options.events} in the outbox before the worker starts, over {options.orders} orders,"
        " one subscription to `*` |",
        "| timed | first delivery received to last (worker start-up not counted) |",
        f"| commit | {facts.commit()} |",
        "",
        "| engine | setting | events | seconds | events/s | duplicates |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {row.engine} | {row.setting} | {row.events} | {row.seconds:.2f} | {row.rate:,.0f} | {row.duplicates} |"
        for row in rows
    ]
    lines += [f"\n{line}" for line in skipped]
    return "\n".join(lines) + "\n"


SETTINGS = {
    "defaults (32 at once, 4 per subscription)": {},
    "32 per subscription": {"ORDERLINE_WEBHOOK_PER_SUBSCRIPTION": "32"},
}


async def run(options: argparse.Namespace) -> tuple[list[Row], list[str]]:
    rows, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="orderline-bench-webhooks-") as scratch:
        for engine in options.engines.split(","):
            for setting, variables in SETTINGS.items():
                try:
                    rows.append(await measure(engine, setting, variables, options, Path(scratch)))
                except ServerError as exc:
                    skipped.append(f"*{engine}, {setting}: skipped — {exc}*")
                    print(f"{engine}: {exc}", file=sys.stderr)
    return rows, skipped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    options = parser.parse_args(argv)
    now = datetime.now(UTC)
    rows, skipped = asyncio.run(run(options))
    table = render(rows, options, now, skipped)
    print(table)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / f"webhooks-{now.strftime('%Y-%m-%dT%H%M%SZ')}.md").write_text(table)
    (options.out / "webhooks-latest.md").write_text(table)


if __name__ == "__main__":
    main()
