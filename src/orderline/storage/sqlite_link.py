"""One SQLite connection as the request path drives it: opened and closed with orderline's PRAGMAs, a statement
run on the event loop before a deadline or in the connection's own thread, SQLite's waits translated to
DatabaseUnavailable, and ``SqliteConnection``, the Connection port over it (ADR 0031)."""

from __future__ import annotations

import asyncio
import functools
import math
import operator
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID

from orderline.application.errors import DatabaseUnavailable
from orderline.storage.driver import Params, Row, UniqueViolation, Write

T = TypeVar("T")

# How long a SELECT may hold the event loop before it is stopped and run again in a thread: every request of
# the process waits while it runs. The app's statements take tens of microseconds; a scan of a large table does not.
ON_LOOP_SECONDS = 0.02
# How often (in virtual machine steps) SQLite asks whether a statement is past its deadline: about 10 µs apart.
_PROGRESS_STEPS = 1000

# Per connection, per SQLite's advice for a long-lived process: the page cache (negative: KiB), temporary b-trees
# (sorts, DISTINCT) in memory. synchronous stays FULL: a commit that returned is on disk (WAL's NORMAL could lose
# the last ones on power loss; ADR 0031). No memory map, whatever the build's default: a map of a file that grows
# with every write made each write cost 11-31 % more CPU, and under wrk every endpoint was as fast or faster
# without it; only reads of a file that no longer grows were faster with it (ADR 0047).
_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = FULL",
    "PRAGMA cache_size = -8192",
    "PRAGMA mmap_size = 0",
    "PRAGMA temp_store = MEMORY",
)
# Bounds the work of PRAGMA optimize's ANALYZE (rows examined per index), so closing stays quick on a large file.
_OPTIMIZE = ("PRAGMA analysis_limit = 1000", "PRAGMA optimize")

# SQLite's primary result codes that mean "waited too long" and "cannot use the file", not a bug of ours.
_WAITED = {
    sqlite3.SQLITE_BUSY: "waiting for another connection's write lock",
    sqlite3.SQLITE_LOCKED: "waiting for a table another statement holds",
    sqlite3.SQLITE_INTERRUPT: "the statement ran too long",
}
_UNUSABLE = {
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_CORRUPT,
}

_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)

Fetch = Callable[[sqlite3.Cursor], T]


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# Values are stored the way SQLAlchemy's types store them on SQLite, so the schema and the rows agree: a key as its
# 32 hex digits, a moment in UTC to the microsecond, a day in ISO. sqlite3 applies these adapters itself, in C, by
# exact type (process-wide: orderline's SQLite adapter is the process's only SQL on sqlite3), so a statement's
# parameters reach it untouched, with no pass over them in Python; str, int, float, bytes and None it binds as they are.
sqlite3.register_adapter(UUID, operator.attrgetter("hex"))
sqlite3.register_adapter(datetime, _moment)
sqlite3.register_adapter(date, date.isoformat)


def _bind(params: Params | None) -> dict[str, Any]:
    """The parameters as sqlite3 takes named ones: a dict (almost always the one the caller built)."""
    return params if type(params) is dict else dict(params or {})


def _code(exc: sqlite3.Error) -> int:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one (SQLITE_BUSY_SNAPSHOT...)


@contextmanager
def translated(timeout: float) -> Iterator[None]:
    """SQLite's "waited too long" and "cannot use the file" errors as DatabaseUnavailable."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        unavailable = as_unavailable(exc, timeout)
        if unavailable is None:
            raise
        raise unavailable from exc


def as_unavailable(exc: BaseException | None, timeout: float) -> DatabaseUnavailable | None:
    """What ``translated`` makes of ``exc``: a DatabaseUnavailable, or None to let it through as it is (the
    class-based units of work of ``sqlite_commit`` raise it from their ``__aexit__``)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    code = _code(exc)
    if code in _WAITED:
        return DatabaseUnavailable.timed_out(timeout, _WAITED[code])
    if code in _UNUSABLE:
        return DatabaseUnavailable(f"the database cannot be used ({exc.sqlite_errorname})")
    return None


async def within(seconds: float, waiting: Awaitable[T], what: str) -> T:
    try:
        async with asyncio.timeout(seconds):
            return await waiting
    except TimeoutError:
        raise DatabaseUnavailable.timed_out(seconds, what) from None


def _rows(cursor: sqlite3.Cursor) -> list[Row]:
    return list(cursor.fetchall())


def _row(cursor: sqlite3.Cursor) -> Row | None:
    row: Row | None = cursor.fetchone()
    return row


def _rowcount(cursor: sqlite3.Cursor) -> int:
    return cursor.rowcount


def nothing(cursor: sqlite3.Cursor) -> None:
    cursor.fetchall()


@functools.lru_cache(maxsize=1024)
def _is_read(sql: str) -> bool:
    """A query that writes nothing, so stopping it and running it again changes nothing (SQLite keeps the
    transaction of a stopped SELECT). Unsure (a write word anywhere, even in a literal) counts as a write."""
    return sql.split(None, 1)[0].upper() in {"SELECT", "WITH"} and not _WRITES.search(sql)


class Hops:
    """How many times work was handed to a connection's thread: the test seam of "one hop per unit of work"."""

    def __init__(self) -> None:
        self.count = 0


class Link:
    """One ``sqlite3`` connection: a statement runs on the loop before a deadline, or in its thread if it must wait."""

    def __init__(self, raw: sqlite3.Connection, timeout: float, thread: ThreadPoolExecutor, hops: Hops) -> None:
        self.raw = raw
        self._timeout = timeout
        self._thread = thread
        self._hops = hops
        self._deadline = math.inf
        self._stopped = False
        raw.set_progress_handler(self._past_deadline, _PROGRESS_STEPS)

    def _past_deadline(self) -> int:
        if time.monotonic() > self._deadline:
            self._stopped = True
            return 1  # SQLite stops the statement with SQLITE_INTERRUPT
        return 0

    def _run(self, sql: str, params: dict[str, Any], fetch: Fetch[T], seconds: float, busy: float = 0) -> T:
        """Run a statement here and now (on whichever thread calls), stopped once it has run ``seconds``."""
        if busy:
            self.raw.execute(f"PRAGMA busy_timeout = {max(1, round(busy * 1000))}")
        self._deadline, self._stopped = time.monotonic() + seconds, False
        try:
            return fetch(self.raw.execute(sql, params))
        finally:
            self._deadline = math.inf
            if busy:
                self.raw.execute("PRAGMA busy_timeout = 0")

    async def statement(self, sql: str, params: dict[str, Any], fetch: Fetch[T]) -> T:
        """On the loop; a SELECT that waits for a lock or outruns ``ON_LOOP_SECONDS`` goes again to the thread."""
        if not _is_read(sql):
            return self._run(sql, params, fetch, self._timeout)
        try:
            return self._run(sql, params, fetch, min(ON_LOOP_SECONDS, self._timeout))
        except sqlite3.OperationalError as exc:
            if not (self._stopped or _code(exc) == sqlite3.SQLITE_BUSY):
                raise
        return await self.in_thread(sql, fetch, params)

    async def begin(self, sql: str) -> None:
        """BEGIN on the loop; only if another process holds the lock, the wait for it goes to the thread."""
        try:
            self._run(sql, {}, nothing, self._timeout)
        except sqlite3.OperationalError as exc:
            if _code(exc) != sqlite3.SQLITE_BUSY:
                raise
            await self.in_thread(sql, nothing)

    async def in_thread(self, sql: str, fetch: Fetch[T], params: dict[str, Any] | None = None) -> T:
        """One hop: the statement runs in this connection's thread, waiting up to the timeout for a lock."""
        self._hops.count += 1
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(self._thread, self._run, sql, params or {}, fetch, self._timeout, self._timeout)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            # The connection goes back to its pool only once its thread has let go of it.
            if sql != "COMMIT":
                self.raw.interrupt()
            await asyncio.wait([done])
            if not done.cancelled():
                done.exception()  # retrieved: the cancellation is what the caller sees
            raise


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, link: Link) -> None:
        self._link = link

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        return await self._link.statement(sql, _bind(params), _rows)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        return await self._link.statement(sql, _bind(params), _row)

    async def execute(self, sql: str, params: Params | None = None) -> int:
        try:
            return await self._link.statement(sql, _bind(params), _rowcount)
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise UniqueViolation(str(exc)) from exc
            raise

    async def write(self, write: Write) -> None:
        changed = await self.execute(write.sql, write.params)  # a statement costs microseconds here: no reason to wait
        if write.check is not None:
            write.check(changed)

    async def lock(self, table: str, row_id: UUID, tenant: UUID) -> bool:
        return True  # BEGIN IMMEDIATE already holds the database's single write lock

    def for_update(self) -> str:
        return ""  # BEGIN IMMEDIATE already holds the database's single write lock

    async def next_value(self, sequence: str, table: str, column: str) -> int:
        row = await self.fetch_one(f"SELECT COALESCE(MAX({column}), 0) + 1 AS next FROM {table}")  # noqa: S608
        assert row is not None
        return int(row["next"])


def connect(path: str, *, writer: bool, busy_seconds: float) -> sqlite3.Connection:
    """Blocking (it may wait for the file's lock): the caller runs it in a thread."""
    # isolation_level None: we issue BEGIN/COMMIT ourselves. Its thread changes (the loop's, then a hop's).
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_seconds)
    raw.row_factory = sqlite3.Row
    try:
        for pragma in _PRAGMAS:
            raw.execute(pragma)
        # WAL is persistent in the file (readers stop blocking writers). Setting it on a new connection
        # takes the write lock even when the file is in WAL already: ask first, so opening never waits.
        if writer and raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("PRAGMA busy_timeout = 0")  # on the loop a lock is never waited for: see Link.begin
    except BaseException:
        raw.close()
        raise
    return raw


def close_all(raws: Sequence[sqlite3.Connection], writer: sqlite3.Connection, busy_seconds: float) -> None:
    try:
        writer.execute(f"PRAGMA busy_timeout = {max(1, round(busy_seconds * 1000))}")
        for pragma in _OPTIMIZE:
            writer.execute(pragma)
    except sqlite3.Error:
        pass  # statistics are advice; another process holding the lock must not stop a shutdown
    finally:
        for raw in raws:
            raw.close()


def optimize(path: str, busy_seconds: float = 5.0) -> None:
    """Let SQLite gather the planner statistics it judges missing or stale (after migrations, at close)."""
    raw = sqlite3.connect(path, isolation_level=None, timeout=busy_seconds)
    try:
        for pragma in _OPTIMIZE:
            raw.execute(pragma)
    finally:
        raw.close()
