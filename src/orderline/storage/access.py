"""Anonymous orders' token hashes in SQL (the keys that sign our own tokens are never in the database)."""

from __future__ import annotations

from uuid import UUID

from orderline.storage.driver import Connection, Write
from orderline.storage.rows import as_uuid


class SqlOrderTokenRepository:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    async def add(self, order_id: UUID, token_hash: str) -> None:
        sql = "INSERT INTO order_tokens (order_id, token_hash) VALUES (:order_id, :token_hash)"
        await self._db.write(Write(sql, {"order_id": order_id, "token_hash": token_hash}))  # with the COMMIT (ADR 0034)

    async def order_of(self, token_hash: str) -> UUID | None:
        row = await self._db.fetch_one(
            "SELECT order_id FROM order_tokens WHERE token_hash = :token_hash", {"token_hash": token_hash}
        )
        return None if row is None else as_uuid(row["order_id"])
