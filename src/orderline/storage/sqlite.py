"""The SQLite adapter: statements run on the event loop with ``sqlite3``; only COMMIT's fsync and waits go to a thread.

A statement on an indexed row takes microseconds, a thread hand-off about 75 µs, so each unit of work runs its
statements where its code runs and pays one hop at most, for COMMIT; the writes queued meanwhile share that COMMIT
(group commit, ADR 0031). Nothing may hold the loop for long: a lock another process holds is waited for in a
thread (``busy_timeout`` is 0 on the loop), and a SELECT still running after ``ON_LOOP_SECONDS`` is stopped and
run again in a thread. Every wait ends at the statement timeout (ADR 0019): for the writer lock of this process,
for the file's write lock, for a free reader, for a statement."""

from __future__ import annotations

import asyncio
import functools
import math
import operator
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from orderline.application.errors import DatabaseUnavailable
from orderline.application.ports import CommitObserver, EventSource, PoolUsage, SchemaRevision
from orderline.application.principal import PUBLIC
from orderline.storage.driver import Params, Row, UniqueViolation, Write
from orderline.storage.revision import schema_revision
from orderline.storage.unit_of_work import Commit, SqlUnitOfWork, committed_or_rolled_back

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


class SqliteFolderMissing(FileNotFoundError):
    """The folder a SQLite database file should live in does not exist."""


def require_folder(path: str) -> None:
    """Refuse a database whose folder is missing: creating folders is the operator's call, not ours."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise SqliteFolderMissing(f"the folder {folder} does not exist; create it, or choose another path")


def optimize(path: str, busy_seconds: float = 5.0) -> None:
    """Let SQLite gather the planner statistics it judges missing or stale (after migrations, at close)."""
    raw = sqlite3.connect(path, isolation_level=None, timeout=busy_seconds)
    try:
        for pragma in _OPTIMIZE:
            raw.execute(pragma)
    finally:
        raw.close()


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# Values are stored the way SQLAlchemy's types store them on SQLite, so the schema and the rows agree: a key as its
# 32 hex digits, a moment in UTC to the microsecond, a day in ISO. sqlite3 applies these adapters itself, in C, by
# exact type (process-wide: this module is the process's only SQL on sqlite3), so a statement's parameters reach it
# untouched, with no pass over them in Python; str, int, float, bytes and None it binds as they are.
sqlite3.register_adapter(UUID, operator.attrgetter("hex"))
sqlite3.register_adapter(datetime, _moment)
sqlite3.register_adapter(date, date.isoformat)


def _bind(params: Params | None) -> dict[str, Any]:
    """The parameters as sqlite3 takes named ones: a dict (almost always the one the caller built)."""
    return params if type(params) is dict else dict(params or {})


def _code(exc: sqlite3.Error) -> int:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one (SQLITE_BUSY_SNAPSHOT...)


@contextmanager
def _translated(timeout: float) -> Iterator[None]:
    """SQLite's "waited too long" and "cannot use the file" errors as DatabaseUnavailable."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        unavailable = _unavailable(exc, timeout)
        if unavailable is None:
            raise
        raise unavailable from exc


def _unavailable(exc: BaseException | None, timeout: float) -> DatabaseUnavailable | None:
    """What ``_translated`` makes of ``exc``: a DatabaseUnavailable, or None to let it through as it is (the
    class-based units of work below raise it from their ``__aexit__``)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    code = _code(exc)
    if code in _WAITED:
        return DatabaseUnavailable.timed_out(timeout, _WAITED[code])
    if code in _UNUSABLE:
        return DatabaseUnavailable(f"the database cannot be used ({exc.sqlite_errorname})")
    return None


async def _within(seconds: float, waiting: Awaitable[T], what: str) -> T:
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


def _nothing(cursor: sqlite3.Cursor) -> None:
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


class _Link:
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
            self._run(sql, {}, _nothing, self._timeout)
        except sqlite3.OperationalError as exc:
            if _code(exc) != sqlite3.SQLITE_BUSY:
                raise
            await self.in_thread(sql, _nothing)

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

    def __init__(self, link: _Link) -> None:
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


def _connect(path: str, *, writer: bool, busy_seconds: float) -> sqlite3.Connection:
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
        raw.execute("PRAGMA busy_timeout = 0")  # on the loop a lock is never waited for: see _Link.begin
    except BaseException:
        raw.close()
        raise
    return raw


def _close(raws: Sequence[sqlite3.Connection], writer: sqlite3.Connection, busy_seconds: float) -> None:
    try:
        writer.execute(f"PRAGMA busy_timeout = {max(1, round(busy_seconds * 1000))}")
        for pragma in _OPTIMIZE:
            writer.execute(pragma)
    except sqlite3.Error:
        pass  # statistics are advice; another process holding the lock must not stop a shutdown
    finally:
        for raw in raws:
            raw.close()


class SqliteDatabase:
    """Writes queue on one connection in this process; another process's lock is waited for in a thread."""

    def __init__(
        self,
        writer: sqlite3.Connection,
        readers: list[sqlite3.Connection],
        timeout: float,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
    ) -> None:
        self._all = [writer, *readers]
        self._threads = ThreadPoolExecutor(max_workers=len(self._all), thread_name_prefix="orderline-sqlite")
        self._hops = Hops()
        self._writer = _Link(writer, timeout, self._threads, self._hops)
        self._writes = _GroupCommit(self._writer, timeout)
        self._readers: asyncio.Queue[_Link] = asyncio.Queue()
        for reader in readers:
            self._readers.put_nowait(_Link(reader, timeout, self._threads, self._hops))
        self._reader_count = len(readers)
        self._timeout = timeout
        self._observers = tuple(observers)
        self._events = events

    @classmethod
    async def open(
        cls,
        path: str,
        readers: int = 4,
        statement_timeout: float = 5.0,
        observers: Sequence[CommitObserver] = (),
        events: EventSource | None = None,
    ) -> SqliteDatabase:
        require_folder(path)
        opened: list[sqlite3.Connection] = []
        try:
            with _translated(statement_timeout):
                for index in range(readers + 1):
                    opened.append(
                        await asyncio.to_thread(_connect, path, writer=index == 0, busy_seconds=statement_timeout)
                    )
        except BaseException:
            for raw in opened:
                raw.close()
            raise
        return cls(opened[0], opened[1:], statement_timeout, observers, events)

    @property
    def hops(self) -> int:
        """Thread hand-offs since opening: one per group of write transactions (its COMMIT), none per snapshot,
        more only for a lock another process holds or a SELECT slower than ``ON_LOOP_SECONDS``."""
        return self._hops.count

    def transaction(self, tenant: UUID = PUBLIC) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        return _WriteUnit(self, tenant)

    @asynccontextmanager
    async def snapshot(self, tenant: UUID = PUBLIC) -> AsyncIterator[SqlUnitOfWork]:
        reader = await _within(self._timeout, self._readers.get(), "waiting for a connection")
        try:
            with _translated(self._timeout):
                async with _scope(reader, "BEGIN") as commit:
                    yield SqlUnitOfWork(SqliteConnection(reader), commit, tenant=tenant)
        finally:
            self._readers.put_nowait(reader)

    def lookup(self, tenant: UUID = PUBLIC) -> AbstractAsyncContextManager[SqlUnitOfWork]:
        """A unit of work outside any transaction, for a read that is one statement: in WAL mode a statement in
        autocommit reads its own snapshot, so BEGIN and ROLLBACK would be two statements for nothing (ADR 0033,
        round 2). A reader free at once is taken without arming a timeout."""
        return _Lookup(self, tenant)

    async def ping(self) -> None:
        async with self.snapshot() as uow:
            await uow.connection.fetch_one("SELECT 1")

    def usage(self) -> PoolUsage:
        """The reader connections; the one writer is a lock, not a pool."""
        idle = self._readers.qsize()
        return PoolUsage(in_use=self._reader_count - idle, idle=idle, limit=self._reader_count)

    async def schema_revision(self) -> SchemaRevision:
        async with self.snapshot() as uow:
            return await schema_revision(uow.connection)

    async def close(self) -> None:
        await self._writes.drain()
        await asyncio.to_thread(_close, self._all, self._all[0], self._timeout)
        self._threads.shutdown()


async def _nothing_to_commit() -> None:
    return None


def _scope(link: _Link, begin: str) -> AbstractAsyncContextManager[Commit]:
    """A snapshot: its COMMIT writes nothing, so it stays on the loop with the rest."""

    async def commit() -> None:
        await link.statement("COMMIT", {}, _nothing)

    async def rollback() -> None:
        if link.raw.in_transaction:  # some errors (an interrupted write, a full disk) already rolled it back
            await link.statement("ROLLBACK", {}, _nothing)

    return committed_or_rolled_back(lambda: link.begin(begin), commit, rollback)


class _Group:
    """The units of work that share one SQLite transaction, and so one COMMIT and one fsync."""

    def __init__(self) -> None:
        self.released = 0
        self.durable: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def end(self, error: BaseException | None = None) -> None:
        if not self.durable.done():
            if error is None:
                self.durable.set_result(None)
            else:
                self.durable.set_exception(error)
                self.durable.exception()  # a group nobody waits for must not be reported as unretrieved


class _GroupCommit:
    """Write transactions as savepoints of one SQLite transaction, committed together (group commit, ADR 0031).

    A unit of work (``_WriteUnit``) holds the write lock only while its statements run (microseconds, on the loop),
    then waits for the COMMIT of its group: units that queued meanwhile join the open transaction, and one COMMIT in
    the thread makes them all durable with one fsync. ``commit()`` returns only once that COMMIT did, so nothing a
    caller or an observer learns is less durable than before; a COMMIT that fails fails every unit of its group.
    """

    def __init__(self, link: _Link, timeout: float) -> None:
        self._link = link
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._group: _Group | None = None
        self._flushing: asyncio.Task[None] | None = None

    async def _join(self) -> _Group:
        if self._group is None or not self._link.raw.in_transaction:
            await self._link.begin("BEGIN IMMEDIATE")
            self._group = _Group()
        return self._group

    def _undo(self, group: _Group) -> None:
        """Roll back this unit; with no other unit in the transaction, end it so the file's lock is let go."""
        raw = self._link.raw
        if raw.in_transaction:
            raw.execute("ROLLBACK TO unit")
            raw.execute("RELEASE unit")
            if group.released:
                return
            raw.execute("ROLLBACK")
        elif group.released:  # SQLite rolled the whole transaction back (a full disk, an interrupted write)
            group.end(DatabaseUnavailable("the write was rolled back with another one; try again"))
        if self._group is group:
            self._group = None

    async def _wait_for(self, group: _Group) -> None:
        with suppress(DatabaseUnavailable):  # this unit changed nothing; its own outcome stands
            await asyncio.shield(group.durable)

    def _flush_soon(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        """Behind the units already queued (they join the group), COMMIT the group in the thread."""
        async with self._lock:
            group, self._group = self._group, None
            if group is None:
                return
            try:
                if not self._link.raw.in_transaction:
                    raise DatabaseUnavailable("the write was rolled back with another one; try again")
                await self._link.in_thread("COMMIT", _nothing)
            except BaseException as exc:
                error: Exception | None = _unavailable(exc, self._timeout)  # as _translated, without its frames
                if error is not None:
                    error.__cause__ = exc
                elif isinstance(exc, Exception):
                    error = exc
                group.end(error or DatabaseUnavailable("the write was interrupted"))
                if self._link.raw.in_transaction:
                    self._link.raw.execute("ROLLBACK")
                if not isinstance(exc, Exception):
                    raise
            else:
                group.end()

    async def drain(self) -> None:
        if self._flushing is not None:
            await self._flushing


class _WriteUnit:
    """``SqliteDatabase.transaction``'s context manager, written as a class: what two generator-based ones did
    (the transaction around the group commit's unit, with ``_translated`` inside), in two method calls (ADR 0046,
    round 2). In: the write lock taken within the timeout, the group joined, a SAVEPOINT. Out, unless committed:
    the unit undone and, if others of its group released theirs, their COMMIT waited for (what it read may be
    theirs). SQLite's errors are translated as ``_translated`` does, the body's included, and the write lock is
    let go whatever happens."""

    __slots__ = ("_committed", "_database", "_group", "_held", "_tenant", "_writes")

    def __init__(self, database: SqliteDatabase, tenant: UUID) -> None:
        self._database = database
        self._writes = database._writes
        self._tenant = tenant
        self._held = False
        self._committed = False

    async def __aenter__(self) -> SqlUnitOfWork:
        writes = self._writes
        await _within(writes._timeout, writes._lock.acquire(), "waiting behind another write")
        self._held = True
        try:
            self._group = await writes._join()
            await writes._link.statement("SAVEPOINT unit", {}, _nothing)
        except BaseException as exc:
            self._let_go()
            unavailable = _unavailable(exc, writes._timeout)
            if unavailable is None:
                raise
            raise unavailable from exc
        database = self._database
        connection = SqliteConnection(writes._link)
        return SqlUnitOfWork(connection, self._commit, database._observers, database._events, self._tenant)

    async def _commit(self) -> None:
        writes, group = self._writes, self._group
        await writes._link.statement("RELEASE unit", {}, _nothing)
        group.released += 1
        self._committed = True
        self._let_go()
        writes._flush_soon()
        await asyncio.shield(group.durable)

    def _let_go(self) -> None:
        if self._held:
            self._held = False
            self._writes._lock.release()

    async def __aexit__(self, _type: object, exc: BaseException | None, _traceback: object) -> None:
        writes = self._writes
        try:
            if not self._committed:
                group = self._group
                writes._undo(group)
                if group.released:
                    # What this unit read may be another unit's change, not yet durable: answer once it is.
                    self._let_go()
                    await writes._wait_for(group)
        except BaseException as error:
            unavailable = _unavailable(error, writes._timeout)
            if unavailable is None:
                raise
            raise unavailable from error
        finally:
            self._let_go()
        if exc is not None and (unavailable := _unavailable(exc, writes._timeout)) is not None:
            raise unavailable from exc


class _Lookup:
    """``SqliteDatabase.lookup``'s context manager, written as a class (it was generator-based, with
    ``_translated`` inside): a reader taken, free at once or within the timeout, and put back whatever happens;
    SQLite's errors in the body translated as ``_translated`` does."""

    __slots__ = ("_database", "_reader", "_tenant")

    def __init__(self, database: SqliteDatabase, tenant: UUID) -> None:
        self._database = database
        self._tenant = tenant

    async def __aenter__(self) -> SqlUnitOfWork:
        database = self._database
        try:
            reader = database._readers.get_nowait()
        except asyncio.QueueEmpty:
            reader = await _within(database._timeout, database._readers.get(), "waiting for a connection")
        self._reader = reader
        return SqlUnitOfWork(SqliteConnection(reader), _nothing_to_commit, tenant=self._tenant)

    async def __aexit__(self, _type: object, exc: BaseException | None, _traceback: object) -> None:
        database = self._database
        database._readers.put_nowait(self._reader)
        if exc is not None and (unavailable := _unavailable(exc, database._timeout)) is not None:
            raise unavailable from exc
