"""API keys for machine clients: created once, shown once, stored only as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from uuid import UUID

from orderline.application.errors import InvalidInput, NotFound, Unauthenticated
from orderline.application.ports import ApiKey, Clock, Database, IdGenerator
from orderline.application.principal import Principal, PrincipalKind, Scope

KEY_PREFIX = "olk_"


def hash_key(key: str) -> str:
    # A key carries 256 random bits, so a fast hash is enough: nothing to brute-force, and a
    # slow password hash (argon2) would cost every request tens of milliseconds.
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    scopes = set()
    for name in (n.strip() for n in names):
        if name not in Scope.__members__.values():
            known = ", ".join(s.value for s in Scope)
            raise InvalidInput("scopes", f"unknown scope {name!r}; known scopes: {known}")
        scopes.add(Scope(name))
    if not scopes:
        raise InvalidInput("scopes", "a key needs at least one scope")
    return frozenset(scopes)


class ApiKeys:
    def __init__(self, db: Database, clock: Clock, ids: IdGenerator) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids

    async def create(self, name: str, scopes: frozenset[Scope]) -> tuple[ApiKey, str]:
        """Return the stored key and its secret; the secret is never available again."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=self._ids.new_id(),
            name=name,
            prefix=secret[: len(KEY_PREFIX) + 6],
            key_hash=hash_key(secret),
            scopes=scopes,
            created_at=self._clock.now(),
        )
        async with self._db.transaction() as uow:
            await uow.api_keys.add(key)
            await uow.commit()
        return key, secret

    async def list(self) -> list[ApiKey]:
        async with self._db.snapshot() as uow:
            return await uow.api_keys.list()

    async def revoke(self, key_id: UUID) -> None:
        async with self._db.transaction() as uow:
            if not await uow.api_keys.revoke(key_id, self._clock.now()):
                raise NotFound("API key", key_id)
            await uow.commit()

    async def authenticate(self, secret: str) -> Principal:
        """The principal a bearer key stands for; an unknown or revoked key is refused."""
        async with self._db.snapshot() as uow:
            key = await uow.api_keys.find_by_hash(hash_key(secret))
        if key is None or key.revoked_at is not None:
            raise Unauthenticated("the API key is unknown or has been revoked")
        return Principal(PrincipalKind.API_KEY, key.id, key.scopes)
