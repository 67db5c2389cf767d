"""Idempotency keys in SQL: claim (insert, or take over an expired one), read, complete, release."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from orderline.application.ports import KeyRecord, KeyState, StoredResponse
from orderline.storage.driver import Connection
from orderline.storage.rows import from_json, to_json

_KEY = "tenant_id = :tenant AND owner = :owner AND key = :key"


class SqlIdempotencyRepository:
    def __init__(self, connection: Connection, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant

    async def claim(
        self, owner: str, key: str, fingerprint: str, now: datetime, *, expires_at: datetime, stale_before: datetime
    ) -> bool:
        params = {"owner": owner, "key": key, "fingerprint": fingerprint, "state": KeyState.IN_FLIGHT.value,
                  "now": now, "expires_at": expires_at, "stale_before": stale_before,
                  "tenant": self._tenant}  # fmt: skip
        # Both engines: the insert loses to a live row; an expired row, or one IN_FLIGHT for longer than any
        # request runs (its process died before its work committed), is taken over in place.
        inserted = await self._db.execute(
            """INSERT INTO idempotency_keys (tenant_id, owner, key, fingerprint, state, created_at, expires_at)
               VALUES (:tenant, :owner, :key, :fingerprint, :state, :now, :expires_at)
               ON CONFLICT (tenant_id, owner, key) DO UPDATE SET fingerprint = excluded.fingerprint,
                   state = excluded.state,
                   response_status = NULL, response_headers = NULL, response_body = NULL,
                   created_at = excluded.created_at, expires_at = excluded.expires_at
               WHERE idempotency_keys.expires_at <= :now
                  OR (idempotency_keys.state = :state AND idempotency_keys.created_at < :stale_before)""",
            params,
        )
        return inserted == 1

    async def get(self, owner: str, key: str) -> KeyRecord | None:
        row = await self._db.fetch_one(
            f"SELECT fingerprint, state, response_status, response_headers, response_body"  # noqa: S608
            f" FROM idempotency_keys WHERE {_KEY}",
            {"owner": owner, "key": key, "tenant": self._tenant},
        )
        if row is None:
            return None
        response = None
        if row["response_status"] is not None:
            headers = from_json(row["response_headers"])
            response = StoredResponse(int(row["response_status"]), headers, row["response_body"])
        return KeyRecord(row["fingerprint"], KeyState(row["state"]), response)

    async def complete(self, owner: str, key: str, response: StoredResponse) -> None:
        await self._db.execute(
            f"""UPDATE idempotency_keys SET state = :state, response_status = :status,
                    response_headers = :headers, response_body = :body WHERE {_KEY}""",  # noqa: S608
            {
                "owner": owner,
                "key": key,
                "state": KeyState.DONE.value,
                "status": response.status,
                "headers": to_json(response.headers),
                "body": response.body,
                "tenant": self._tenant,
            },
        )

    async def release(self, owner: str, key: str) -> None:
        await self._db.execute(
            f"DELETE FROM idempotency_keys WHERE {_KEY} AND state = :state",  # noqa: S608
            {"owner": owner, "key": key, "state": KeyState.IN_FLIGHT.value, "tenant": self._tenant},
        )
