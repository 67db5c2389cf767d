"""The orders' read model in SQL: one statement per read, rows decoded straight into OrderView (ADR 0033).

No domain Order is built and no Money re-validated: what was checked when the order was written is shown as
it was stored. Each id is parsed once, amounts are formatted from their minor units once, and which orders a
list or a search means is storage/order_filters.py's ``listed`` or ``searched``, as for the domain's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import fields
from functools import lru_cache
from typing import Any, cast
from uuid import UUID

from orderline.application.ports import (
    AddressView,
    ApiKey,
    CustomerView,
    OrderAhead,
    OrderLineView,
    OrderView,
    ReadAhead,
    ShownOrder,
    UserStanding,
)
from orderline.application.principal import PUBLIC
from orderline.application.queries import OrderQuery, OrderSearch, Owner
from orderline.domain.money import decimal_string
from orderline.domain.order import NUMBER_OFFSET
from orderline.domain.user import Role, UserStatus
from orderline.storage.api_keys import BY_HASH, KEY_COLUMNS, key_from
from orderline.storage.driver import Connection, Row
from orderline.storage.order_filters import limit_of, listed, owner_columns, searched
from orderline.storage.postgres import PostgresDatabase
from orderline.storage.rows import as_datetime, as_opt_datetime, as_opt_uuid, as_uuid
from orderline.storage.sqlite import SqliteDatabase
from orderline.storage.users import STANDING

_ORDER_COLUMNS = (
    "id, seq, customer_id, currency, subtotal_minor, discount_minor, total_minor, note, status, cancel_reason,"
    " cancel_note, version, created_at, updated_at, cancelled_at, cancel_requested_at, paid_at, payment_status,"
    " captured_minor, refunded_minor, voucher_code, billing_address_id, tenant_seq"
)
# A row per line, the order's columns repeated: one round trip, and outside a transaction its own snapshot.
# The currency is the order's column (a line is priced in it), so no join to orders for it. The columns are
# read by position (_views unpacks them in this order): sqlite3.Row finds a name by comparing it,
# case-insensitively, with every column's, which cost more than the rest of the decoding.
_SELECTED = f"""{", ".join(f"o.{name.strip()}" for name in _ORDER_COLUMNS.split(","))},
       l.line_no, l.pet_id, l.name, l.unit_price_minor, l.quantity,
       a.line1, a.line2, a.city, a.state, a.postal_code, a.country"""
_LINES_AND_ADDRESS = """LEFT JOIN order_lines l ON l.order_id = o.id
LEFT JOIN billing_addresses a ON a.id = o.billing_address_id"""
_WITH_LINES = f"""
SELECT {_SELECTED}{{extra}}
FROM ({{orders}}) o
{_LINES_AND_ADDRESS}{{joins}}
ORDER BY o.seq DESC, l.line_no
"""  # noqa: S608
# The shown reads (ADR 0048): the same rows with each order's customer's columns after the address's (34-37)
# and, for a search, the count of every order it matches (38), in the same statement and so the same snapshot.
_CUSTOMER = ", u.email, u.first_name, u.last_name, u.status"
_CUSTOMER_JOIN = "\nLEFT JOIN users u ON u.id = o.customer_id AND u.tenant_id = :customer_tenant"

# One order: found by its key first, then checked to be the tenant's and the owner's. The LIMIT keeps those
# conditions out of the lookup (neither engine pushes a condition into a subquery with a LIMIT): with them
# inside, a planner whose statistics lag (a table never analysed, a bulk load) can take the owner's or the
# tenant's index instead of the primary key and walk every order of a customer or a tenant (5.5 ms against 0.2
# at 9k orders on PostgreSQL; ADR 0045, tests/integration/test_lookup_plans.py).
_ONE = """SELECT {columns} FROM (
    SELECT * FROM orders WHERE id = :view_id LIMIT 1
) found WHERE tenant_id = :view_tenant AND {owned}"""

_STANDING_COLUMNS = "c.role, c.status"
# Read ahead (ADR 0049): the request's credential (``c``: a user's standing, an API key) and one order of the tenant
# it acts in, whoever's the order is, in one statement. The credential's row leads, so an unknown credential is no
# row at all; the order is found by its key alone and its tenant compared in the join (ADR 0045). After the address
# (and a shown order's customer, found in the order's tenant): who placed it, then the credential's columns.
_AHEAD = f"""
SELECT {_SELECTED}{{extra}}, o.placed_by_key, {{credential_columns}}
FROM ({{credential}}) c
LEFT JOIN (
    SELECT {_ORDER_COLUMNS}, placed_by_key, tenant_id FROM (SELECT * FROM orders WHERE id = :view_id LIMIT 1) found
) o ON o.tenant_id = {{tenant}}
{_LINES_AND_ADDRESS}{{joins}}
ORDER BY l.line_no
"""  # noqa: S608
# A page read ahead (ADR 0049): the user's standing, then the page ``page`` would read (its rows' order and columns).
_PAGE_AHEAD = f"""
SELECT {_SELECTED}, {_STANDING_COLUMNS}
FROM ({{credential}}) c
LEFT JOIN ({{orders}}) o ON TRUE
{_LINES_AND_ADDRESS}
ORDER BY o.seq DESC, l.line_no
"""  # noqa: S608
_AHEAD_CUSTOMER_JOIN = "\nLEFT JOIN users u ON u.id = o.customer_id AND u.tenant_id = o.tenant_id"
_KEY_COLUMNS = ", ".join(f"c.{name.strip()}" for name in KEY_COLUMNS.split(","))

Unit = Callable[[UUID], AbstractAsyncContextManager[Any]]


class SqlOrderViews:
    """OrderViews over either engine: each read is one statement in autocommit, its own snapshot (PostgreSQL:
    ADR 0032; SQLite, on the event loop with no thread hop: ADR 0033, round 2)."""

    def __init__(self, db: SqliteDatabase | PostgresDatabase) -> None:
        self._unit: Unit = db.lookup
        self._dialect = db.dialect

    async def one(self, tenant: UUID, order_id: UUID, owner: Owner) -> OrderView | None:
        found = await self._read(tenant, *one_order(tenant, order_id, owner))
        return found[0] if found else None

    async def page(self, tenant: UUID, query: OrderQuery) -> list[OrderView]:
        return await self._read(tenant, *list_page(tenant, query, self._dialect))

    async def search(self, tenant: UUID, where: OrderSearch, *, offset: int, limit: int) -> list[OrderView]:
        matching = searched(where, tenant)
        return await self._read(tenant, _offset_page(matching.sql, limit), {**matching.params, "offset": offset})

    async def one_shown(self, tenant: UUID, order_id: UUID, owner: Owner) -> ShownOrder | None:
        sql, params = one_order(tenant, order_id, owner)
        statement = _WITH_LINES.format(orders=sql, extra=_CUSTOMER, joins=_CUSTOMER_JOIN)
        async with self._unit(tenant) as uow:
            connection: Connection = uow.connection
            rows = await connection.fetch_all(statement, {**params, "customer_tenant": tenant})
        return _shown(rows, tenant)[0] if rows else None

    async def search_shown(
        self, tenant: UUID, where: OrderSearch, *, offset: int, limit: int
    ) -> tuple[list[ShownOrder], int]:
        matching = searched(where, tenant)
        orders = _offset_page(matching.sql, limit)
        count = f"SELECT COUNT(*) AS n FROM orders {matching.sql}"  # noqa: S608
        statement = _WITH_LINES.format(orders=orders, extra=f"{_CUSTOMER}, ({count})", joins=_CUSTOMER_JOIN)
        params = {**matching.params, "offset": offset, "customer_tenant": tenant}
        async with self._unit(tenant) as uow:
            connection: Connection = uow.connection
            rows = await connection.fetch_all(statement, params)
            if rows:
                return _shown(rows, tenant), int(cast(Sequence[Any], rows[0])[38])
            # No row carries the count: nothing matches, or the page is past the end (then a statement of its own).
            counted = None if offset == 0 else await connection.fetch_one(count, matching.params)
        return [], 0 if counted is None else int(counted["n"])

    async def ahead_of_user(
        self, tenant: UUID, user_id: UUID, ahead: OrderAhead
    ) -> tuple[UserStanding | None, ReadAhead | None]:
        statement = _ahead_statement(STANDING, _STANDING_COLUMNS, ":tenant", ahead.shown)
        params = {"id": user_id, "tenant": tenant, "view_id": ahead.order_id}
        async with self._unit(tenant) as uow:
            connection: Connection = uow.connection
            rows = await connection.fetch_all(statement, params)
        if not rows:
            return None, None
        return _standing(rows[0], _credential_at(ahead.shown)), _read_ahead(rows, tenant, ahead)

    async def page_ahead_of_user(
        self, tenant: UUID, user_id: UUID, query: OrderQuery
    ) -> tuple[UserStanding | None, list[OrderView] | None]:
        orders, params = list_page(tenant, query, self._dialect)
        statement = _PAGE_AHEAD.format(credential=STANDING, orders=orders)
        async with self._unit(tenant) as uow:
            connection: Connection = uow.connection
            rows = await connection.fetch_all(statement, {**params, "id": user_id})
        if not rows:
            return None, None
        found = [] if cast(Sequence[Any], rows[0])[0] is None else _views(rows, None if tenant == PUBLIC else tenant)
        return _standing(rows[0], _PAGE_CREDENTIAL_AT), found

    async def ahead_of_key(
        self, key_hash: str, requested: UUID, ahead: OrderAhead
    ) -> tuple[ApiKey | None, ReadAhead | None]:
        statement = _ahead_statement(BY_HASH, _KEY_COLUMNS, "COALESCE(c.tenant_id, :requested)", ahead.shown)
        params = {"key_hash": key_hash, "requested": requested, "view_id": ahead.order_id}
        async with self._unit(PUBLIC) as uow:  # found by hash across tenants: its row names its own
            connection: Connection = uow.connection
            rows = await connection.fetch_all(statement, params)
        if not rows:
            return None, None
        key = key_from(tuple(cast(Sequence[Any], rows[0]))[_credential_at(ahead.shown) :])
        return key, _read_ahead(rows, requested if key.tenant is None else key.tenant, ahead)

    async def _read(self, tenant: UUID, orders_sql: str, params: dict[str, Any]) -> list[OrderView]:
        async with self._unit(tenant) as uow:
            connection: Connection = uow.connection
            rows = await connection.fetch_all(_WITH_LINES.format(orders=orders_sql, extra="", joins=""), params)
        return _views(rows, None if tenant == PUBLIC else tenant)


def one_order(tenant: UUID, order_id: UUID, owner: Owner) -> tuple[str, dict[str, Any]]:
    """The statement that finds one order of ``owner``'s, and its parameters (``_ONE``). The owner's columns are
    those of the lists (owner_columns), so a read and a list agree on whose orders are whose; ``:view_id`` and
    ``:view_tenant`` cannot clash with their parameter names."""
    owned = " AND ".join(f"{column} = :{column}" for column in owner_columns(owner)) or "TRUE"
    params: dict[str, Any] = {"view_id": order_id, "view_tenant": tenant, **owner_columns(owner)}
    return _ONE.format(columns=_ORDER_COLUMNS, owned=owned), params


@lru_cache(maxsize=8)
def _ahead_statement(credential: str, credential_columns: str, tenant: str, shown: bool) -> str:
    extra, joins = (_CUSTOMER, _AHEAD_CUSTOMER_JOIN) if shown else ("", "")
    return _AHEAD.format(
        credential=credential, credential_columns=credential_columns, tenant=tenant, extra=extra, joins=joins
    )


# Where a read-ahead row's credential columns start, counted from the statements' own column lists: a page's after
# the order's, its line's and its address's; an order's also after a shown order's customer's and who placed it.
_PAGE_CREDENTIAL_AT = _SELECTED.count(",") + 1
_CUSTOMER_COLUMNS = _CUSTOMER.count(",")


def _credential_at(shown: bool) -> int:
    return _PAGE_CREDENTIAL_AT + (_CUSTOMER_COLUMNS if shown else 0) + 1


def _standing(row: Row, at: int) -> UserStanding:
    """A user's standing from a read-ahead row whose credential columns (role, status) start at ``at``."""
    role, status = tuple(cast(Sequence[Any], row))[at:]
    return UserStanding(Role(role), UserStatus(status))


def _read_ahead(rows: list[Row], tenant: UUID, ahead: OrderAhead) -> ReadAhead:
    """The order of read-ahead ``rows`` (one row with no order's columns: the tenant has no such order)."""
    first = cast(Sequence[Any], rows[0])
    if first[0] is None:
        return ReadAhead(tenant, ahead.order_id, None)
    placed_by_key = as_opt_uuid(first[_credential_at(ahead.shown) - 1])
    if ahead.shown:
        view, customer = _shown(rows, tenant)[0]
        return ReadAhead(tenant, ahead.order_id, view, placed_by_key, customer)
    view = _views(rows, None if tenant == PUBLIC else tenant)[0]
    return ReadAhead(tenant, ahead.order_id, view, placed_by_key)


def list_page(tenant: UUID, query: OrderQuery, dialect: str) -> tuple[str, dict[str, Any]]:
    """The orders part of a list's statement, newest first, one more than the page (is there a next page?)."""
    where = listed(query, tenant, dialect)
    orders = f"SELECT {_ORDER_COLUMNS} FROM orders {where.sql} ORDER BY seq DESC {limit_of(query.limit + 1)}"  # noqa: S608
    return orders, where.params


def _offset_page(where_sql: str, limit: int) -> str:
    """The orders part of an offset-paged search, newest first. OFFSET stays bound: a statement per offset would
    fill the statement cache (ADR 0045)."""
    return f"SELECT {_ORDER_COLUMNS} FROM orders {where_sql} ORDER BY seq DESC {limit_of(limit)} OFFSET :offset"  # noqa: S608


def _shown(rows: list[Row], tenant: UUID) -> list[ShownOrder]:
    """The orders of ``rows`` read with their customers' columns, each with its customer's row (if any)."""
    customers: list[CustomerView | None] = []
    current: Any = None
    for row in cast(list[Sequence[Any]], rows):  # both drivers' rows are sequences in SELECT order
        if row[0] != current:
            current = row[0]
            customers.append(None if row[34] is None else CustomerView(row[34], row[35], row[36], row[37]))
    return list(zip(_views(rows, None if tenant == PUBLIC else tenant), customers, strict=True))


def _views(rows: list[Row], tenant_id: UUID | None) -> list[OrderView]:
    """The orders of ``rows`` (a row per line, newest order first), each with its lines in order."""
    views: list[OrderView] = []
    current: Any = None
    uuids = _Uuids()  # a page's orders share their customer and often their pets: each parsed once
    for row in rows:
        values = tuple(cast(Iterable[Any], row))  # both drivers' rows are sequences in SELECT order
        if values[0] != current:
            current = values[0]
            views.append(_order(values, uuids, tenant_id))
        if values[23] is not None:
            view = views[-1]
            view.items.append(_line(values[23:28], view.currency, uuids))
    return views


class _Uuids(dict[Any, UUID]):
    """Stored ids as UUIDs, each distinct one parsed once (SQLite stores hex text; asyncpg gives UUIDs)."""

    def __missing__(self, stored: Any) -> UUID:
        parsed = self[stored] = as_uuid(stored)
        return parsed


def _line(values: Sequence[Any], currency: str, uuids: _Uuids) -> OrderLineView:
    line_no, pet_id, name, unit_price, quantity = values
    return OrderLineView(
        line_no,
        uuids[pet_id],
        name,
        decimal_string(unit_price, currency),
        quantity,
        decimal_string(unit_price * quantity, currency),
    )


# OrderView's fields, in the order ``_order`` passes them; checked once, on import, against the class.
_VIEW_FIELDS = (
    "id",
    "seq",
    "number",
    "user_id",
    "status",
    "currency",
    "items",
    "note",
    "total_amount",
    "subtotal_amount",
    "discount_amount",
    "voucher_code",
    "billing_address",
    "payment_status",
    "paid_amount",
    "refunded_amount",
    "paid_at",
    "cancel_reason",
    "cancel_note",
    "cancel_requested_at",
    "cancelled_at",
    "created_at",
    "updated_at",
    "version",
    "tenant_id",
)
if tuple(field.name for field in fields(OrderView)) != _VIEW_FIELDS:
    raise RuntimeError("OrderView's fields changed: update _order, which passes them by position")


def _order(values: Sequence[Any], uuids: _Uuids, tenant_id: UUID | None) -> OrderView:
    (id_, seq, customer_id, currency, subtotal, discount, total, note, status, cancel_reason, cancel_note,
     version, created_at, updated_at, cancelled_at, cancel_requested_at, paid_at, payment_status, captured,
     refunded, voucher_code, address_id, tenant_seq) = values[:23]  # fmt: skip
    address = None if address_id is None or values[28] is None else AddressView(*values[28:34])
    # Positionally, in _VIEW_FIELDS's order: a call with 25 keywords cost 0.75 µs more per order of a page.
    return OrderView(
        uuids[id_],  # id
        seq,  # seq
        str(NUMBER_OFFSET + (seq if tenant_seq is None else tenant_seq)),  # number
        None if customer_id is None else uuids[customer_id],  # user_id
        status,  # status
        currency,  # currency
        [],  # items
        note,  # note
        decimal_string(total, currency),  # total_amount
        decimal_string(subtotal, currency),  # subtotal_amount
        decimal_string(discount, currency),  # discount_amount
        voucher_code,  # voucher_code
        address,  # billing_address
        payment_status,  # payment_status
        decimal_string(captured, currency),  # paid_amount
        decimal_string(refunded, currency),  # refunded_amount
        as_opt_datetime(paid_at),  # paid_at
        cancel_reason,  # cancel_reason
        cancel_note,  # cancel_note
        as_opt_datetime(cancel_requested_at),  # cancel_requested_at
        as_opt_datetime(cancelled_at),  # cancelled_at
        as_datetime(created_at),  # created_at
        as_datetime(updated_at),  # updated_at
        version,  # version
        tenant_id,  # tenant_id
    )
