"""Which orders a list or a search means: WHERE clauses built from its filters, with bound parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from orderline.application.queries import OrderQuery, OrderSearch, Owner


class Where:
    """A WHERE clause built from optional conditions, with its bound parameters (never interpolated values)."""

    def __init__(self) -> None:
        self._conditions: list[str] = []
        self.params: dict[str, Any] = {}

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

    def any_of(self, column: str, values: Sequence[object] | None) -> None:
        """``column`` is one of ``values`` (none of an empty set); None leaves it free."""
        if values is None:
            return
        names = {f"{column}_{i}": value for i, value in enumerate(values)}
        self._conditions.append(f"{column} IN ({', '.join(f':{name}' for name in names)})" if names else "1 = 0")
        self.params.update(names)

    def owned_by(self, owner: Owner) -> None:
        for column, value in owner_columns(owner).items():
            self.equal(column, value)


def searched(where: OrderSearch) -> Where:
    matching = Where()
    matching.any_of("status", None if where.statuses is None else sorted(s.value for s in where.statuses))
    payments = where.payment_statuses
    matching.any_of("payment_status", None if payments is None else sorted(s.value for s in payments))
    matching.between("created_at", where.created_after, where.created_before)
    matching.between("updated_at", where.updated_after, where.updated_before)
    matching.owned_by(where.owner)
    return matching


def listed(query: OrderQuery) -> Where:
    """The conditions of a newest-first keyset list: status, creation window, the cursor's seq, the owner."""
    where = Where()
    where.equal("status", None if query.status is None else query.status.value)
    where.equal("payment_status", None if query.payment_status is None else query.payment_status.value)
    where.between("created_at", query.created_after, query.created_before)
    where.below("seq", query.before_seq)
    where.owned_by(query.owner)
    return where


def owner_columns(owner: Owner) -> dict[str, UUID]:
    columns = {"customer_id": owner.customer_id, "placed_by_key": owner.api_key_id, "id": owner.order_id}
    return {column: value for column, value in columns.items() if value is not None}
