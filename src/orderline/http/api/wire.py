"""Wire conventions shared by every native resource: money strings, timestamps, pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

from orderline.application.errors import InvalidInput

T = TypeVar("T")

# A decimal amount as a string, e.g. "150.00"; floats never carry money here.
DecimalString = Annotated[
    str,
    msgspec.Meta(pattern=r"^\d{1,15}(\.\d{1,3})?$", examples=["150.00"], description="decimal amount"),
]
CurrencyCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$", examples=["USD"], description="ISO 4217 code")]
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="page size, 1 to 100")]
Cursor = Annotated[str | None, QueryParameter(description="nextCursor of the previous page")]


class PageOut(msgspec.Struct, Generic[T], rename="camel"):
    data: list[T]
    next_cursor: str | None


def utc(moment: datetime | None, field: str) -> datetime | None:
    """A query's timestamp in UTC; one without an offset, or beyond the calendar in UTC, is a 422."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise InvalidInput(field, "give the time with its UTC offset, e.g. 2026-01-31T12:00:00Z", "pattern")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "the time is out of range", "out-of-range") from None
