"""Orders in SQL: the order row, its lines, optimistic saves, newest-first keyset lists and offset searches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from orderline.application.ports import OrderCounts
from orderline.application.principal import PUBLIC
from orderline.application.queries import OrderQuery, OrderSearch, Owner
from orderline.domain.address import Address
from orderline.domain.money import Money
from orderline.domain.order import CancelReason, Order, OrderLine
from orderline.domain.payment import OrderPaymentStatus, PaymentSummary
from orderline.domain.status import OrderStatus
from orderline.storage.driver import Connection, Row, Write
from orderline.storage.keys import found, key_of
from orderline.storage.order_filters import Where, limit_of, listed, searched
from orderline.storage.payments import SqlPaymentRepository
from orderline.storage.rows import as_datetime, as_opt_datetime, as_opt_uuid, as_uuid
from orderline.storage.versions import Seen

_COLUMNS = (
    "id, seq, customer_id, currency, subtotal_minor, discount_minor, total_minor, note, status,"
    " cancel_reason, cancel_note, version, created_at, updated_at, cancelled_at, shipped_at,"
    " delivered_at, placed_by_key, voucher_id, voucher_code, billing_address_id, cancel_requested_at, paid_at,"
    " payment_status, captured_minor, refunded_minor, tenant_seq"
)

# An order with its lines and billing address in one statement: a row per line (the order's columns
# repeated), so a read is one round trip and, outside a transaction, its own snapshot. The currency comes
# from the order's columns, not a join. ``{orders}`` is the orders to read: a subquery of orders rows.
_ORDER_COLUMNS = ", ".join(f"o.{name.strip()}" for name in _COLUMNS.split(","))
_WITH_LINES = f"""
SELECT {_ORDER_COLUMNS}{{extra}},
       l.line_no AS l_line_no, l.pet_id AS l_pet_id, l.name AS l_name, l.unit_price_minor AS l_unit_price_minor,
       l.quantity AS l_quantity,
       a.line1 AS a_line1, a.line2 AS a_line2, a.city AS a_city, a.state AS a_state,
       a.postal_code AS a_postal_code, a.country AS a_country
FROM ({{orders}}) o
LEFT JOIN order_lines l ON l.order_id = o.id
LEFT JOIN billing_addresses a ON a.id = o.billing_address_id
ORDER BY o.seq DESC, l.line_no
"""  # noqa: S608

# The order is numbered by the statement that inserts it ({seq}: the next value, per dialect; {number}: its place
# in its tenant's count, NULL in the public pool), not by a statement of its own before: both come back with
# RETURNING.
_INSERT = f"""
INSERT INTO orders ({_COLUMNS}, tenant_id)
VALUES (:id, {{seq}}, :customer_id, :currency, :subtotal_minor, :discount_minor, :total_minor, :note,
        :status, :cancel_reason, :cancel_note, :version, :created_at, :updated_at, :cancelled_at,
        :shipped_at, :delivered_at, :placed_by_key, :voucher_id, :voucher_code, :billing_address_id,
        :cancel_requested_at, :paid_at, :payment_status, :captured_minor, :refunded_minor, {{number}}, :tenant)
"""  # noqa: S608
_NEXT_SEQ = {"postgresql": "nextval('order_seq')", "sqlite": "(SELECT COALESCE(MAX(seq), 0) + 1 FROM orders)"}

# A tenant's next number (ADR 0040): its counter row, taken in the placement's own INSERT on PostgreSQL (a CTE),
# so no round trip is added and the row stays locked only from there to COMMIT. SQLite has one writer anyway.
_COUNT = """INSERT INTO tenant_counters (tenant_id, last_seq) VALUES (:tenant, 1)
ON CONFLICT (tenant_id) DO UPDATE SET last_seq = tenant_counters.last_seq + 1"""
_NEXT_NUMBER = {
    "postgresql": "(SELECT last_seq FROM n)",
    "sqlite": "(SELECT last_seq FROM tenant_counters WHERE tenant_id = :tenant)",
}

# One order by its key, its tenant compared outside (storage/keys.py, ADR 0045): never by a tenant-led index.
_BY_ID = found("orders", _COLUMNS)

# The order read under its lock on PostgreSQL, with its payments and refunds (each a JSON array of rows, in the
# order of_order and refunds_of give), so a cancel or a payment reads all it needs in one round trip.
_WITH_MONEY_FACTS = found(
    "orders",
    f"""{_COLUMNS},
    (SELECT json_agg(p ORDER BY p.created_at, p.id) FROM payments p WHERE p.order_id = found.id) AS payments,
    (SELECT json_agg(r ORDER BY r.requested_at, r.id) FROM refunds r WHERE r.order_id = found.id) AS refunds""",  # noqa: S608
)

_KEY = key_of("orders")
_LINK_ADDRESS = f"UPDATE orders SET billing_address_id = :address_id WHERE id = {_KEY}"  # noqa: S608
_DELETE = f"DELETE FROM orders WHERE id = {_KEY}"  # noqa: S608

_INSERT_LINES = "INSERT INTO order_lines (order_id, line_no, pet_id, name, unit_price_minor, quantity) VALUES "
_LINE_COLUMNS = ("order_id", "line_no", "pet_id", "name", "unit_price_minor", "quantity")

_INSERT_ADDRESS = """
INSERT INTO billing_addresses (id, line1, line2, city, state, postal_code, country, created_at)
VALUES (:id, :line1, :line2, :city, :state, :postal_code, :country, :created_at)
"""
_INSERT_NEW_ADDRESS = _INSERT_ADDRESS.replace(":", ":a_")

# The billing address is relinked on its own (link_billing_address), as a new row; lines as they changed.
_UPDATE = f"""
UPDATE orders SET status = :status, cancel_reason = :cancel_reason, cancel_note = :cancel_note,
    cancelled_at = :cancelled_at, shipped_at = :shipped_at, delivered_at = :delivered_at,
    cancel_requested_at = :cancel_requested_at, paid_at = :paid_at, payment_status = :payment_status,
    captured_minor = :captured_minor, refunded_minor = :refunded_minor,
    subtotal_minor = :subtotal_minor, discount_minor = :discount_minor, total_minor = :total_minor,
    voucher_id = :voucher_id, voucher_code = :voucher_code, updated_at = :updated_at, version = :version
WHERE id = {_KEY} AND version = :expected
"""  # noqa: S608
_UPDATE_LINE = "UPDATE order_lines SET quantity = :quantity WHERE order_id = :order_id AND line_no = :line_no"
_DELETE_LINE = "DELETE FROM order_lines WHERE order_id = :order_id AND line_no = :line_no"


class SqlOrderRepository:
    def __init__(self, connection: Connection, payments: SqlPaymentRepository, tenant: UUID) -> None:
        self._db = connection
        self._tenant = tenant
        self._tenant_id = None if tenant == PUBLIC else tenant  # as orders show it
        self._payments = payments  # handed the order's payments and refunds when a locked read brings them
        self._seen = Seen()
        self._lines_seen: dict[UUID, dict[int, int]] = {}  # quantity of each line as read, by order and line id
        self.seen: dict[UUID, Order] = {}  # each order this transaction loaded or wrote, as it last did (events)

    async def get(self, order_id: UUID, *, for_update: bool = False) -> Order | None:
        if not for_update:
            found = await self._with_lines(_BY_ID, self._id(order_id))
        elif await self._db.lock("orders", order_id, self._tenant):
            # Lock first, then read in a statement of its own: a statement that waited for the lock reads the rows
            # it joins as of its start, so lines, payments or refunds another transaction just wrote would be
            # missed. The order's payments and refunds come with it (PostgreSQL): they only change under its lock.
            found = await self._locked_read(order_id)
        else:
            return None
        if not found:
            return None
        self._remember(found[0])
        return found[0]

    async def _locked_read(self, order_id: UUID) -> list[Order]:
        if self._db.dialect != "postgresql":  # SQLite reads payments when asked: microseconds, no round trip
            return await self._with_lines(_BY_ID, self._id(order_id))
        return await self._with_lines(_WITH_MONEY_FACTS, self._id(order_id), self._payments)

    def _id(self, order_id: UUID) -> dict[str, Any]:
        return {"id": order_id, "tenant": self._tenant}

    def _remember(self, order: Order) -> None:
        self._seen.remember(order.id, order.version)
        self.seen[order.id] = order
        self._lines_seen[order.id] = {line.id: line.quantity for line in order.lines}

    async def add(self, order: Order, address_id: UUID | None = None) -> None:
        """Insert the order, its lines, and its billing address (as its own row, under ``address_id``), and number
        it: ``order.seq`` becomes the one its row was given. One statement on PostgreSQL."""
        params = {**_params(order), "billing_address_id": address_id, "tenant": self._tenant}
        statements = []
        if order.billing_address is not None:
            assert address_id is not None, "a billing address needs the id of its row"
            address = {"id": address_id, **_address_params(order.billing_address), "created_at": order.created_at}
            params |= {f"a_{name}": value for name, value in address.items()}
            statements.append(_INSERT_NEW_ADDRESS)
        lines, rows = _lines_insert(order)
        params |= rows
        dialect, counted = self._db.dialect, self._tenant != PUBLIC
        insert = _insert_sql(dialect, counted)
        if dialect == "postgresql":
            # Foreign keys are checked at the end of the statement: the lines and the address may share it.
            ctes = [f"w{n} AS ({sql})" for n, sql in enumerate([*statements, lines])]
            if counted:
                ctes.insert(0, f"n AS ({_COUNT} RETURNING last_seq)")
            sql = f"WITH {', '.join(ctes)}, o AS ({insert} RETURNING seq, tenant_seq) SELECT * FROM o"  # noqa: S608
            row = await self._db.fetch_one(sql, params)
        else:
            for sql in [*statements, _COUNT] if counted else statements:
                await self._db.execute(sql, params)
            row = await self._db.fetch_one(f"{insert} RETURNING seq, tenant_seq", params)
            await self._db.execute(lines, params)
        assert row is not None, "an INSERT … RETURNING returns its row"
        order.seq = int(row["seq"])
        order.tenant_seq = None if row["tenant_seq"] is None else int(row["tenant_seq"])
        order.tenant_id = self._tenant_id
        self._remember(order)

    async def save(self, order: Order) -> None:
        """The order row, checked against the version read (the one optimistic check), then its lines as they
        changed since: a quantity written, a removed line deleted. Lines are never added after placement. Sent
        with the transaction's next statement or COMMIT (PostgreSQL), checked before anything after it answers."""
        expected = self._seen.version_of(order.id)
        version, what = order.version, f"order {order.id}"

        def check(changed: int) -> None:
            self._seen.saved(order.id, version, changed=changed, what=what)

        params = {**_params(order), "expected": expected, "tenant": self._tenant}
        await self._db.write(Write(_UPDATE, params, ("orders", order.id), check))
        quantities = {line.id: line.quantity for line in order.lines}
        for line_no, quantity in self._lines_seen[order.id].items():
            key = {"order_id": order.id, "line_no": line_no}
            line = ("order_lines", (order.id, line_no))
            if line_no not in quantities:
                await self._db.write(Write(_DELETE_LINE, key, line))
            elif quantities[line_no] != quantity:
                await self._db.write(Write(_UPDATE_LINE, {**key, "quantity": quantities[line_no]}, line))
        self._remember(order)

    async def link_billing_address(self, order_id: UUID, address: Address, address_id: UUID, now: datetime) -> None:
        """Point the order at a new billing address row; the old row stays (as erasure keeps address rows)."""
        row = {"id": address_id, **_address_params(address), "created_at": now}
        await self._db.execute(_INSERT_ADDRESS, row)
        await self._db.execute(_LINK_ADDRESS, {"address_id": address_id, **self._id(order_id)})

    async def remove(self, order_id: UUID) -> None:
        # Lines and the order token go with it (ON DELETE CASCADE); the billing address row stays. Nobody reads what
        # it changed (the order was read under its lock), so on PostgreSQL it travels with the transaction's next
        # statement or its COMMIT, as the saves do (ADR 0034), not in a round trip of its own (ADR 0046).
        await self._db.write(Write(_DELETE, self._id(order_id), ("orders", order_id)))

    async def get_by_seq(self, seq: int) -> Order | None:
        sql = "SELECT id FROM orders WHERE seq = :seq AND tenant_id = :tenant"
        row = await self._db.fetch_one(sql, {"seq": seq, "tenant": self._tenant})
        return None if row is None else await self.get(as_uuid(row["id"]))

    async def get_by_number(self, counted: int) -> Order | None:
        column = "seq" if self._tenant == PUBLIC else "tenant_seq"  # as Order.number counts
        sql = f"SELECT id FROM orders WHERE {column} = :n AND tenant_id = :tenant"  # noqa: S608
        row = await self._db.fetch_one(sql, {"n": counted, "tenant": self._tenant})
        return None if row is None else await self.get(as_uuid(row["id"]))

    async def ids_by_seq(self, seqs: Sequence[int], owner: Owner) -> dict[int, UUID]:
        if not seqs:
            return {}
        where = Where(self._tenant)
        where.any_of("seq", list(seqs))
        where.owned_by(owner)
        rows = await self._db.fetch_all(f"SELECT seq, id FROM orders {where.sql}", where.params)  # noqa: S608
        return {int(row["seq"]): as_uuid(row["id"]) for row in rows}

    async def find(self, query: OrderQuery) -> list[Order]:
        where = listed(query, self._tenant, self._db.dialect)
        sql = f"SELECT {_COLUMNS} FROM orders {where.sql} ORDER BY seq DESC {limit_of(query.limit + 1)}"  # noqa: S608
        return await self._with_lines(sql, where.params)

    async def search(self, where: OrderSearch, *, offset: int, limit: int) -> list[Order]:
        matching = searched(where, self._tenant)
        sql = f"SELECT {_COLUMNS} FROM orders {matching.sql} ORDER BY seq DESC {limit_of(limit)} OFFSET :offset"  # noqa: S608
        return await self._with_lines(sql, {**matching.params, "offset": offset})

    async def count(self, where: OrderSearch) -> int:
        matching = searched(where, self._tenant)
        row = await self._db.fetch_one(f"SELECT COUNT(*) AS n FROM orders {matching.sql}", matching.params)  # noqa: S608
        assert row is not None, "an aggregate always has a row"
        return int(row["n"])

    async def _with_lines(
        self, orders_sql: str, params: dict[str, Any], payments: SqlPaymentRepository | None = None
    ) -> list[Order]:
        """The orders ``orders_sql`` selects (newest first), each with its lines and address, in one statement;
        ``payments`` is handed each order's payments and refunds, which ``orders_sql`` then selects too."""
        extra = ", o.payments, o.refunds" if payments is not None else ""
        rows = await self._db.fetch_all(_with_lines_sql(orders_sql, extra), params)
        found: dict[Any, tuple[Row, list[OrderLine]]] = {}
        for row in rows:
            key = row["id"]
            if key not in found:
                found[key] = (row, [])
            if row["l_line_no"] is not None:
                found[key][1].append(_line(row))
        orders = [_order(row, lines, _joined_address(row), self._tenant_id) for row, lines in found.values()]
        if payments is not None:
            for order, (row, _lines) in zip(orders, found.values(), strict=True):
                payments.hold(order.id, row["payments"], row["refunds"])
        return orders

    async def count_by_status(self) -> dict[str, int]:
        sql = "SELECT status, COUNT(*) AS n FROM orders WHERE tenant_id = :tenant GROUP BY status ORDER BY status"
        rows = await self._db.fetch_all(sql, {"tenant": self._tenant})
        return {row["status"]: int(row["n"]) for row in rows}

    async def counts_since(self, since: datetime) -> OrderCounts:
        sql = """SELECT COUNT(*) AS orders,
                        COALESCE(SUM(CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END), 0) AS cancelled
                 FROM orders WHERE tenant_id = :tenant AND created_at >= :since"""
        row = await self._db.fetch_one(sql, {"since": since, "tenant": self._tenant})
        assert row is not None, "an aggregate always has a row"
        return OrderCounts(int(row["orders"]), int(row["cancelled"]))


def _line(row: Row) -> OrderLine:
    unit_price = Money(int(row["l_unit_price_minor"]), row["currency"])
    return OrderLine(as_uuid(row["l_pet_id"]), row["l_name"], unit_price, row["l_quantity"], int(row["l_line_no"]))


def _joined_address(row: Row) -> Address | None:
    if row["billing_address_id"] is None or row["a_line1"] is None:
        return None
    line1, line2, state = row["a_line1"], row["a_line2"], row["a_state"]
    return Address(line1, row["a_city"], row["a_postal_code"], row["a_country"], line2, state)


def _address_params(address: Address) -> dict[str, Any]:
    return {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _params(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "seq": order.seq,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "subtotal_minor": order.subtotal.amount_minor,
        "discount_minor": order.discount_total.amount_minor,
        "total_minor": order.total.amount_minor,
        "note": order.note,
        "status": order.status.value,
        "cancel_reason": None if order.cancel_reason is None else order.cancel_reason.value,
        "cancel_note": order.cancel_note,
        "version": order.version,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "cancelled_at": order.cancelled_at,
        "cancel_requested_at": order.cancel_requested_at,
        "paid_at": order.paid_at,
        "payment_status": order.payment_status.value,
        "captured_minor": order.payment_summary.captured.amount_minor,
        "refunded_minor": order.payment_summary.refunded.amount_minor,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "placed_by_key": order.placed_by_key,
        "voucher_id": order.voucher_id,
        "voucher_code": order.voucher_code,
    }


# A stored status, reason or payment status to its member by a dict read: what ``OrderStatus(value)`` gives for
# the values these columns hold, without the enum's call machinery (three of them per order read; ADR 0046).
_STATUSES = {member.value: member for member in OrderStatus}
_REASONS = {member.value: member for member in CancelReason}
_PAYMENT_STATUSES = {member.value: member for member in OrderPaymentStatus}


def _order(row: Row, lines: list[OrderLine], address: Address | None, tenant_id: UUID | None) -> Order:
    currency = row["currency"]
    reason = row["cancel_reason"]
    return Order(
        id=as_uuid(row["id"]),
        seq=int(row["seq"]),
        tenant_seq=None if row["tenant_seq"] is None else int(row["tenant_seq"]),
        customer_id=as_opt_uuid(row["customer_id"]),
        lines=tuple(lines),
        currency=currency,
        subtotal=Money(int(row["subtotal_minor"]), currency),
        discount_total=Money(int(row["discount_minor"]), currency),
        total=Money(int(row["total_minor"]), currency),
        note=row["note"],
        status=_STATUSES[row["status"]],
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
        cancel_reason=None if reason is None else _REASONS[reason],
        cancel_note=row["cancel_note"],
        cancelled_at=as_opt_datetime(row["cancelled_at"]),
        cancel_requested_at=as_opt_datetime(row["cancel_requested_at"]),
        paid_at=as_opt_datetime(row["paid_at"]),
        payment_summary=PaymentSummary(
            _PAYMENT_STATUSES[row["payment_status"]],
            captured=Money(int(row["captured_minor"]), currency),
            refunded=Money(int(row["refunded_minor"]), currency),
        ),
        shipped_at=as_opt_datetime(row["shipped_at"]),
        delivered_at=as_opt_datetime(row["delivered_at"]),
        placed_by_key=as_opt_uuid(row["placed_by_key"]),
        voucher_id=as_opt_uuid(row["voucher_id"]),
        voucher_code=row["voucher_code"],
        billing_address=address,
        version=row["version"],
        tenant_id=tenant_id,
    )


def _lines_insert(order: Order) -> tuple[str, dict[str, Any]]:
    """One multi-row INSERT of the order's lines, and its parameters."""
    params: dict[str, Any] = {}
    for n, line in enumerate(order.lines):
        params |= {f"l{n}_order_id": order.id, f"l{n}_line_no": line.id, f"l{n}_pet_id": line.pet_id,
                   f"l{n}_name": line.name, f"l{n}_unit_price_minor": line.unit_price.amount_minor,
                   f"l{n}_quantity": line.quantity}  # fmt: skip
    return _lines_sql(len(order.lines)), params


@lru_cache(maxsize=256)
def _with_lines_sql(orders_sql: str, extra: str) -> str:
    return _WITH_LINES.format(orders=orders_sql, extra=extra)


@lru_cache(maxsize=64)
def _lines_sql(count: int) -> str:
    """The INSERT of ``count`` lines, named as ``_lines_insert`` names their values: written once per count."""
    rows = ("(" + ", ".join(f":l{n}_{column}" for column in _LINE_COLUMNS) + ")" for n in range(count))
    return _INSERT_LINES + ", ".join(rows)


@lru_cache(maxsize=8)
def _insert_sql(dialect: str, counted: bool) -> str:
    """The order's INSERT for a dialect, in a tenant's count or the public pool's (ADR 0040)."""
    return _INSERT.format(seq=_NEXT_SEQ[dialect], number=_NEXT_NUMBER[dialect] if counted else "NULL")
