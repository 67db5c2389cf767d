"""Finding orders the way shop staff ask for them: by the number on a receipt, by the customer's username."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from orderline.application.errors import InvalidInput, NotFound
from orderline.application.orders import OrderFilter, Orders
from orderline.application.pagination import Page
from orderline.application.ports import Database
from orderline.application.principal import Principal, Scope
from orderline.domain.order import NUMBER_OFFSET, Order
from orderline.domain.user import UserStatus


@dataclass(frozen=True, slots=True)
class StaffSearch:
    """What a member of staff typed: ``customer`` is a username or a user id; the rest as OrderFilter."""

    where: OrderFilter
    customer: str | None = None


class OrderFinder:
    def __init__(self, db: Database, orders: Orders) -> None:
        self._db = db
        self._orders = orders

    async def by_number(self, principal: Principal, number: str) -> Order:
        """The order with this number ("1001", "#1001"); NotFound for any other text or an unknown number."""
        text = number.strip().removeprefix("#")
        if not text.isascii() or not text.isdigit() or int(text) <= NUMBER_OFFSET:
            raise NotFound("order", number)
        return await self._orders.get_by_number(principal, int(text) - NUMBER_OFFSET)

    async def search(
        self, principal: Principal, search: StaffSearch, *, limit: int, cursor: str | None = None
    ) -> Page[Order]:
        """Every customer's orders matching ``search``, newest first, keyset-paged (Orders.list_all)."""
        principal.require(Scope.SUPPORT)
        where = search.where
        if search.customer:
            where = replace(where, customer_id=await self._customer(principal, search))
        return await self._orders.list_all(principal, where, limit=limit, cursor=cursor)

    async def _customer(self, principal: Principal, search: StaffSearch) -> UUID:
        text = (search.customer or "").strip()
        try:
            return UUID(text)
        except ValueError:
            pass
        async with self._db.snapshot(principal.tenant) as uow:
            user = await uow.users.get_by_username(text.lower())
        if user is None or user.status is UserStatus.DELETED:
            raise InvalidInput("customer", f"no customer is called {text!r}", "not-found")
        return user.id
