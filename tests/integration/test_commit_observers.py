"""The commit seam: observers learn what a transaction recorded only once it committed, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from orderline.application.audit import Action, AuditEntry, EntityType
from orderline.application.business_events import BusinessCounts, BusinessLog
from orderline.application.ports import CommitObserver
from orderline.application.queries import AuditQuery
from orderline.storage.database import DatabaseUrl, open_database
from tests.support import START, Db


class Recorder:
    def __init__(self) -> None:
        self.told: list[list[AuditEntry]] = []

    def committed(self, entries: Sequence[AuditEntry]) -> None:
        self.told.append(list(entries))


class Broken:
    def committed(self, entries: Sequence[AuditEntry]) -> None:
        raise RuntimeError("this observer is broken")


class Rollback(Exception):
    """The command failed after recording: its transaction rolls back."""


def an_order_placed() -> AuditEntry:
    changes = {"status": {"before": None, "after": "PLACED"}, "total": {"before": None, "after": "150.00"}}
    return AuditEntry(
        id=uuid.uuid4(),
        action=Action.ORDER_CREATED,
        actor_kind="anonymous",
        actor_id=None,
        entity_type=EntityType.ORDER,
        entity_id=str(uuid.uuid4()),
        reason=None,
        changes=changes,
        request_id="req-1",
        occurred_at=START,
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def counts() -> BusinessCounts:
    return BusinessCounts()


@pytest.fixture
async def observed(database_url: str, recorder: Recorder, counts: BusinessCounts) -> AsyncIterator[Db]:
    """The database opened as bootstrap opens it: the business log and counts, and a recorder, observe it."""
    observers: list[CommitObserver] = [BusinessLog(), counts, recorder]
    database = await open_database(DatabaseUrl.parse(database_url), observers=observers)
    try:
        yield database
    finally:
        await database.close()


async def test_observers_are_told_the_entries_a_transaction_committed_in_order(
    observed: Db, recorder: Recorder
) -> None:
    first, second = an_order_placed(), an_order_placed()

    async with observed.transaction() as uow:
        await uow.audit.append(first)
        await uow.audit.append(second)
        await uow.commit()

    assert recorder.told == [[first, second]]


async def test_a_transaction_that_rolls_back_tells_no_observer_logs_no_line_and_counts_nothing(
    observed: Db, recorder: Recorder, counts: BusinessCounts
) -> None:
    async def record_then_fail() -> None:
        async with observed.transaction() as uow:
            await uow.audit.append(an_order_placed())
            raise Rollback

    with capture_logs() as lines, pytest.raises(Rollback):
        await record_then_fail()

    assert recorder.told == []
    assert [line for line in lines if line["event"] == "order placed"] == []
    assert counts.snapshot() == {}


async def test_a_committed_order_placed_logs_one_line_and_counts_once(observed: Db, counts: BusinessCounts) -> None:
    entry = an_order_placed()

    with capture_logs() as lines:
        async with observed.transaction() as uow:
            await uow.audit.append(entry)
            await uow.commit()

    assert [line["order_id"] for line in lines if line["event"] == "order placed"] == [entry.entity_id]
    assert sum(counts.snapshot().values()) == 1


async def test_a_transaction_that_recorded_nothing_tells_no_observer(observed: Db, recorder: Recorder) -> None:
    async with observed.transaction() as uow:
        day = timedelta(days=1)  # a write that records no audit entry: an idempotency key claimed
        await uow.idempotency.claim(
            "address:198.51.100.7", "k", "f" * 64, START, expires_at=START + day, stale_before=START
        )
        await uow.commit()

    assert recorder.told == []


async def test_a_failing_observer_neither_undoes_the_commit_nor_keeps_the_others_from_being_told(
    database_url: str, recorder: Recorder
) -> None:
    database = await open_database(DatabaseUrl.parse(database_url), observers=[Broken(), recorder])
    entry = an_order_placed()
    try:
        with capture_logs() as lines:
            async with database.transaction() as uow:
                await uow.audit.append(entry)
                await uow.commit()
        async with database.snapshot() as uow:
            stored = await uow.audit.find(AuditQuery(entity_id=entry.entity_id))
    finally:
        await database.close()

    assert [found.id for found in stored] == [entry.id]
    assert recorder.told == [[entry]]
    assert any(line["event"].startswith("commit observer failed") for line in lines)
