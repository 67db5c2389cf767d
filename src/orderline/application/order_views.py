"""Reading orders through the read model: one order, a page or an offset search of them, as OrderView.

The rules of the domain reads (Orders.get, Orders.list, Orders.search) answer here: the scope is required, a
caller sees the orders ``visible_to`` it (others are 404, so ids reveal nothing) and lists its own
(``owner_of``); only the way the rows become an answer differs: no domain Order (ADR 0033).
"""

from __future__ import annotations

import builtins
from typing import TypeGuard
from uuid import UUID

from orderline.application.errors import NotFound
from orderline.application.order_search import visible_search
from orderline.application.orders import OrderFilter
from orderline.application.ownership import owner_of, shows, visible_to
from orderline.application.pagination import Page, check_offset_page, decode_seq_cursor, page_of
from orderline.application.ports import CustomerView, OrderView, OrderViews, PageRead, Read, ReadAhead, ShownOrder
from orderline.application.principal import Principal, Scope
from orderline.application.queries import OrderQuery, OrderSearch, Owner
from orderline.application.users import shown_customer

# The kind of cursor Orders.list writes: one list of orders, whichever path reads it (a cursor of either
# continues in the other, so a deploy between two pages breaks no client).
ORDERS_CURSOR = "orders"


class OrderReads:
    def __init__(self, views: OrderViews) -> None:
        self._views = views

    async def get(self, principal: Principal, order_id: UUID, read: Read | None = None) -> OrderView:
        """The order, if ``principal`` may see it; ``read``, the order read ahead with the credential (ADR 0049),
        stands for the read when it is of this order in the principal's tenant."""
        principal.require(Scope.READ_ORDERS)
        owner = visible_to(principal)
        if _answers(read, principal, order_id):
            view = read.view if shows(owner, read) else None
        else:
            view = await self._views.one(principal.tenant, order_id, owner)
        if view is None:
            raise NotFound("order", order_id)
        return view

    async def get_shown(self, principal: Principal, order_id: UUID, read: Read | None = None) -> ShownOrder:
        """``get``, with the order's customer as ``shown_customer`` shows them, read in the order's statement
        (ADR 0048: one round trip where the account's own read took three); ``read`` as for ``get``."""
        principal.require(Scope.READ_ORDERS)
        owner = visible_to(principal)
        if _answers(read, principal, order_id):
            found = (read.view, read.customer) if read.view is not None and shows(owner, read) else None
        else:
            found = await self._views.one_shown(principal.tenant, order_id, owner)
        if found is None:
            raise NotFound("order", order_id)
        view, customer = found
        return view, shown_customer(principal, view.user_id, customer)

    async def list(
        self,
        principal: Principal,
        where: OrderFilter,
        *,
        limit: int,
        cursor: str | None = None,
        read: Read | None = None,
    ) -> Page[OrderView]:
        """The caller's own orders, newest first; a cursor of Orders.list continues here and back. ``read``, a page
        read ahead with the credential (ADR 0049), stands for the read when it is of this very query and tenant."""
        principal.require(Scope.READ_ORDERS)
        query = own_page(owner_of(principal), where, limit, cursor)
        if isinstance(read, PageRead) and read.query == query and read.tenant == principal.tenant:
            views = read.views
        else:
            views = await self._views.page(principal.tenant, query)
        return page_of(views, limit, ORDERS_CURSOR, lambda view: view.seq)

    async def search(
        self, principal: Principal, where: OrderSearch, *, offset: int, limit: int
    ) -> builtins.list[OrderView]:
        """What Orders.search finds, as views: the orders ``principal`` may see that match ``where``, newest
        first, as an offset page (``limit`` 1 to 250, ``offset`` 0 to 10,000, else InvalidInput)."""
        principal.require(Scope.READ_ORDERS)
        check_offset_page(offset, limit)
        visible = visible_search(principal, where)
        if visible is None:
            return []
        return await self._views.search(principal.tenant, visible, offset=offset, limit=limit)

    async def search_shown(
        self, principal: Principal, where: OrderSearch, *, offset: int, limit: int
    ) -> tuple[builtins.list[ShownOrder], int]:
        """``search``, each order with its customer as ``shown_customer`` shows them, and the count of all the
        orders it pages through (what Orders.count counts), all read in one statement (ADR 0048)."""
        principal.require(Scope.READ_ORDERS)
        check_offset_page(offset, limit)
        visible = visible_search(principal, where)
        if visible is None:
            return [], 0
        found, count = await self._views.search_shown(principal.tenant, visible, offset=offset, limit=limit)
        shown: dict[UUID | None, CustomerView | None] = {}  # a page's orders are mostly one customer's
        for view, customer in found:
            if view.user_id not in shown:
                shown[view.user_id] = shown_customer(principal, view.user_id, customer)
        return [(view, shown[view.user_id]) for view, _customer in found], count


def _answers(read: Read | None, principal: Principal, order_id: UUID) -> TypeGuard[ReadAhead]:
    """Whether ``read`` is the read of ``order_id`` in the principal's tenant (it was made for this request)."""
    return isinstance(read, ReadAhead) and read.order_id == order_id and read.tenant == principal.tenant


def own_page(owner: Owner, where: OrderFilter, limit: int, cursor: str | None) -> OrderQuery:
    """The query of a page of ``owner``'s orders (``list``'s); InvalidInput for a cursor not of this list."""
    before = decode_seq_cursor(ORDERS_CURSOR, cursor) if cursor else None
    return OrderQuery(where.status, where.created_after, where.created_before, limit, before, owner)
