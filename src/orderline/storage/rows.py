"""Value conversions between driver rows and domain values, for the types the two drivers return differently."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec


def as_uuid(value: Any) -> UUID:
    """asyncpg returns UUIDs; SQLite, the 32 hex digits its adapter wrote, which msgspec parses in C (0.3 µs;
    ``UUID(text)``, 0.9). Another form of text, if one was ever written, takes the long way."""
    if type(value) is str:
        try:
            return msgspec.convert(value, UUID)
        except msgspec.ValidationError:
            pass
    return value if isinstance(value, UUID) else UUID(str(value))


def as_opt_uuid(value: Any) -> UUID | None:
    return None if value is None else as_uuid(value)


_STORED_MOMENT = len("2026-12-01 08:49:29.875998")  # how SQLite rows hold a moment: UTC, to the microsecond


def as_datetime(value: Any) -> datetime:
    """asyncpg returns aware datetimes; SQLite returns text in UTC, which gets its zone back here. The stored form
    (storage/sqlite.py's adapter) is read with its zone written on: ``fromisoformat`` then ``replace`` took 0.7 µs,
    this 0.15, twice per order of a page."""
    if type(value) is str and len(value) == _STORED_MOMENT:
        try:  # (a try costs nothing until it catches; contextlib.suppress cost 0.5 µs)
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # of that length but written otherwise, with a zone: read below
            pass
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_opt_datetime(value: Any) -> datetime | None:
    return None if value is None else as_datetime(value)


def as_opt_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def as_opt_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def to_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def from_json(value: Any) -> Any:
    return None if value is None else msgspec.json.decode(value)
