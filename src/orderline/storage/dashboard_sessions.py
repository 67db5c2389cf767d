"""The dashboard's sign-in sessions in SQL: found by the hash of the browser's secret, deleted when they end."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from orderline.application.ports import DashboardSession
from orderline.storage.driver import Connection, Row
from orderline.storage.rows import as_datetime, as_opt_datetime, as_uuid

_COLUMNS = "id, secret_hash, user_id, created_at, expires_at, ended_at"


class SqlDashboardSessionRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant

    async def add(self, session: DashboardSession) -> None:
        sql = f"""INSERT INTO dashboard_sessions ({_COLUMNS}, tenant_id)
                  VALUES (:id, :secret_hash, :user_id, :created_at, :expires_at, NULL, :tenant)"""  # noqa: S608
        await self._db.execute(
            sql,
            {"id": session.id, "secret_hash": session.secret_hash, "user_id": session.user_id,
             "created_at": session.created_at, "expires_at": session.expires_at, "tenant": self._tenant},
        )  # fmt: skip

    async def find_by_hash(self, secret_hash: str) -> DashboardSession | None:
        # Across tenants on purpose, as an API key's: the secret's hash is unique everywhere, and the row is what
        # names the session's tenant (ADR 0043).
        sql = f"SELECT {_COLUMNS}, tenant_id FROM dashboard_sessions WHERE secret_hash = :secret_hash"  # noqa: S608
        row = await self._db.fetch_one(sql, {"secret_hash": secret_hash})
        return None if row is None else _session(row)

    async def end(self, secret_hash: str, now: datetime) -> None:
        # Deleted, not marked: an ended session is worth nothing, and its row would stay for good.
        await self._db.execute(
            "DELETE FROM dashboard_sessions WHERE secret_hash = :secret_hash", {"secret_hash": secret_hash}
        )

    async def remove_expired(self, now: datetime) -> int:
        return await self._db.execute("DELETE FROM dashboard_sessions WHERE expires_at <= :now", {"now": now})


def _session(row: Row) -> DashboardSession:
    return DashboardSession(
        id=as_uuid(row["id"]),
        secret_hash=row["secret_hash"],
        user_id=as_uuid(row["user_id"]),
        tenant=as_uuid(row["tenant_id"]),
        created_at=as_datetime(row["created_at"]),
        expires_at=as_datetime(row["expires_at"]),
        ended_at=as_opt_datetime(row["ended_at"]),
    )
