"""How the dashboard's templates write values: money with its currency, times in UTC, names for codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from orderline.domain.money import Money


def money(value: Money | None) -> str:
    return "" if value is None else f"{value} {value.currency}"


def moment(value: datetime | None) -> str:
    """A time as staff compare them: UTC, to the second (the title attribute carries the exact one)."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def label(value: object) -> str:
    """A code as a person reads it: CANCEL_PENDING → "Cancel pending"."""
    return "" if value is None else str(value).replace("_", " ").capitalize()


FILTERS: dict[str, Callable[..., Any]] = {"money": money, "moment": moment, "label": label}
