"""What every use case holds (the database, the clock, the id source) and how it records its audit entries."""

from __future__ import annotations

from orderline.application.audit import Record
from orderline.application.ports import Clock, Database, IdGenerator, UnitOfWork
from orderline.application.principal import Principal


class UseCase:
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids

    async def _record(self, uow: UnitOfWork, actor: Principal, *records: Record) -> None:
        """Append audit entries inside the caller's transaction: they commit or vanish with the change."""
        now = self._clock.now()
        for record in records:
            await uow.audit.append(record.entry(self._ids.new_id(), actor, now))
