"""Anonymous orders' token hashes in SQL (the keys that sign our own tokens are never in the database)."""

from __future__ import annotations

from uuid import UUID

from orderline.application.ports import TokenHolder
from orderline.storage.driver import Connection, Write
from orderline.storage.rows import as_uuid


class SqlOrderTokenRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant

    async def add(self, order_id: UUID, token_hash: str) -> None:
        sql = "INSERT INTO order_tokens (order_id, token_hash, tenant_id) VALUES (:order_id, :token_hash, :tenant)"
        params = {"order_id": order_id, "token_hash": token_hash, "tenant": self._tenant}
        await self._db.write(Write(sql, params))  # with the COMMIT (ADR 0034)

    async def order_of(self, token_hash: str) -> TokenHolder | None:
        # Across tenants on purpose: a token's hash is unique everywhere, and its row is what names its tenant.
        sql = "SELECT order_id, tenant_id FROM order_tokens WHERE token_hash = :token_hash"
        row = await self._db.fetch_one(sql, {"token_hash": token_hash})
        return None if row is None else TokenHolder(as_uuid(row["order_id"]), as_uuid(row["tenant_id"]))
