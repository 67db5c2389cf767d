"""Health: whether this process can serve, for the probes an orchestrator calls."""

from __future__ import annotations

from orderline.application.errors import SchemaNotCurrent
from orderline.application.ports import Database


class Health:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def database_reachable(self) -> None:
        """Return once the database has answered a trivial query; DatabaseUnavailable if it did not in time."""
        await self._db.ping()

    async def ready(self) -> str:
        """The schema revision, once the database has answered and is at the newest schema this version ships.

        DatabaseUnavailable when it did not answer in time; SchemaNotCurrent when it is at another schema
        (not yet migrated, or migrated by a newer version: either way this process should not take traffic).
        """
        revision = await self._db.schema_revision()
        if revision.current is None or not revision.is_current:
            raise SchemaNotCurrent(revision.current, revision.newest)
        return revision.current
