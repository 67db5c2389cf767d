"""Health: whether this process can serve, for the probes an orchestrator calls."""

from __future__ import annotations

from orderline.application.ports import Database


class Health:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def database_reachable(self) -> None:
        """Return once the database has answered a trivial query; DatabaseUnavailable if it did not in time."""
        await self._db.ping()
