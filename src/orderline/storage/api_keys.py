"""API keys in SQL: stored by hash, listed without secrets, revoked by time stamp."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from orderline.application.ports import ApiKey
from orderline.application.principal import PUBLIC, Scope
from orderline.storage.driver import Connection, Row
from orderline.storage.rows import as_datetime, as_opt_datetime, as_opt_uuid, as_uuid, from_json, to_json

KEY_COLUMNS = "id, name, prefix, key_hash, scopes, created_at, revoked_at, tenant_id"  # key_from's order
BY_HASH = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = :key_hash"  # noqa: S608 - across tenants
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
        sql = f"""INSERT INTO api_keys ({KEY_COLUMNS})
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
        row = await self._db.fetch_one(BY_HASH, {"key_hash": key_hash})
        return None if row is None else _key(row)

    async def list(self) -> list[ApiKey]:
        sql = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE {_OF_TENANT} ORDER BY created_at, id"  # noqa: S608
        return [_key(row) for row in await self._db.fetch_all(sql, self._params)]

    async def revoke(self, key_id: UUID, now: datetime) -> bool:
        return await self._db.execute(_REVOKE, {"id": key_id, "now": now, **self._params}) == 1


def _key(row: Row) -> ApiKey:
    return key_from(cast(Sequence[Any], row))


def key_from(values: Sequence[Any]) -> ApiKey:
    """A key from its ``KEY_COLUMNS``, in that order (both drivers' rows are sequences in SELECT order)."""
    id_, name, prefix, key_hash, scopes, created_at, revoked_at, tenant = values[:8]
    return ApiKey(
        id=as_uuid(id_),
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scopes=frozenset(Scope(s) for s in from_json(scopes)),
        created_at=as_datetime(created_at),
        revoked_at=as_opt_datetime(revoked_at),
        tenant=as_opt_uuid(tenant),
    )
