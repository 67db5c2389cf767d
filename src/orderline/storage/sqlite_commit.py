"""The SQLite adapter's units of work: a snapshot, a lookup outside any transaction, and write transactions as
savepoints of one SQLite transaction, committed together (group commit, ADR 0031)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, suppress
from uuid import UUID

from orderline.application.errors import DatabaseUnavailable
from orderline.application.ports import CommitObserver, EventSource
from orderline.storage.sqlite_link import Link, SqliteConnection, as_unavailable, nothing, within
from orderline.storage.unit_of_work import Commit, SqlUnitOfWork, committed_or_rolled_back


async def _nothing_to_commit() -> None:
    return None


def scope(link: Link, begin: str) -> AbstractAsyncContextManager[Commit]:
    """A snapshot: its COMMIT writes nothing, so it stays on the loop with the rest."""

    async def commit() -> None:
        await link.statement("COMMIT", {}, nothing)

    async def rollback() -> None:
        if link.raw.in_transaction:  # some errors (an interrupted write, a full disk) already rolled it back
            await link.statement("ROLLBACK", {}, nothing)

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


class GroupCommit:
    """Write transactions as savepoints of one SQLite transaction, committed together (group commit, ADR 0031).

    A unit of work (``WriteUnit``) holds the write lock only while its statements run (microseconds, on the loop),
    then waits for the COMMIT of its group: units that queued meanwhile join the open transaction, and one COMMIT in
    the thread makes them all durable with one fsync. ``commit()`` returns only once that COMMIT did, so nothing a
    caller or an observer learns is less durable than before; a COMMIT that fails fails every unit of its group.
    """

    def __init__(self, link: Link, timeout: float) -> None:
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
                await self._link.in_thread("COMMIT", nothing)
            except BaseException as exc:
                error: Exception | None = as_unavailable(exc, self._timeout)  # as translated, without its frames
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


class WriteUnit:
    """``SqliteDatabase.transaction``'s context manager, written as a class: what two generator-based ones did
    (the transaction around the group commit's unit, with ``translated`` inside), in two method calls (ADR 0046,
    round 2). In: the write lock taken within the timeout, the group joined, a SAVEPOINT. Out, unless committed:
    the unit undone and, if others of its group released theirs, their COMMIT waited for (what it read may be
    theirs). SQLite's errors are translated as ``translated`` does, the body's included, and the write lock is
    let go whatever happens."""

    __slots__ = ("_committed", "_events", "_group", "_held", "_observers", "_tenant", "_writes")

    def __init__(
        self, writes: GroupCommit, tenant: UUID, observers: Sequence[CommitObserver], events: EventSource | None
    ) -> None:
        self._writes = writes
        self._tenant = tenant
        self._observers = observers
        self._events = events
        self._held = False
        self._committed = False

    async def __aenter__(self) -> SqlUnitOfWork:
        writes = self._writes
        await within(writes._timeout, writes._lock.acquire(), "waiting behind another write")
        self._held = True
        try:
            self._group = await writes._join()
            await writes._link.statement("SAVEPOINT unit", {}, nothing)
        except BaseException as exc:
            self._let_go()
            unavailable = as_unavailable(exc, writes._timeout)
            if unavailable is None:
                raise
            raise unavailable from exc
        connection = SqliteConnection(writes._link)
        return SqlUnitOfWork(connection, self._commit, self._observers, self._events, self._tenant)

    async def _commit(self) -> None:
        writes, group = self._writes, self._group
        await writes._link.statement("RELEASE unit", {}, nothing)
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
            unavailable = as_unavailable(error, writes._timeout)
            if unavailable is None:
                raise
            raise unavailable from error
        finally:
            self._let_go()
        if exc is not None and (unavailable := as_unavailable(exc, writes._timeout)) is not None:
            raise unavailable from exc


class Lookup:
    """``SqliteDatabase.lookup``'s context manager, written as a class (it was generator-based, with
    ``translated`` inside): a reader taken, free at once or within the timeout, and put back whatever happens;
    SQLite's errors in the body translated as ``translated`` does."""

    __slots__ = ("_reader", "_readers", "_tenant", "_timeout")

    def __init__(self, readers: asyncio.Queue[Link], timeout: float, tenant: UUID) -> None:
        self._readers = readers
        self._timeout = timeout
        self._tenant = tenant

    async def __aenter__(self) -> SqlUnitOfWork:
        readers = self._readers
        try:
            reader = readers.get_nowait()
        except asyncio.QueueEmpty:
            reader = await within(self._timeout, readers.get(), "waiting for a connection")
        self._reader = reader
        return SqlUnitOfWork(SqliteConnection(reader), _nothing_to_commit, tenant=self._tenant)

    async def __aexit__(self, _type: object, exc: BaseException | None, _traceback: object) -> None:
        self._readers.put_nowait(self._reader)
        if exc is not None and (unavailable := as_unavailable(exc, self._timeout)) is not None:
            raise unavailable from exc
