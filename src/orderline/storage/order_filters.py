"""Which orders a list or a search means: WHERE clauses built from its filters, with bound parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from orderline.application.queries import OrderQuery, OrderSearch, Owner


class Where:
    """A WHERE clause built from optional conditions, with its bound parameters (never interpolated values)."""

    def __init__(self, tenant: UUID) -> None:
        # The tenant's condition comes first and always (ADR 0040): every index a list walks leads with it.
        self._conditions: list[str] = ["tenant_id = :tenant"]
        self.params: dict[str, Any] = {"tenant": tenant}

    @property
    def sql(self) -> str:
        return f"WHERE {' AND '.join(self._conditions)}" if self._conditions else ""

    def equal(self, column: str, value: object) -> None:
        if value is not None:
            self._conditions.append(f"{column} = :{column}")
            self.params[column] = value

    def below(self, column: str, value: object) -> None:
        if value is not None:
            self._conditions.append(f"{column} < :{column}_below")
            self.params[f"{column}_below"] = value

    def between(self, column: str, at_or_after: datetime | None, before: datetime | None) -> None:
        """``at_or_after`` inclusive, ``before`` exclusive; either may be absent."""
        if at_or_after is not None:
            self._conditions.append(f"{column} >= :{column}_from")
            self.params[f"{column}_from"] = at_or_after
        self.below(column, before)

    def checked_between(self, column: str, at_or_after: datetime | None, before: datetime | None) -> None:
        """As ``between``, written so that no index can start from it (``(…) IS TRUE``): checked on each row a walk
        reads. For a list whose window is also a seq range (``seq_window``): otherwise PostgreSQL's generic plan may
        read the whole window through the created_at index and sort it for one page (ADR 0036)."""
        first = len(self._conditions)
        self.between(column, at_or_after, before)
        self._conditions[first:] = [f"({condition}) IS TRUE" for condition in self._conditions[first:]]

    def any_of(self, column: str, values: Sequence[object] | None) -> None:
        """``column`` is one of ``values`` (none of an empty set); None leaves it free."""
        if values is None:
            return
        names = {f"{column}_{i}": value for i, value in enumerate(values)}
        self._conditions.append(f"{column} IN ({', '.join(f':{name}' for name in names)})" if names else "1 = 0")
        self.params.update(names)

    def seq_window(self, at_or_after: datetime | None, before: datetime | None, dialect: str) -> None:
        """The seq range that holds every order created in [at_or_after, before): kept beside the created_at
        conditions, it lets a newest-first walk of a seq index start and stop at the window's edges. On PostgreSQL
        each bound is a function of migration 0023 running the same query with a generic plan; inline, the
        statement's own plan would be made anew for each request's values beside many orders (ADR 0036)."""
        postgres = dialect == "postgresql"
        # The days each bound's loose scan may stop at: the window's other end, or the ends of time.
        first_day = date.min if at_or_after is None else at_or_after.astimezone(UTC).date()
        last_day = date.max if before is None else before.astimezone(UTC).date()
        if before is not None:
            hour = _hour_of(before)
            self._conditions.append(f"seq <= {_HIGHEST_SEQ_BEFORE_CALL if postgres else _HIGHEST_SEQ_BEFORE}")
            self.params.update(before_day=hour.date(), before_midnight=_midnight(hour), before_hour=hour)
            self.params["first_day"] = first_day
        if at_or_after is not None:
            hour = _hour_of(at_or_after)
            self._conditions.append(f"seq >= {_LOWEST_SEQ_FROM_CALL if postgres else _LOWEST_SEQ_FROM}")
            next_midnight = _midnight(hour) + timedelta(days=1)
            self.params.update(
                from_day=hour.date(), from_hour=hour, from_next_hour=hour + timedelta(hours=1),
                from_next_midnight=next_midnight, last_day=last_day,
            )  # fmt: skip

    def owned_by(self, owner: Owner) -> None:
        for column, value in owner_columns(owner).items():
            self.equal(column, value)


# A list is newest first by seq; its creation window becomes a seq range that the owner's (or status's) seq index
# can walk, instead of walking every newer order to reach the window (ADR 0036). created_at need not rise with
# seq (concurrent transactions, injected clocks), so the bounds are exact extremes, not guesses: the largest seq
# created before B is the largest of (1) each earlier day's largest seq, (2) each earlier hour's of B's day,
# (3) B's own hour up to B. (1) and (2) are loose scans of ix_orders_tenant_id_created_day_seq / _hour_seq, two index
# probes per day (hour) that has orders; (3) reads ix_orders_tenant_id_created_at_seq alone. The smallest seq created at
# or after A is the mirror image. With both ends, each bound is taken over the window's days only (a superset of
# the window, so still safe): a short window costs a few probes whatever the history. The created_at
# conditions stay (checked, never walked): a bound could only cost time, never an order.
# ``seq + 0`` keeps the engines from answering (3)'s max/min by walking the whole seq index.
# SQLite's statement carries these subqueries. PostgreSQL's calls the functions of migration 0023 instead: the same
# bounds, with plans kept generic, one probe a day (hour) through LATERAL, which SQLite lacks.
_HIGHEST_SEQ_BEFORE = """(
    WITH RECURSIVE earlier_day(day) AS (
        SELECT max(created_day) FROM orders
        WHERE tenant_id = :tenant AND created_day < :before_day AND created_day >= :first_day
        UNION ALL
        SELECT (SELECT max(created_day) FROM orders
                WHERE tenant_id = :tenant AND created_day < earlier_day.day AND created_day >= :first_day)
        FROM earlier_day
        WHERE earlier_day.day IS NOT NULL
    ), earlier_hour(hour) AS (
        SELECT max(created_hour) FROM orders
        WHERE tenant_id = :tenant AND created_hour >= :before_midnight AND created_hour < :before_hour
        UNION ALL
        SELECT (SELECT max(created_hour) FROM orders
                WHERE tenant_id = :tenant AND created_hour >= :before_midnight AND created_hour < earlier_hour.hour)
        FROM earlier_hour WHERE earlier_hour.hour IS NOT NULL
    )
    SELECT max(top) FROM (
        SELECT (SELECT max(seq) FROM orders WHERE tenant_id = :tenant AND created_day = earlier_day.day) AS top
        FROM earlier_day
        UNION ALL
        SELECT (SELECT max(seq) FROM orders WHERE tenant_id = :tenant AND created_hour = earlier_hour.hour)
        FROM earlier_hour
        UNION ALL
        SELECT max(seq + 0) FROM orders
        WHERE tenant_id = :tenant AND created_at >= :before_hour AND created_at < :created_at_below
    ) AS tops
)"""
_LOWEST_SEQ_FROM = """(
    WITH RECURSIVE later_day(day) AS (
        SELECT min(created_day) FROM orders
        WHERE tenant_id = :tenant AND created_day > :from_day AND created_day <= :last_day
        UNION ALL
        SELECT (SELECT min(created_day) FROM orders
                WHERE tenant_id = :tenant AND created_day > later_day.day AND created_day <= :last_day)
        FROM later_day
        WHERE later_day.day IS NOT NULL
    ), later_hour(hour) AS (
        SELECT min(created_hour) FROM orders
        WHERE tenant_id = :tenant AND created_hour > :from_hour AND created_hour < :from_next_midnight
        UNION ALL
        SELECT (SELECT min(created_hour) FROM orders
                WHERE tenant_id = :tenant AND created_hour > later_hour.hour AND created_hour < :from_next_midnight)
        FROM later_hour WHERE later_hour.hour IS NOT NULL
    )
    SELECT min(low) FROM (
        SELECT (SELECT min(seq) FROM orders WHERE tenant_id = :tenant AND created_day = later_day.day) AS low
        FROM later_day
        UNION ALL
        SELECT (SELECT min(seq) FROM orders WHERE tenant_id = :tenant AND created_hour = later_hour.hour)
        FROM later_hour
        UNION ALL
        SELECT min(seq + 0) FROM orders
        WHERE tenant_id = :tenant AND created_at >= :created_at_from AND created_at < :from_next_hour
    ) AS lows
)"""

# PostgreSQL's: the same queries in functions (migration 0023), with these parameters.
_HIGHEST_SEQ_BEFORE_CALL = (
    "(SELECT orders_highest_seq_before(:tenant, :created_at_below, :before_day, :first_day, :before_midnight,"
    " :before_hour))"
)
_LOWEST_SEQ_FROM_CALL = (
    "(SELECT orders_lowest_seq_from(:tenant, :created_at_from, :from_day, :last_day, :from_hour, :from_next_hour,"
    " :from_next_midnight))"
)


def searched(where: OrderSearch, tenant: UUID) -> Where:
    matching = Where(tenant)
    matching.any_of("status", None if where.statuses is None else sorted(s.value for s in where.statuses))
    payments = where.payment_statuses
    matching.any_of("payment_status", None if payments is None else sorted(s.value for s in payments))
    matching.between("created_at", where.created_after, where.created_before)
    matching.between("updated_at", where.updated_after, where.updated_before)
    matching.owned_by(where.owner)
    return matching


def listed(query: OrderQuery, tenant: UUID, dialect: str) -> Where:
    """The conditions of a newest-first keyset list of a tenant: status, creation window, the cursor's seq, the
    owner."""
    where = Where(tenant)
    where.equal("status", None if query.status is None else query.status.value)
    where.equal("payment_status", None if query.payment_status is None else query.payment_status.value)
    where.checked_between("created_at", query.created_after, query.created_before)
    where.seq_window(query.created_after, query.created_before, dialect)
    where.below("seq", query.before_seq)
    where.owned_by(query.owner)
    return where


def limit_of(rows: int) -> str:
    """``LIMIT n``, the number written into the statement rather than bound. PostgreSQL prices a generic plan
    as if a bound LIMIT took a tenth of the rows its conditions match, so beside a large tenant the generic plan
    of a list looked costly (a hash join over every order line), and it planned each list anew for its values:
    0.7 to 1.5 ms of planning a request, more than the list's own work. With the number in the text, the generic
    plan walks the index and is kept after five runs (a statement per page size; a client uses one or two)."""
    return f"LIMIT {int(rows)}"


def owner_columns(owner: Owner) -> dict[str, UUID]:
    columns = {"customer_id": owner.customer_id, "placed_by_key": owner.api_key_id, "id": owner.order_id}
    return {column: value for column, value in columns.items() if value is not None}


def _hour_of(moment: datetime) -> datetime:
    """The UTC hour ``moment`` falls in, as orders.created_hour holds it."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)
