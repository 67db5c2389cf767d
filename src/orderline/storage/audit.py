"""The audit log in SQL: append and read only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from orderline.application.audit import Action, AuditEntry, EntityType
from orderline.application.queries import AuditQuery
from orderline.storage.driver import Connection, Row, Write
from orderline.storage.keys import found
from orderline.storage.rows import as_datetime, as_uuid, from_json, to_json

_COLUMNS = "id, action, actor_kind, actor_id, entity_type, entity_id, reason, changes, request_id, occurred_at, api"

_FILTERS = {
    "entity_type": "entity_type = :entity_type",
    "entity_id": "entity_id = :entity_id",
    "actor_id": "actor_id = :actor_id",
    "action": "action = :action",
    "occurred_after": "occurred_at >= :occurred_after",
    "occurred_before": "occurred_at < :occurred_before",
    "before_id": "id < :before_id",
}

_BY_ID = found("audit_log", _COLUMNS)  # by its key, its tenant compared outside (storage/keys.py, ADR 0045)


class SqlAuditRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant
        self.appended: list[AuditEntry] = []  # by this unit of work, in order

    async def append(self, entry: AuditEntry) -> None:
        """Sent with the transaction's next statement or its COMMIT (on PostgreSQL, with the outbox rows)."""
        sql = f"""INSERT INTO audit_log ({_COLUMNS}, tenant_id)
                  VALUES (:id, :action, :actor_kind, :actor_id, :entity_type, :entity_id, :reason,
                          :changes, :request_id, :occurred_at, :api, :tenant)"""  # noqa: S608
        params = {
            "id": entry.id,
            "action": entry.action.value,
            "actor_kind": entry.actor_kind,
            "actor_id": entry.actor_id,
            "entity_type": entry.entity_type.value,
            "entity_id": entry.entity_id,
            "reason": entry.reason,
            "changes": to_json(entry.changes),
            "request_id": entry.request_id,
            "occurred_at": entry.occurred_at,
            "api": entry.api,
            "tenant": self._tenant,
        }
        await self._db.write(Write(sql, params))
        self.appended.append(entry)

    async def get(self, entry_id: UUID) -> AuditEntry | None:
        row = await self._db.fetch_one(_BY_ID, {"id": entry_id, "tenant": self._tenant})
        return None if row is None else _entry(row)

    async def find(self, query: AuditQuery) -> list[AuditEntry]:
        params: dict[str, Any] = {name: getattr(query, name) for name in _FILTERS if getattr(query, name) is not None}
        where = " AND ".join(["tenant_id = :tenant", *(_FILTERS[name] for name in params)])
        sql = f"SELECT {_COLUMNS} FROM audit_log WHERE {where} ORDER BY id DESC LIMIT :limit"  # noqa: S608
        rows = await self._db.fetch_all(sql, {**params, "limit": query.limit + 1, "tenant": self._tenant})
        return [_entry(row) for row in rows]


def _entry(row: Row) -> AuditEntry:
    return AuditEntry(
        id=as_uuid(row["id"]),
        action=Action(row["action"]),
        actor_kind=row["actor_kind"],
        actor_id=row["actor_id"],
        entity_type=EntityType(row["entity_type"]),
        entity_id=row["entity_id"],
        reason=row["reason"],
        changes=from_json(row["changes"]),
        request_id=row["request_id"],
        occurred_at=as_datetime(row["occurred_at"]),
        api=row["api"],
    )
