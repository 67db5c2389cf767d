"""API keys in SQL: stored by hash, listed without secrets, revoked by time stamp."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from orderline.application.ports import ApiKey
from orderline.application.principal import Scope
from orderline.storage.driver import Connection, Row
from orderline.storage.rows import as_datetime, as_opt_datetime, as_uuid, from_json, to_json

_COLUMNS = "id, name, prefix, key_hash, scopes, created_at, revoked_at"


class SqlApiKeyRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def add(self, key: ApiKey) -> None:
        sql = f"""INSERT INTO api_keys ({_COLUMNS})
                  VALUES (:id, :name, :prefix, :key_hash, :scopes, :created_at, NULL)"""  # noqa: S608
        await self._db.execute(
            sql,
            {
                "id": key.id,
                "name": key.name,
                "prefix": key.prefix,
                "key_hash": key.key_hash,
                "scopes": to_json(sorted(key.scopes)),
                "created_at": key.created_at,
            },
        )

    async def find_by_hash(self, key_hash: str) -> ApiKey | None:
        sql = f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = :key_hash"  # noqa: S608
        row = await self._db.fetch_one(sql, {"key_hash": key_hash})
        return None if row is None else _key(row)

    async def list(self) -> list[ApiKey]:
        sql = f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id"  # noqa: S608
        return [_key(row) for row in await self._db.fetch_all(sql)]

    async def revoke(self, key_id: UUID, now: datetime) -> bool:
        sql = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, :now) WHERE id = :id"
        return await self._db.execute(sql, {"id": key_id, "now": now}) == 1


def _key(row: Row) -> ApiKey:
    return ApiKey(
        id=as_uuid(row["id"]),
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        scopes=frozenset(Scope(s) for s in from_json(row["scopes"])),
        created_at=as_datetime(row["created_at"]),
        revoked_at=as_opt_datetime(row["revoked_at"]),
    )
