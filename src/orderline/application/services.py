"""The use cases of one running service, wired by the composition root and handed to adapters."""

from __future__ import annotations

from dataclasses import dataclass

from orderline.application.api_keys import ApiKeys
from orderline.application.catalogue import Catalogue
from orderline.application.orders import Orders
from orderline.application.ports import Clock, Database, IdGenerator


@dataclass(frozen=True, slots=True)
class Services:
    db: Database
    clock: Clock
    ids: IdGenerator
    catalogue: Catalogue
    orders: Orders
    api_keys: ApiKeys

    @classmethod
    def wire(cls, db: Database, clock: Clock, ids: IdGenerator) -> Services:
        return cls(
            db=db,
            clock=clock,
            ids=ids,
            catalogue=Catalogue(db, clock, ids),
            orders=Orders(db, clock, ids),
            api_keys=ApiKeys(db, clock, ids),
        )

    async def close(self) -> None:
        await self.db.close()
