"""Wire rules every API orderline speaks shares, the native one and each dialect: timestamps and text."""

from __future__ import annotations

from datetime import UTC, date, datetime

from orderline.application.errors import InvalidInput
from orderline.domain.text import SPACE

NOT_BLANK = f"[^{SPACE}]"  # a search: somewhere in the text is a character that is not whitespace

# Timestamps are RFC 3339 with an offset, and must have a UTC form in years 1 to 9999, which both databases
# store. Only the first and last day of the calendar can leave it, so only they are restricted (the pattern
# and `in_utc` say the same thing).
TIMESTAMP_RULE = (
    "an RFC 3339 date-time with its offset (Z or ±hh:mm) whose UTC time lies in the years 0001 to 9999: "
    "on 0001-01-01 the offset is Z or negative, on 9999-12-31 Z or positive"
)
TIMESTAMP_PATTERN = (
    r"^(?!0001-01-01[Tt ][^Zz+-]*\+(?!00:00))(?!9999-12-31[Tt ][^Zz+-]*-(?!00:00))"
    # The shape msgspec reads, with the offset orderline requires (a time without one is refused: `in_utc`).
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
)


def in_utc(moment: datetime | None, field: str) -> datetime | None:
    """A client's timestamp in UTC; one without an offset, or whose UTC form leaves the calendar, is a 422."""
    if moment is None:
        return None
    offset = moment.utcoffset()
    if offset is None:
        raise InvalidInput(field, "give the time with its UTC offset, e.g. 2026-01-31T12:00:00Z", "pattern")
    day = moment.date()
    if (day == date.min and offset.total_seconds() > 0) or (day == date.max and offset.total_seconds() < 0):
        raise InvalidInput(field, f"must be {TIMESTAMP_RULE}", "out-of-range")
    return moment.astimezone(UTC)
