"""API keys for machine clients: created once, shown once, stored only as a hash, revocable."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record, changes
from orderline.application.credentials import API_KEY_PREFIX, hash_secret, new_secret
from orderline.application.errors import InvalidInput, NotFound
from orderline.application.ports import ApiKey
from orderline.application.principal import SYSTEM, Principal, Scope
from orderline.application.use_case import UseCase


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


class ApiKeys(UseCase):
    """Managed from the command line, so the actor is the system itself."""

    async def create(
        self, name: str, scopes: frozenset[Scope], actor: Principal = SYSTEM, *, tenant: UUID | None = None
    ) -> tuple[ApiKey, str]:
        """Return the stored key and its secret; the secret is never available again. A key bound to
        ``tenant`` only ever acts in it; an unbound key (None: the operator's) acts in the tenant a request names."""
        secret = new_secret(API_KEY_PREFIX)
        key = ApiKey(
            id=self._ids.new_id(),
            name=name,
            prefix=secret[: len(API_KEY_PREFIX) + 6],
            key_hash=hash_secret(secret),
            scopes=scopes,
            created_at=self._clock.now(),
            tenant=tenant,
        )
        created = changes({}, {"name": name, "scopes": sorted(scopes)} | ({"tenant": str(tenant)} if tenant else {}))
        async with self._db.transaction(actor.tenant if tenant is None else tenant) as uow:
            await uow.api_keys.add(key)
            await self._record(uow, actor, Record(Action.API_KEY_CREATED, EntityType.API_KEY, key.id, created))
            await uow.commit()
        return key, secret

    async def list(self, actor: Principal = SYSTEM) -> list[ApiKey]:
        """The keys of the actor's tenant (the public pool's: also every unbound key)."""
        async with self._db.snapshot(actor.tenant) as uow:
            return await uow.api_keys.list()

    async def revoke(self, key_id: UUID, actor: Principal = SYSTEM) -> None:
        async with self._db.transaction(actor.tenant) as uow:
            if not await uow.api_keys.revoke(key_id, self._clock.now()):
                raise NotFound("API key", key_id)
            await self._record(uow, actor, Record(Action.API_KEY_REVOKED, EntityType.API_KEY, key_id))
            await uow.commit()
