"""The floor: each endpoint's own SQL with no orderline Python — ``python -m bench.floor``.

Issue 11 states its targets as ratios of a bare Litestar no-op's req/s. This asks whether a target is reachable at
all for the work the endpoint must do in the database: a minimal app runs, per request, exactly the statements
orderline runs for that request, on the same schema, and nothing else.

1. **Capture.** orderline itself (``create_app`` in process, as bench/stack.py drives it) makes a fresh database
   (an admin key, a customer, 8 pets, a few orders), and one request of each scenario is recorded: every statement
   with its parameters, as the SQLite adapter runs it (``Link._run``, transaction control included) or as asyncpg
   is asked (``Connection.execute``/``fetch``/``fetchrow``/``fetchval``: one call, one round trip).
2. **Plan.** Each recorded parameter that is an id is marked: the request's order, the request's pet, or an id
   made during the request (uuid7 newer than the request), which the floor makes afresh (``uuid7``) per request, in
   the form it was bound in (a ``UUID``, its hex, its text). Everything else is bound as recorded.
3. **Serve.** ``bench.floor:app_from_environment`` — a bare Litestar app like bench/reference.py (async handlers,
   ``sync_to_thread=False``), one route per scenario, under uvicorn as the reference (uvloop, httptools, 1
   process) — runs the plan's statements on the same database. SQLite: the same connection PRAGMAs as orderline
   (``_PRAGMAS``, WAL, synchronous FULL), reads on a reader connection in autocommit, each write transaction a
   ``SAVEPOINT`` of a group opened by ``BEGIN IMMEDIATE`` and made durable by one ``COMMIT`` in the writer's thread
   (``run_in_executor``), as orderline's group commit (ADR 0031). PostgreSQL: one connection of a pool of 10 per
   request, the recorded calls in order (the same statements, so the same round trips). The answer is a fixed
   small struct: no rows decoded, no JSON of an order, no auth token verified, no statement deadline.
4. **Measure.** wrk (16 connections) on the reference (first and last), then the floor's create (over the 8 pets,
   then as much again unmeasured), get (customer and admin key, over every order), pay and cancel (each order once,
   half of them each): ``floor ÷ reference`` beside orderline's ratio from bench/results/latest.md and issue 11's
   target. The table goes to bench/results/floor-<UTC>.md and floor-latest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sqlite3
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar, delete, get, post
from litestar.params import FromPath
from uuid_utils.compat import uuid7

from bench.server import Uvicorn

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"  # the server; the run makes a database of its own
POOL_SIZE = 10  # orderline's default db_pool_size
PETS = 8
PET_STOCK = 1_000_000
CARD = {"number": "4242424242424242", "cvc": "123", "expMonth": 12, "expYear": 2099}
PAYMENT = {"amount": "10.00", "currency": "USD", "source": CARD}
# The scenarios: the request orderline gets (its method and path, ``{order}``/``{pet}`` filled in) and the floor's.
GET_CUSTOMER, GET_ADMIN, CREATE, PAY, CANCEL = (
    "get (customer)",
    "get (admin key)",
    "create (customer)",
    "pay (admin key)",
    "cancel (admin key)",
)
SCENARIOS = (GET_CUSTOMER, GET_ADMIN, CREATE, PAY, CANCEL)
FLOOR_PATHS = {
    GET_CUSTOMER: ("GET", "/floor/get/customer/{order}"),
    GET_ADMIN: ("GET", "/floor/get/admin/{order}"),
    CREATE: ("POST", "/floor/create/{pet}"),
    PAY: ("POST", "/floor/pay/{order}/{pet}"),
    CANCEL: ("DELETE", "/floor/cancel/{order}/{pet}"),
}
STATUS = {GET_CUSTOMER: 200, GET_ADMIN: 200, CREATE: 201, PAY: 200, CANCEL: 204}
# Issue 11's targets (SQLite, PostgreSQL), as docs/performance.md quotes them; None: no target.
TARGETS: dict[str, tuple[float | None, float | None]] = {
    GET_CUSTOMER: (0.25, 0.25),
    GET_ADMIN: (0.25, 0.25),
    CREATE: (0.12, 0.12),
    PAY: (None, 0.07),
    CANCEL: (0.12, 0.12),
}
# The row of bench/results/latest.md each scenario is compared with (its get is the admin key's).
LATEST_ROWS = {GET_CUSTOMER: "get `", GET_ADMIN: "get `", CREATE: "create `", PAY: "pay `", CANCEL: "cancel `"}

# SQLite's transaction control, as orderline's group commit issues it (src/orderline/storage/sqlite_commit.py).
BEGIN, SAVEPOINT, RELEASE, COMMIT = "BEGIN IMMEDIATE", "SAVEPOINT unit", "RELEASE unit", "COMMIT"
PG_METHODS = ("execute", "fetch", "fetchrow", "fetchval")

Slot = str | int  # "order", "pet", or the n-th id made during the request
# Progress goes to the real stderr: orderline's logs (and alembic's) go to /dev/null through bench.stack.quiet_logs.
_LOG = sys.__stderr__ or sys.stderr


# ---------------------------------------------------------------------------------------------------------------
# The plan: what one request of a scenario runs, with its ids marked


@dataclass(frozen=True)
class Statement:
    """One statement: its SQL (split where the order's id was written into it: PostgreSQL's row lock), how its
    result is taken (SQLite: all/one/count/nothing; PostgreSQL: the asyncpg method), its parameters as recorded and
    the ids to put in afresh: (name or position, slot, form)."""

    sql: tuple[str, ...]
    fetch: str
    params: dict[str, Any] | list[Any]
    ids: tuple[tuple[str | int, Slot, str], ...]

    def text(self, order: str = "") -> str:
        return order.join(self.sql)


@dataclass(frozen=True)
class Unit:
    """``read``: statements in autocommit on a reader (SQLite); ``write``: the statements of one SAVEPOINT of a
    group-committed transaction (SQLite); ``calls``: asyncpg calls in order on one connection (PostgreSQL)."""

    kind: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Plan:
    engine: str  # "sqlite" or "postgres"
    scenarios: dict[str, tuple[Unit, ...]]
    fresh: dict[str, int]  # how many ids each scenario's request makes

    def recorded(self, name: str, order: str = "") -> list[str]:
        """The statement texts of one request, normalised, transaction control included (SQLite's group commit
        issues it; in PostgreSQL's calls it is recorded)."""
        texts: list[str] = []
        for unit in self.scenarios[name]:
            if unit.kind == "write":
                texts += [BEGIN, SAVEPOINT, *(normalised(s.text(order)) for s in unit.statements), RELEASE, COMMIT]
            else:
                texts += [normalised(s.text(order)) for s in unit.statements]
        return texts


_LITERAL_ID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")


def normalised(sql: str) -> str:
    """One space between words; an id written into the text (PostgreSQL's row lock) as ``'?'``."""
    return _LITERAL_ID.sub("'?'", " ".join(sql.split()))


def _as_id(value: Any) -> tuple[UUID, str] | None:
    """The id a parameter holds and the form it is bound in, or None."""
    if isinstance(value, UUID):
        return value, "uuid"
    if isinstance(value, str) and len(value) in (32, 36):
        try:
            parsed = UUID(value)
        except ValueError:
            return None
        return parsed, "hex" if len(value) == 32 else "str"
    return None


@dataclass
class Recorded:
    """A statement as orderline ran it: SQL, parameters, and how its result was taken."""

    sql: str
    params: dict[str, Any] | tuple[Any, ...]
    fetch: str


def plan_of(engine: str, recorded: dict[str, tuple[list[Recorded], UUID | None, UUID, int]]) -> Plan:
    """The plan of each scenario from its recorded statements, its order (None: made by the request), its pet and
    the millisecond the request started."""
    scenarios: dict[str, tuple[Unit, ...]] = {}
    fresh: dict[str, int] = {}
    for name, (statements, order, pet, start_ms) in recorded.items():
        slots = _Slots(order, pet, start_ms)
        scenarios[name] = _units(engine, [_marked(statement, order, slots) for statement in statements])
        fresh[name] = len(slots.made)
    return Plan(engine, scenarios, fresh)


class _Slots:
    """Which slot an id of a recorded request fills: its order, its pet, an id it made, or none (a constant)."""

    def __init__(self, order: UUID | None, pet: UUID, start_ms: int) -> None:
        self.order, self.pet, self.start_ms = order, pet, start_ms
        self.made: dict[UUID, int] = {}

    def of(self, value: UUID) -> Slot | None:
        if value == self.order:
            return "order"
        if value == self.pet:
            return "pet"
        if value.version == 7 and value.int >> 80 >= self.start_ms:  # a uuid7 of the request's time: made by it
            return self.made.setdefault(value, len(self.made))
        return None


def _marked(recorded: Recorded, order: UUID | None, slots: _Slots) -> Statement:
    sql = recorded.sql  # as orderline sent it, whitespace and all
    parts = tuple(sql.split(str(order))) if order is not None else (sql,)
    ids: list[tuple[str | int, Slot, str]] = []
    keyed: Any = recorded.params.items() if isinstance(recorded.params, dict) else enumerate(recorded.params)
    values: list[Any] = []
    for key, value in keyed:
        values.append(_plain(value))
        found = _as_id(value)
        if found is not None and (slot := slots.of(found[0])) is not None:
            ids.append((key, slot, found[1]))
    if isinstance(recorded.params, dict):
        return Statement(parts, recorded.fetch, dict(zip(recorded.params, values, strict=True)), tuple(ids))
    return Statement(parts, recorded.fetch, values, tuple(ids))


def _plain(value: Any) -> Any:
    """An enum as its value (what the driver binds)."""
    return value.value if isinstance(value, Enum) else value


# SQLite's group commit, as one request alone sees it: out -> begun -> in -> released -> out.
_STEPS = {("out", BEGIN): "begun", ("begun", SAVEPOINT): "in", ("in", RELEASE): "released", ("released", COMMIT): "out"}
_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")


def _units(engine: str, statements: list[Statement]) -> tuple[Unit, ...]:
    """SQLite: the reads outside a transaction, and each ``BEGIN IMMEDIATE; SAVEPOINT unit; … RELEASE unit;
    COMMIT`` as a write unit of the statements between (the floor's group commit issues the four itself); anything
    else is refused. PostgreSQL: the calls as they are."""
    if engine != "sqlite":
        return (Unit("calls", tuple(statements)),)
    units: list[Unit] = []
    pending: list[Statement] = []
    state = "out"
    for statement in statements:
        text = statement.text()
        step = _STEPS.get((state, text))
        if step is None and (state in ("begun", "released") or text.startswith(_CONTROL)):
            raise ValueError(f"unexpected statement {text[:80]!r} after the transaction's {state!r}")
        if step is None:
            pending.append(statement)
            continue
        if step == "begun" and pending:
            units.append(Unit("read", tuple(pending)))
        if step == "released":
            units.append(Unit("write", tuple(pending)))
        if step in ("begun", "released"):
            pending = []
        state = step
    if state != "out":
        raise ValueError(f"the recorded request ended inside a transaction ({state})")
    if pending:
        units.append(Unit("read", tuple(pending)))
    return tuple(units)


_OTHER_OUTBOX_ROWS = re.compile(r"(INSERT INTO outbox \([^)]*\) VALUES \([^)]*\))((?:, \([^)]*\))+)(?= RETURNING)")


def one_outbox_row(writes: Statement) -> Statement:
    """``writes`` with its outbox INSERT cut to its first row (``--one-outbox-row``): what a commit's events as one
    outbox row would cost the server, measured, not built. The cut rows' parameters are the statement's last."""
    found = _OTHER_OUTBOX_ROWS.search(writes.text())
    if found is None or len(writes.sql) != 1:
        raise SystemExit("--one-outbox-row: the writes' outbox INSERT is no longer a VALUES list of rows")
    kept = max(int(number) for number in re.findall(r"\$(\d+)", found[1]))
    if kept + len(re.findall(r"\$\d+", found[2])) != len(writes.params):
        raise SystemExit("--one-outbox-row: the outbox rows' parameters are not the statement's last")
    sql = writes.text()[: found.start(2)] + writes.text()[found.end(2) :]
    ids = tuple(marked for marked in writes.ids if int(marked[0]) < kept)
    return Statement((sql,), writes.fetch, list(writes.params)[:kept], ids)


def one_statement_cancel(plan: Plan, *, one_outbox: bool = False) -> Plan:
    """ADR 0050's cancel on PostgreSQL, as a floor (``--cancel-in-one-statement``): the credential's statement, the
    order's read in autocommit without its row lock, then the stock's move and the order's writes as one statement
    of CTEs, also in autocommit; no BEGIN, lock or COMMIT. It measures what those three round trips and one commit
    cost, not a design that is built: the real statement would make each write conditional on the order's."""
    if plan.engine != "postgres":
        return plan
    (unit,) = plan.scenarios[CANCEL]
    texts = [statement.text("?") for statement in unit.statements]
    shape = ("SELECT", "BEGIN;", "SELECT", "UPDATE pets", "WITH w0 AS (", "COMMIT")
    matches = len(texts) == len(shape) and all(
        text.lstrip().startswith(start) for text, start in zip(texts, shape, strict=True)
    )
    if not matches:
        raise SystemExit(f"--cancel-in-one-statement: cancel's statements are no longer {shape}: {texts}")
    credential, _lock, order, stock, writes, _commit = unit.statements
    writes = one_outbox_row(writes) if one_outbox else writes
    offset = len(writes.params)
    stock_sql = re.sub(r"\$(\d+)", lambda found: f"${int(found[1]) + offset}", stock.text())
    writes_sql = writes.text().lstrip().removeprefix("WITH ")
    merged = Statement(
        (f"WITH s AS ({stock_sql}), {writes_sql}",),
        "fetchrow",
        [*writes.params, *stock.params],
        (*writes.ids, *((int(key) + offset, slot, form) for key, slot, form in stock.ids)),
    )
    return Plan(plan.engine, {**plan.scenarios, CANCEL: (Unit("calls", (credential, order, merged)),)}, plan.fresh)


# The plan travels to the server process as JSON: ids, times and decimals tagged.


def _frozen(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, UUID):
        return {"$uuid": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"a recorded parameter of type {type(value).__name__} cannot be kept: {value!r}")


_THAW: dict[str, Callable[[str], Any]] = {
    "$uuid": UUID,
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$decimal": Decimal,
}


def _thawed(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        return _THAW[tag](text)
    return value


def dumps(plan: Plan) -> bytes:
    def statement(s: Statement) -> dict[str, Any]:
        params = (
            {k: _frozen(v) for k, v in s.params.items()}
            if isinstance(s.params, dict)
            else [_frozen(v) for v in s.params]
        )
        return {"sql": list(s.sql), "fetch": s.fetch, "params": params, "ids": [list(i) for i in s.ids]}

    scenarios = {
        name: [{"kind": u.kind, "statements": [statement(s) for s in u.statements]} for u in units]
        for name, units in plan.scenarios.items()
    }
    return msgspec.json.encode({"engine": plan.engine, "scenarios": scenarios, "fresh": plan.fresh})


def loads(data: bytes) -> Plan:
    raw = msgspec.json.decode(data)

    def statement(s: dict[str, Any]) -> Statement:
        params = s["params"]
        thawed = (
            {k: _thawed(v) for k, v in params.items()} if isinstance(params, dict) else [_thawed(v) for v in params]
        )
        ids = tuple((key, slot, form) for key, slot, form in s["ids"])
        return Statement(tuple(s["sql"]), s["fetch"], thawed, ids)

    scenarios = {
        name: tuple(Unit(u["kind"], tuple(statement(s) for s in u["statements"])) for u in units)
        for name, units in raw["scenarios"].items()
    }
    return Plan(raw["engine"], scenarios, raw["fresh"])


# ---------------------------------------------------------------------------------------------------------------
# Recording orderline (in process), and its requests


@contextlib.contextmanager
def recording() -> Iterator[list[Recorded]]:
    """Every statement orderline's SQLite adapter runs (``Link._run``: on the loop or in the thread) and every
    asyncpg call, while the block runs."""
    from orderline.storage import sqlite_link as adapter

    log: list[Recorded] = []
    run = adapter.Link._run

    def recorded_run(self: Any, sql: str, params: dict[str, Any], fetch: Any, *args: Any) -> Any:
        log.append(Recorded(sql, dict(params), fetch.__name__.strip("_")))
        return run(self, sql, params, fetch, *args)

    originals = {name: getattr(asyncpg.Connection, name) for name in PG_METHODS}

    def calls(name: str) -> Any:
        original = originals[name]

        async def recorded_call(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            log.append(Recorded(query, args, name))
            return await original(self, query, *args, **kwargs)

        return recorded_call

    adapter.Link._run = recorded_run  # type: ignore[method-assign,assignment]
    for name in PG_METHODS:
        setattr(asyncpg.Connection, name, calls(name))
    try:
        yield log
    finally:
        adapter.Link._run = run  # type: ignore[method-assign]
        for name, original in originals.items():
            setattr(asyncpg.Connection, name, original)


@dataclass(frozen=True)
class Setup:
    """What orderline made: the credentials, the pets, and the orders the recorded requests used."""

    admin_key: str
    customer_token: str
    pets: tuple[UUID, ...]
    orders: tuple[UUID, ...]  # placed on pets[0], for the reads, pays and cancels recorded


async def prepare(app: Any) -> Setup:
    """An admin key, the customer ``benchuser`` and its token, 8 pets of stock 1,000,000 (as bench/workload.py) and
    five orders of the customer: what bench/run.py makes, through the same routes."""
    from bench.stack import PASSWORD, Request, _expect, _json, bearer
    from orderline.application.principal import Scope

    _row, key = await app.state.use_cases.api_keys.create("bench", frozenset({Scope.ADMIN}))
    user = {"username": "benchuser", "email": "bench@example.com", "password": PASSWORD}
    await _expect(app, Request("POST", "/v1/users", body=_json(user)), 201)
    credentials = {"username": "benchuser", "password": PASSWORD}
    token = (await _expect(app, Request("POST", "/v1/auth/tokens", body=_json(credentials)), 200))["token"]
    pets = []
    for number in range(PETS):
        pet = {"name": f"Bench {number}", "species": "DOG", "adoptionFee": "10.00", "stock": PET_STOCK}
        pets.append(
            UUID((await _expect(app, Request("POST", "/v1/pets", headers=bearer(key), body=_json(pet)), 201))["id"])
        )
    placed = Request("POST", "/v1/orders", headers=bearer(token), body=_json({"petId": str(pets[0])}))
    orders = [UUID((await _expect(app, placed, 201))["id"]) for _ in range(5)]
    return Setup(key, token, tuple(pets), tuple(orders))


def orderline_request(name: str, setup: Setup, order: UUID | None) -> Any:
    """orderline's request of a scenario, on ``order`` (create: on the first pet)."""
    from bench.stack import Request, _json, bearer

    customer, admin = bearer(setup.customer_token), bearer(setup.admin_key)
    if name == CREATE:
        return Request("POST", "/v1/orders", headers=customer, body=_json({"petId": str(setup.pets[0])}))
    if name == PAY:
        return Request("POST", f"/v1/orders/{order}/payment", headers=admin, body=_json(PAYMENT))
    if name == CANCEL:
        return Request("DELETE", f"/v1/orders/{order}", headers=admin)
    return Request("GET", f"/v1/orders/{order}", headers=customer if name == GET_CUSTOMER else admin)


def floor_request(name: str, order: UUID | str | None, pet: UUID | str) -> Any:
    """The floor's request of a scenario (for in-process calls; wrk sends the same path)."""
    from bench.stack import Request, _json

    method, path = FLOOR_PATHS[name]
    body = _json({"petId": str(pet)}) if name == CREATE else _json(PAYMENT) if name == PAY else b""
    return Request(method, path.format(order=order, pet=pet), body=body)


async def record(app: Any, setup: Setup, engine: str) -> tuple[Plan, dict[str, list[Recorded]]]:
    """One request of each scenario recorded (after one unrecorded, so no first-time work is in it); the plan,
    and what was recorded."""
    from bench.stack import call

    spare = list(setup.orders)
    taken: dict[str, tuple[list[Recorded], UUID | None, UUID, int]] = {}
    for name in SCENARIOS:
        for attempt in ("warm-up", "recorded"):
            order = None if name == CREATE else spare[0] if name.startswith("get") else spare.pop()
            await asyncio.sleep(0.005)  # every id made before lies in an earlier millisecond
            start_ms = time.time_ns() // 1_000_000
            with recording() as log:
                answer = await call(app, orderline_request(name, setup, order))
                await asyncio.sleep(0)  # nothing is left to run: COMMIT was awaited before the answer
            if answer.status != STATUS[name]:
                raise RuntimeError(f"orderline's {name} answered {answer.status}: {answer.body[:300]!r}")
            if attempt == "recorded":
                taken[name] = (list(log), order, setup.pets[0], start_ms)
    return plan_of(engine, taken), {name: value[0] for name, value in taken.items()}


# ---------------------------------------------------------------------------------------------------------------
# The floor app


def _bound(statement: Statement, ids: dict[Slot, UUID]) -> Any:
    """The statement's parameters for this request: the recorded ones, with the ids put in afresh."""
    if not statement.ids:
        return statement.params  # the drivers only read them
    params = statement.params.copy()
    for key, slot, form in statement.ids:
        value = ids[slot]
        params[key] = value if form == "uuid" else value.hex if form == "hex" else str(value)  # type: ignore[index]
    return params


_SQLITE_FETCH: dict[str, Callable[[sqlite3.Cursor], Any]] = {
    "rows": sqlite3.Cursor.fetchall,
    "row": sqlite3.Cursor.fetchone,
    "rowcount": lambda cursor: cursor.rowcount,
    "nothing": sqlite3.Cursor.fetchall,
}


class SqliteFloor:
    """A writer and a reader connection opened as orderline opens its own; writes group-committed as orderline's."""

    def __init__(self, writer: Any, reader: Any) -> None:
        self.writer = writer
        self.reader = reader
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-sqlite")
        self._lock = asyncio.Lock()
        self._group: asyncio.Future[None] | None = None
        self._flushing: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, path: str) -> SqliteFloor:
        from orderline.storage.sqlite_link import connect

        return cls(connect(path, writer=True, busy_seconds=5.0), connect(path, writer=False, busy_seconds=5.0))

    def read(self, statements: Sequence[Statement], ids: dict[Slot, UUID], order: str) -> None:
        raw = self.reader
        for statement in statements:
            _SQLITE_FETCH[statement.fetch](raw.execute(statement.text(order), _bound(statement, ids)))

    async def write(self, statements: Sequence[Statement], ids: dict[Slot, UUID], order: str) -> None:
        """The statements as one SAVEPOINT of the open group (BEGIN IMMEDIATE if none), then the group's COMMIT."""
        async with self._lock:
            raw = self.writer
            if self._group is None or not raw.in_transaction:
                raw.execute(BEGIN)
                self._group = asyncio.get_running_loop().create_future()
            group = self._group
            raw.execute(SAVEPOINT)
            try:
                for statement in statements:
                    _SQLITE_FETCH[statement.fetch](raw.execute(statement.text(order), _bound(statement, ids)))
            except BaseException:
                raw.execute("ROLLBACK TO unit")
                raw.execute(RELEASE)
                raise
            raw.execute(RELEASE)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await asyncio.shield(group)

    async def _flush(self) -> None:
        async with self._lock:
            group, self._group = self._group, None
            if group is None:
                return
            try:
                await asyncio.get_running_loop().run_in_executor(self._thread, self.writer.execute, COMMIT)
            except BaseException as exc:
                group.set_exception(exc)
                group.exception()
                if self.writer.in_transaction:
                    self.writer.execute("ROLLBACK")
                raise
            group.set_result(None)

    async def run(self, units: Sequence[Unit], ids: dict[Slot, UUID], order: str) -> None:
        for unit in units:
            if unit.kind == "read":
                self.read(unit.statements, ids, order)
            else:
                await self.write(unit.statements, ids, order)

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        self._thread.shutdown()
        self.writer.close()
        self.reader.close()


class PostgresFloor:
    """``POOL_SIZE`` asyncpg connections opened as orderline opens its own (session timeouts, jsonb as text); one
    per request."""

    def __init__(self, connections: list[Any]) -> None:
        self._idle: deque[Any] = deque(connections)
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._all = list(connections)

    @classmethod
    async def open(cls, url: str) -> PostgresFloor:
        connections = []
        for _ in range(POOL_SIZE):
            raw = await asyncpg.connect(url, server_settings={"statement_timeout": "5000", "lock_timeout": "5000"})
            await raw.set_type_codec("jsonb", encoder=str, decoder=str, schema="pg_catalog", format="text")
            connections.append(raw)
        return cls(connections)

    async def run(self, units: Sequence[Unit], ids: dict[Slot, UUID], order: str) -> None:
        if self._idle:
            raw = self._idle.pop()
        else:
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            raw = await waiter
        try:
            for unit in units:
                for statement in unit.statements:
                    await getattr(raw, statement.fetch)(statement.text(order), *_bound(statement, ids))
        finally:
            if raw.is_in_transaction():
                await raw.execute("ROLLBACK")
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_result(raw)
                    break
            else:
                self._idle.append(raw)

    async def close(self) -> None:
        for raw in self._all:
            await raw.close()


class Done(msgspec.Struct):
    ok: bool


DONE = Done(ok=True)


def floor_app(plan: Plan, url: str) -> Litestar:  # noqa: C901 — one small handler per scenario
    """The floor: one route per scenario, each running its plan; ``url`` is the database orderline made."""
    state: dict[str, Any] = {}
    units = plan.scenarios
    fresh = plan.fresh

    def ids_of(name: str, order: str | None, pet: str | None) -> dict[Slot, UUID]:
        ids: dict[Slot, UUID] = {n: uuid7() for n in range(fresh[name])}
        if order is not None:
            ids["order"] = UUID(order)
        if pet is not None:
            ids["pet"] = UUID(pet)
        return ids

    async def startup() -> None:
        if plan.engine == "sqlite":
            state["db"] = SqliteFloor.open(url.removeprefix("sqlite:///"))
        else:
            state["db"] = await PostgresFloor.open(url)

    async def shutdown() -> None:
        await state["db"].close()

    @get("/floor/get/customer/{order:str}")
    async def get_customer(order: FromPath[str]) -> Done:
        await state["db"].run(units[GET_CUSTOMER], ids_of(GET_CUSTOMER, order, None), order)
        return DONE

    @get("/floor/get/admin/{order:str}")
    async def get_admin(order: FromPath[str]) -> Done:
        await state["db"].run(units[GET_ADMIN], ids_of(GET_ADMIN, order, None), order)
        return DONE

    @post("/floor/create/{pet:str}")
    async def create(pet: FromPath[str]) -> Done:
        await state["db"].run(units[CREATE], ids_of(CREATE, None, pet), "")
        return DONE

    @post("/floor/pay/{order:str}/{pet:str}", status_code=200)
    async def pay(order: FromPath[str], pet: FromPath[str]) -> Done:
        await state["db"].run(units[PAY], ids_of(PAY, order, pet), order)
        return DONE

    @delete("/floor/cancel/{order:str}/{pet:str}")
    async def cancel(order: FromPath[str], pet: FromPath[str]) -> None:
        await state["db"].run(units[CANCEL], ids_of(CANCEL, order, pet), order)

    application = Litestar(
        [get_customer, get_admin, create, pay, cancel],
        on_startup=[startup],
        on_shutdown=[shutdown],
        openapi_config=None,
    )
    application.state.floor = state  # its "db" once started: the tests record what it runs
    return application


def app_from_environment() -> Litestar:
    """uvicorn's factory: the plan file in FLOOR_PLAN, the database in FLOOR_DATABASE_URL."""
    return floor_app(loads(Path(os.environ["FLOOR_PLAN"]).read_bytes()), os.environ["FLOOR_DATABASE_URL"])


# ---------------------------------------------------------------------------------------------------------------
# The run


class Floor(Uvicorn):
    """``async with Floor(plan_path, url, log_path) as floor:`` — the floor app under uvicorn as the reference."""

    def __init__(self, plan_path: Path, url: str, log_path: Path) -> None:
        environment = {**os.environ, "FLOOR_PLAN": str(plan_path), "FLOOR_DATABASE_URL": url}
        super().__init__(
            "the floor app", "bench.floor:app_from_environment", log_path, probe="/nowhere", status=404,
            factory=True, env=environment,
        )  # fmt: skip


async def placed(url: str) -> list[tuple[str, str]]:
    """Every PLACED order and its first line's pet, oldest first."""
    sql = (
        "SELECT o.id, l.pet_id FROM orders o JOIN order_lines l ON l.order_id = o.id AND l.line_no = 1 "
        "WHERE o.status = 'PLACED' ORDER BY o.seq"
    )
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            return [(str(UUID(hex=o)), str(UUID(hex=p))) for o, p in connection.execute(sql).fetchall()]
    postgres = await asyncpg.connect(url)
    try:
        return [(str(row["id"]), str(row["pet_id"])) for row in await postgres.fetch(sql)]
    finally:
        await postgres.close()


def wrk_request(side: str, name: str, setup: Setup, order: str = "", pet: str = "") -> Any:
    """One wrk request of a scenario, to the floor or to orderline: the same headers and body either way."""
    from bench.scenarios import bearer, body
    from bench.wrkgen import Request

    auth = bearer(setup.customer_token if name in (CREATE, GET_CUSTOMER) else setup.admin_key)
    payload = body({"petId": pet}) if name == CREATE else body(PAYMENT) if name == PAY else ""
    if side == "floor":
        method, path = FLOOR_PATHS[name]
        return Request(method, path.format(order=order, pet=pet), auth, payload)
    method, path = {
        CREATE: ("POST", "/v1/orders"),
        PAY: ("POST", f"/v1/orders/{order}/payment"),
        CANCEL: ("DELETE", f"/v1/orders/{order}"),
    }.get(name, ("GET", f"/v1/orders/{order}"))
    return Request(method, path, auth, payload)


async def measure_side(side: str, base: str, url: str, setup: Setup, load: Any) -> dict[str, Any]:
    """The scenarios on one side, as bench/run.py runs orderline's: create over the 8 pets (then as much again,
    unmeasured, for orders to spend), get (customer, admin key) over every PLACED order, then pay and cancel
    each on half of them, each order once."""
    from bench import scenarios
    from bench.scenarios import Scenario

    figures: dict[str, Any] = {}

    async def run(name: str, requests: list[Any], *, once: bool = False) -> None:
        figure = await scenarios.measure(base, Scenario(name, requests, STATUS[name], once), load)
        errors = sum(figure.errors.values())
        print(f"  {side} {name}: {figure.rate:,.0f} req/s, {errors} errors {dict(figure.errors) or ''}", file=_LOG)
        figures[name] = figure

    creates = [wrk_request(side, CREATE, setup, pet=str(pet)) for pet in setup.pets]
    await run(CREATE, creates)
    await scenarios.measure(base, Scenario(CREATE, creates, 201), load, warmup=False)
    orders = await placed(url)
    print(f"  {len(orders)} PLACED orders to read, pay and cancel", file=_LOG)
    for name in (GET_CUSTOMER, GET_ADMIN):
        await run(name, [wrk_request(side, name, setup, order) for order, _pet in orders])
    half = len(orders) // 2
    await run(PAY, [wrk_request(side, PAY, setup, o, p) for o, p in orders[:half]], once=True)
    await run(CANCEL, [wrk_request(side, CANCEL, setup, o, p) for o, p in orders[half:]], once=True)
    return figures


async def measure(
    plan_path: Path, url: str, setup: Setup, seconds: float, scratch: Path, *, with_orderline: bool
) -> dict[str, Any]:
    """wrk on the reference (first and last) and between them the floor's scenarios, then (``with_orderline``)
    orderline's own, served by ``orderline serve --demo`` on the same database once the floor has stopped."""
    from bench import scenarios
    from bench.scenarios import Load
    from bench.server import Reference, Server

    load = Load(16, seconds, min(2.0, seconds / 2), use_wrk=True)
    figures: dict[str, Any] = {}
    async with Reference(scratch / "reference.log") as ref:
        figures["reference (first)"] = await scenarios.measure(ref.base, scenarios.reference(), load)
        print(f"  reference (first): {figures['reference (first)'].rate:,.0f} req/s", file=_LOG)
        async with Floor(plan_path, url, scratch / "floor.log") as served:
            figures["floor"] = await measure_side("floor", served.base, url, setup, load)
        if with_orderline:
            async with Server(url, scratch / "orderline.log", "warning") as server:
                figures["orderline"] = await measure_side("orderline", server.base, url, setup, load)
        figures["reference (last)"] = await scenarios.measure(ref.base, scenarios.reference(), load)
        print(f"  reference (last): {figures['reference (last)'].rate:,.0f} req/s", file=_LOG)
    return figures


def orderline_ratios(latest: Path) -> dict[str, dict[str, float]]:
    """orderline's ÷ reference per engine ("sqlite", "postgres") and scenario, from a `python -m bench` table."""
    ratios: dict[str, dict[str, float]] = {}
    engine = ""
    if not latest.exists():
        return ratios
    for line in latest.read_text().splitlines():
        if line.startswith("## "):
            engine = "sqlite" if "SQLite" in line else "postgres" if "PostgreSQL" in line else ""
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if engine and len(cells) >= 6:
            for name, prefix in LATEST_ROWS.items():
                if cells[0].startswith(prefix):
                    with contextlib.suppress(ValueError):
                        ratios.setdefault(engine, {})[name] = float(cells[5])
    return ratios


def _ratio(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render(results: dict[str, dict[str, Any]], latest: Path, seconds: float, load: tuple[str, str]) -> str:
    from bench import facts

    same_run = any("orderline" in figures for figures in results.values())
    theirs = orderline_ratios(latest)
    source = (
        "measured in this run: `orderline serve --demo` on the same database, after the floor"
        if same_run
        else f"{latest} (another run: compare ratios, not req/s; its get is the admin key's)"
    )
    lines = [
        "# The floor: each endpoint's own SQL with no orderline Python",
        "",
        "| fact | value |",
        "|---|---|",
        f"| date | {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} |",
        f"| machine | {facts.machine()} |",
        f"| load before | {load[0]} |",
        f"| load after | {load[1]} |",
        f"| python | {facts.python()} |",
        f"| commit | {facts.commit()} |",
        "| servers | the reference and the floor (bench/floor.py): uvicorn, 1 process, uvloop, httptools, no access "
        "log; orderline: `orderline serve --demo`, log level warning |",
        f"| load generator | wrk, 16 connections, 1 thread; create and the gets {seconds:g} s after a warm-up, pay and "
        f"cancel each order once, at most {seconds:g} s |",
        f"| orderline's figures | {source} |",
        "",
    ]
    for engine, figures in results.items():
        title = "SQLite" if engine == "sqlite" else "PostgreSQL"
        if "skipped" in figures:
            lines += [f"## {title}", "", f"skipped: {figures['skipped']}", ""]
            continue
        first, last = figures["reference (first)"].rate, figures["reference (last)"].rate
        reference = (first + last) / 2
        index = 0 if engine == "sqlite" else 1
        lines += [
            f"## {title}",
            "",
            f"Reference (bare Litestar `GET /ping`): {first:,.0f} req/s first, {last:,.0f} last.",
            "",
            "| scenario | floor req/s | floor ÷ reference | orderline req/s | orderline ÷ reference "
            "| orderline ÷ floor | issue-11 target | floor p50 / p99 ms | errors (floor, orderline) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in SCENARIOS:
            mine = figures["floor"][name]
            ours = mine.rate / reference if reference else float("nan")
            other = figures.get("orderline", {}).get(name)
            rate = "—" if other is None else f"{other.rate:,.0f}"
            ratio = other.rate / reference if other is not None and reference else theirs.get(engine, {}).get(name)
            closeness = other.rate / mine.rate if other is not None and mine.rate else None
            target = TARGETS[name][index]
            errors = f"{sum(mine.errors.values())}, {'—' if other is None else sum(other.errors.values())}"
            lines.append(
                f"| {name} | {mine.rate:,.0f} | {ours:.3f} | {rate} | {_ratio(ratio)} | {_ratio(closeness, 2)} "
                f"| {'—' if target is None else f'≥ {target:.2f}'} | {mine.p50_ms:.1f} / {mine.p99_ms:.1f} "
                f"| {errors} |"
            )
        lines.append("")
    lines.append(
        "÷ reference: req/s over the mean of the two reference rows. The floor runs, per request, the very "
        "statements orderline ran for one request of the scenario (recorded from orderline in this run), with "
        "fresh ids, and nothing else: no JSON, no auth token verified, no domain objects. Its ratio is the most any "
        "code issuing those statements through this stack can reach on this machine; a target above it is not "
        "reachable without changing the statements (or the commit's fsync)."
    )
    return "\n".join(lines) + "\n"


async def cpu_per_request(url: str, engine: str, count: int, writes: int) -> dict[str, tuple[float, float]]:
    """In process, no wrk, no socket (as bench/stack.py measures): µs of CPU per request of each scenario, the
    floor's and orderline's, on the same database, and the reference's (the least of three runs each). Pay and
    cancel go each to an order of its own, made by the floor's creates. On PostgreSQL the server's CPU is not in
    the figures (another process)."""
    from bench.stack import call, measure, needed, orderline_app, reference_app

    reference, ref_requests = reference_app()
    before = await measure(reference, ref_requests["reference"], count)
    async with orderline_app(url) as app:
        setup = await prepare(app)
        plan, _recorded = await record(app, setup, engine)
        served: Any = floor_app(plan, url)
        pets = [str(pet) for pet in setup.pets]
        creates = [(None, pets[n % PETS]) for n in range(needed(writes) + 4 * needed(writes))]
        async with lifespan_of_app(served):
            mine = {CREATE: await measure(served, _each(floor_request, CREATE, creates), writes)}
            for order, pet in creates[needed(writes) :]:  # the orders pay and cancel spend, on each side
                await call(served, floor_request(CREATE, order, pet))
            spare = await placed(url)
            for name in (GET_CUSTOMER, GET_ADMIN):
                mine[name] = await measure(served, floor_request(name, *spare[0]), count)
            for name in (PAY, CANCEL):
                mine[name] = await measure(served, _each(floor_request, name, _taken(spare, needed(writes))), writes)

        def theirs_of(name: str, order: str | None, _pet: str) -> Any:
            return orderline_request(name, setup, None if order is None else UUID(order))

        theirs = {CREATE: await measure(app, _each(theirs_of, CREATE, creates), writes)}
        for name in (GET_CUSTOMER, GET_ADMIN):
            theirs[name] = await measure(app, theirs_of(name, *spare[0]), count)
        for name in (PAY, CANCEL):
            theirs[name] = await measure(app, _each(theirs_of, name, _taken(spare, needed(writes))), writes)
    reference_micros = (before + await measure(reference, ref_requests["reference"], count)) / 2
    return {"reference": (reference_micros, reference_micros)} | {
        name: (mine[name], theirs[name]) for name in SCENARIOS
    }


def _taken(spare: list[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    """The last ``count`` orders of ``spare``, taken from it."""
    taken = spare[-count:]
    del spare[-count:]
    return taken


def _each(make: Callable[[str, Any, Any], Any], name: str, items: list[tuple[Any, Any]]) -> Any:
    """A bench.stack Scenario whose requests go, one each, to ``items`` (order, pet) in turn."""
    from bench.stack import Scenario

    pending = iter(items)
    return Scenario(make(name, *items[0]), lambda: make(name, *next(pending)))


def lifespan_of_app(app: Litestar) -> Any:
    from tests.e2e.lifespan import lifespan_of

    return lifespan_of(app)


def cpu_table(engine: str, results: dict[str, tuple[float, float]]) -> str:
    reference = results["reference"][0]
    lines = [
        f"{engine}: µs of CPU per request, in process (least of 3 runs); reference {reference:,.0f} µs",
        "",
        "| scenario | floor µs | orderline µs | orderline − floor µs | reference ÷ floor | reference ÷ orderline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in SCENARIOS:
        mine, theirs = results[name]
        lines.append(
            f"| {name} | {mine:,.0f} | {theirs:,.0f} | {theirs - mine:,.0f} | {reference / mine:.3f} "
            f"| {reference / theirs:.3f} |"
        )
    return "\n".join(lines) + "\n"


def described(plan: Plan) -> str:
    """Each scenario's statements, as the floor runs them: the SQL (ids written into it as ``'?'``), how the result
    is taken, and each parameter's type or slot (``order``, ``pet``, ``new0``…: an id made afresh per request)."""
    lines = []
    for name in SCENARIOS:
        lines.append(f"## {plan.engine}: {name} ({len(plan.recorded(name))} statements, {plan.fresh[name]} new ids)")
        for unit in plan.scenarios[name]:
            lines.append(f"- {unit.kind}:")
            for statement in unit.statements:
                slots = {key: slot if isinstance(slot, str) else f"new{slot}" for key, slot, _form in statement.ids}
                keyed: Any = (
                    statement.params.items() if isinstance(statement.params, dict) else enumerate(statement.params)
                )
                shapes = ", ".join(f"{key}={slots.get(key, type(value).__name__)}" for key, value in keyed)
                lines.append(f"  - [{statement.fetch}] {normalised(statement.text('?'))[:160]} ({shapes})")
    return "\n".join(lines)


def engine_run(
    engine: str,
    postgres_url: str,
    seconds: float,
    scratch: Path,
    *,
    with_orderline: bool,
    show: bool = False,
    cancel_in_one_statement: bool = False,
    one_outbox: bool = False,
) -> dict[str, Any]:
    from bench.stack import Engine, database, orderline_app

    place = Engine(engine, postgres_url)

    async def capture(url: str) -> tuple[Plan, Setup]:
        async with orderline_app(url) as app:
            setup = await prepare(app)
            plan, _recorded = await record(app, setup, engine)
        return plan, setup

    try:
        with database(place, scratch) as url:
            plan, setup = place.run(capture(url))
            if cancel_in_one_statement:
                plan = one_statement_cancel(plan, one_outbox=one_outbox)
            plan_path = scratch / f"floor-plan-{engine}.json"
            plan_path.write_bytes(dumps(plan))
            if show:
                print(described(plan))
                return {}
            for name in SCENARIOS:
                print(f"  {engine} {name}: {len(plan.recorded(name))} statements", file=_LOG)
            return asyncio.run(measure(plan_path, url, setup, seconds, scratch, with_orderline=with_orderline))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"{engine}: skipped — {exc}", file=_LOG)
        return {"skipped": str(exc)}


def main(argv: list[str] | None = None) -> None:

    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per scenario (wrk -d)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="the server (its database is not used)")
    parser.add_argument(
        "--no-orderline",
        action="store_true",
        help="skip orderline's own scenarios; take its ratios from --latest instead",
    )
    parser.add_argument(
        "--statements", action="store_true", help="only record orderline's statements and print them (no wrk)"
    )
    parser.add_argument(
        "--cpu",
        type=int,
        metavar="N",
        help="no wrk: µs of CPU per request in process, floor and orderline, N reads (N/10 writes) per scenario",
    )
    parser.add_argument(
        "--cancel-in-one-statement",
        action="store_true",
        help="PostgreSQL's cancel floor in ADR 0050's proposed shape (3 round trips, no transaction); its own table",
    )
    parser.add_argument(
        "--one-outbox-row",
        action="store_true",
        help="with --cancel-in-one-statement: its outbox INSERT cut to one row (what fewer rows would cost)",
    )
    parser.add_argument("--latest", type=Path, default=RESULTS / "latest.md", help="a `python -m bench` table")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the markdown table")
    options = parser.parse_args(argv)
    if options.one_outbox_row and not options.cancel_in_one_statement:
        parser.error("--one-outbox-row goes with --cancel-in-one-statement")
    from bench.stack import quiet_logs

    with quiet_logs():
        run(options, parser)


def _variant(options: argparse.Namespace) -> tuple[str, str]:
    """The table's file name, and what it says first when its cancel is not orderline's own statements."""
    if not options.cancel_in_one_statement:
        return "floor", ""
    note = "**PostgreSQL's cancel floor here is ADR 0050's proposed shape**: 3 round trips, no transaction."
    if not options.one_outbox_row:
        return "floor-one-statement-cancel", note
    cut = " Its outbox INSERT is cut to one row of the three (a measure of writing less, not a design)."
    return "floor-one-statement-cancel-one-outbox-row", note + cut


def run(options: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``main`` with orderline's logs quiet, as the benchmark's server logs (JSON at warning, to /dev/null)."""
    from bench import facts, wrkgen

    engines = [name.strip() for name in options.engines.split(",") if name.strip()]
    if unknown := sorted(set(engines) - {"sqlite", "postgres"}):
        parser.error(f"unknown engines {unknown}")
    if options.cpu:
        from bench.stack import Engine, database

        for engine in engines:
            place = Engine(engine, options.postgres_url)
            with tempfile.TemporaryDirectory(prefix="floor-") as scratch, database(place, Path(scratch)) as url:
                found = place.run(cpu_per_request(url, engine, options.cpu, max(100, options.cpu // 10)))
            print(cpu_table(engine, found), file=_LOG)
        return
    if options.statements:
        for engine in engines:
            with tempfile.TemporaryDirectory(prefix="floor-") as scratch:
                engine_run(engine, options.postgres_url, 0, Path(scratch), with_orderline=False, show=True)
        return
    if wrkgen.available() is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    before = facts.load()
    now = datetime.now(UTC)
    results: dict[str, dict[str, Any]] = {}
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="floor-") as scratch:
            print(f"{engine}: recording orderline's statements, then the floor and the reference", file=_LOG)
            results[engine] = engine_run(
                engine,
                options.postgres_url,
                options.seconds,
                Path(scratch),
                with_orderline=not options.no_orderline,
                cancel_in_one_statement=options.cancel_in_one_statement,
                one_outbox=options.one_outbox_row,
            )
    table = render(results, options.latest, options.seconds, (before, facts.load()))
    name, note = _variant(options)
    if note:
        table = table.replace("\n\n", f"\n\n{note}\n\n", 1)
    print(table)
    options.out.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y-%m-%dT%H%M%SZ")
    (options.out / f"{name}-{stamp}.md").write_text(table)
    (options.out / f"{name}-latest.md").write_text(table)
    print(f"written to {options.out / f'{name}-{stamp}.md'} and {name}-latest.md", file=_LOG)


if __name__ == "__main__":
    main()
