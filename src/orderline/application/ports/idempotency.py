"""Idempotency keys as storage keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class KeyState(StrEnum):
    IN_FLIGHT = "IN_FLIGHT"
    DONE = "DONE"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True, slots=True)
class KeyRecord:
    fingerprint: str
    state: KeyState
    response: StoredResponse | None


class IdempotencyRepository(Protocol):
    async def claim(
        self, owner: str, key: str, fingerprint: str, now: datetime, *, expires_at: datetime, stale_before: datetime
    ) -> bool:
        """Take the key IN_FLIGHT if it is free, expired, or IN_FLIGHT since before ``stale_before``; False if
        someone holds it."""
        ...

    async def get(self, owner: str, key: str) -> KeyRecord | None: ...
    async def complete(self, owner: str, key: str, response: StoredResponse) -> None: ...
    async def release(self, owner: str, key: str) -> None: ...
