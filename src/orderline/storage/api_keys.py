"""API keys in SQL: stored by hash, listed without secrets, revoked by time stamp."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from orderline.application.ports import ApiKey
from orderline.application.principal import PUBLIC, Scope
from orderline.storage.driver import Connection, Row
from orderline.storage.rows import as_datetime, as_opt_datetime, as_opt_uuid, as_uuid, from_json, to_json

_COLUMNS = "id, name, prefix, key_hash, scopes, created_at, revoked_at, tenant_id"
# A tenant's keys are those bound to it; the public pool's are also the unbound (operator's) keys.
_OF_TENANT = "COALESCE(tenant_id, :public) = :tenant"
_REVOKE = f"UPDATE api_keys SET revoked_at = COALESCE(revoked_at, :now) WHERE id = :id AND {_OF_TENANT}"  # noqa: S608


class SqlApiKeyRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant
        self._params = {"tenant": tenant, "public": PUBLIC}

    async def add(self, key: ApiKey) -> None:
        """The key as given: ``key.tenant`` is the tenant it is bound to (None: unbound), not this unit's."""
        sql = f"""INSERT INTO api_keys ({_COLUMNS})
                  VALUES (:id, :name, :prefix, :key_hash, :scopes, :created_at, NULL, :key_tenant)"""  # noqa: S608
        await self._db.execute(
            sql,
            {
                "id": key.id,
                "name": key.name,
                "prefix": key.prefix,
                "key_hash": key.key_hash,
                "scopes": to_json(sorted(key.scopes)),
                "created_at": key.created_at,
                "key_tenant": key.tenant,
            },
        )

    async def find_by_hash(self, key_hash: str) -> ApiKey | None:
        # Across tenants on purpose: a key's hash is unique everywhere, and its row is what names its tenant.
        sql = f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = :key_hash"  # noqa: S608
        row = await self._db.fetch_one(sql, {"key_hash": key_hash})
        return None if row is None else _key(row)

    async def list(self) -> list[ApiKey]:
        sql = f"SELECT {_COLUMNS} FROM api_keys WHERE {_OF_TENANT} ORDER BY created_at, id"  # noqa: S608
        return [_key(row) for row in await self._db.fetch_all(sql, self._params)]

    async def revoke(self, key_id: UUID, now: datetime) -> bool:
        return await self._db.execute(_REVOKE, {"id": key_id, "now": now, **self._params}) == 1


def _key(row: Row) -> ApiKey:
    return ApiKey(
        id=as_uuid(row["id"]),
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        scopes=frozenset(Scope(s) for s in from_json(row["scopes"])),
        created_at=as_datetime(row["created_at"]),
        revoked_at=as_opt_datetime(row["revoked_at"]),
        tenant=as_opt_uuid(row["tenant_id"]),
    )
