"""Idempotency keys: a retried request with the same key gets the first answer, never a second effect.

A key belongs to one owner (the principal, or the client's address when anonymous) for 24 hours.
The first request with it claims it IN_FLIGHT. The use case that does the work completes the key
with its answer **in the transaction of the work**, so the two commit together: a crash can never
leave work done and its key unanswered. Repeats of the same request replay the answer; the same key
with a different request is refused (422), and a repeat while the first is still running is refused
too (409), so the work runs at most once. A key left IN_FLIGHT by a process that died before its work
committed is taken over after ``IN_FLIGHT_LEASE``: nothing was done, so the retry does it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Generic, TypeVar
from uuid import UUID

from orderline.application.errors import ApplicationError, InvalidInput
from orderline.application.ports import Clock, Database, KeyState, StoredResponse, UnitOfWork

T = TypeVar("T")

LIFETIME = timedelta(hours=24)
# Longer than any request runs (statements and gateway calls have timeouts far below it). A key still
# IN_FLIGHT after this long belongs to a request that died; its work did not commit, or it would
# have completed the key in the same transaction.
IN_FLIGHT_LEASE = timedelta(minutes=2)
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


class KeyClaim(Generic[T]):
    """A key held by the running request, and how its outcome becomes the answer to keep.

    The use case calls ``complete`` inside the transaction that commits the outcome, so the answer is
    stored exactly when the work is. A command of several transactions completes it in each that
    changes the answer (a cancel waiting for its refund, then the refund settled).
    """

    def __init__(self, owner: str, key: str, answer: Callable[[T], StoredResponse]) -> None:
        self.owner = owner
        self.key = key
        self._answer = answer
        self.completed = False

    async def complete(self, uow: UnitOfWork, outcome: T) -> None:
        await uow.idempotency.complete(self.owner, self.key, self._answer(outcome))
        self.completed = True


class Idempotency:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def claim(self, tenant: UUID, owner: str, key: str, fingerprint: str) -> StoredResponse | None:
        """None: the key is ours, go ahead (the work completes it, else ``complete`` or ``release``).
        A response: replay it."""
        now = self._clock.now()
        async with self._db.transaction(tenant) as uow:
            claimed = await uow.idempotency.claim(
                owner, check_key(key), fingerprint, now, expires_at=now + LIFETIME, stale_before=now - IN_FLIGHT_LEASE
            )
            if claimed:
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

    async def complete(self, tenant: UUID, owner: str, key: str, response: StoredResponse) -> None:
        """Keep the answer of a request whose work committed nothing of its own (e.g. a cancel already pending)."""
        async with self._db.transaction(tenant) as uow:
            await uow.idempotency.complete(owner, key, response)
            await uow.commit()

    async def release(self, tenant: UUID, owner: str, key: str) -> None:
        """The request failed without an answer worth keeping: the key may be used again."""
        async with self._db.transaction(tenant) as uow:
            await uow.idempotency.release(owner, key)
            await uow.commit()
