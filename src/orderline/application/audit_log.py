"""Reading the audit log (admin only). Nothing here, or anywhere, updates or deletes an entry."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from orderline.application.audit import AuditEntry
from orderline.application.errors import NotFound
from orderline.application.pagination import Page, decode_id_cursor, page_of
from orderline.application.ports import Database
from orderline.application.principal import Principal, Scope
from orderline.application.queries import AuditQuery

_CURSOR = "audit"


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, principal: Principal, entry_id: UUID) -> AuditEntry:
        principal.require(Scope.SUPPORT)
        async with self._db.snapshot(principal.tenant) as uow:
            entry = await uow.audit.get(entry_id)
        if entry is None:
            raise NotFound("audit log entry", entry_id)
        return entry

    async def list(self, principal: Principal, query: AuditQuery, *, cursor: str | None = None) -> Page[AuditEntry]:
        """Newest first."""
        principal.require(Scope.SUPPORT)
        if cursor:
            query = replace(query, before_id=decode_id_cursor(_CURSOR, cursor))
        async with self._db.snapshot(principal.tenant) as uow:
            rows = await uow.audit.find(query)
        return page_of(rows, query.limit, _CURSOR, lambda entry: str(entry.id))
