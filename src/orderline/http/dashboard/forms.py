"""What the dashboard's forms and filters send, read into the use cases' commands and queries.

Browsers send text; a value that cannot be read is an InvalidInput naming the field, shown like any refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlencode

from orderline.application.errors import InvalidInput
from orderline.application.order_finder import StaffSearch
from orderline.application.orders import OrderFilter
from orderline.domain.order import CancelReason
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.status import OrderStatus

E = TypeVar("E", bound=StrEnum)
FormData = Mapping[str, object]


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def choice(form: FormData, name: str, kind: type[E]) -> E | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(name, f"choose one of {', '.join(kind)}") from None


def whole(form: FormData, name: str) -> int | None:
    value = text(form, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise InvalidInput(name, "give a whole number, such as 2")
    return int(value)


def day(form: FormData, name: str) -> date | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(name, "give a date as YYYY-MM-DD") from None


def order_search(query: FormData) -> StaffSearch:
    """The Orders page's filters: ``from`` and ``to`` are whole days in UTC, ``to`` included."""
    start, end = day(query, "from"), day(query, "to")
    where = OrderFilter(
        status=choice(query, "status", OrderStatus),
        payment_status=choice(query, "payment_status", OrderPaymentStatus),
        created_after=None if start is None else datetime.combine(start, time(0), UTC),
        created_before=None if end is None else datetime.combine(end + timedelta(days=1), time(0), UTC),
    )
    return StaffSearch(where, customer=text(query, "customer"))


def cancel_reason(form: FormData) -> CancelReason:
    """A cancel always says why: the reason is required."""
    reason = choice(form, "reason", CancelReason)
    if reason is None:
        raise InvalidInput("reason", "choose why the order is cancelled", "required")
    return reason


def required_reason(form: FormData) -> str:
    """A suspension or a reactivation says why, for the audit log and for whoever reads it next."""
    reason = text(form, "reason")
    if reason is None:
        raise InvalidInput("reason", "say why", "required")
    return reason


def continued(path: str, query: Any, cursor: str) -> str:
    """The link to a list's next page: the same filters, continued from ``cursor``."""
    kept = [(name, value) for name, value in query.multi_items() if name != "cursor"]
    return f"{path}?{urlencode([*kept, ('cursor', cursor)])}"


def version(form: FormData) -> int | None:
    """The order's version the page showed: an action on a page gone stale is refused, not guessed at."""
    return whole(form, "version")


def confirmed(form: FormData, expected: str) -> None:
    """An irreversible action asks the person to type what it acts on (the order's number)."""
    if text(form, "confirm") != expected:
        raise InvalidInput("confirm", f"type {expected} to confirm", "required")
