"""Idempotency keys: a retried request with the same key gets the first answer, never a second effect.

A key belongs to one owner (the principal, or the client's address when anonymous) for 24 hours.
The first request with it claims it IN_FLIGHT; once answered, the answer is kept and replayed to
repeats of the same request. The same key with a different request is refused (422), and a repeat
while the first is still running is refused too (409), so the work runs at most once.
"""

from __future__ import annotations

from datetime import timedelta

from orderline.application.errors import ApplicationError, InvalidInput
from orderline.application.ports import Clock, Database, KeyState, StoredResponse

LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency-key-reused"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different request; use a new key for a new request")


class IdempotencyKeyInUse(ApplicationError):
    code = "idempotency-key-in-use"

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed; retry when it has finished")


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput("Idempotency-Key", f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters")
    return key


class Idempotency:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def claim(self, owner: str, key: str, fingerprint: str) -> StoredResponse | None:
        """None: the key is ours, go ahead (then ``complete`` or ``release``). A response: replay it."""
        now = self._clock.now()
        async with self._db.transaction() as uow:
            if await uow.idempotency.claim(owner, check_key(key), fingerprint, now, now + LIFETIME):
                await uow.commit()
                return None
            record = await uow.idempotency.get(owner, key)
        if record is None:  # expired and taken over between our two statements: treat as busy
            raise IdempotencyKeyInUse
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused
        if record.state is KeyState.IN_FLIGHT or record.response is None:
            raise IdempotencyKeyInUse
        return record.response

    async def complete(self, owner: str, key: str, response: StoredResponse) -> None:
        async with self._db.transaction() as uow:
            await uow.idempotency.complete(owner, key, response)
            await uow.commit()

    async def release(self, owner: str, key: str) -> None:
        """The request failed without an answer worth keeping: the key may be used again."""
        async with self._db.transaction() as uow:
            await uow.idempotency.release(owner, key)
            await uow.commit()
