"""Wire conventions shared by every native resource: money strings, timestamps, ids, pages (the rules dialects
share too live in http/wire.py).

Each type states its rule twice, in one place: msgspec enforces it and the OpenAPI document shows it.
Patterns use only what ECMA-262 (JSON Schema) and Python's ``re`` read alike: ``[0-9]``, never ``\\d``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example
from litestar.params import QueryParameter

from orderline.domain.money import MINOR_UNITS
from orderline.http.field_errors import HINT
from orderline.http.wire import TIMESTAMP_PATTERN, TIMESTAMP_RULE

T = TypeVar("T")

# Where the domain checks a rule and refuses it with a problem type of its own (invalid-user, invalid-card...),
# the wire type only states it, in `extra_json_schema`; msgspec's own constraints would override the statement
# (they win when both name a keyword) and answer a less precise validation-error first.

# A decimal amount as a string, e.g. "150.00"; floats never carry money here.
DecimalString = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{1,15}(\.[0-9]{1,3})?$",
        examples=["150.00"],
        description="a decimal amount as a string, with at most as many decimals as its currency has",
        extra={HINT: 'send money as a decimal string such as "150.00", not as a JSON number'},
    ),
]
# An amount that must be more than zero (a voucher's amountOff).
PositiveDecimalString = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(?=[0-9.]*[1-9])[0-9]{1,15}(\.[0-9]{1,3})?$",
        examples=["5.00"],
        description="a decimal amount more than zero, as a string",
        extra={HINT: 'send money as a decimal string such as "5.00", not as a JSON number'},
    ),
]
NO_NUL = r"^[^\x00]*$"  # content_type.py refuses U+0000 anywhere in the query (PostgreSQL text cannot hold it)
CurrencyCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z]{3}$",
        examples=["USD"],
        description="an ISO 4217 code of a supported currency",
        extra_json_schema={"enum": sorted(MINOR_UNITS)},
    ),
]
# A UUID given as an integer is the legacy Pet Store's shape (ADR 0006): say so rather than "expected uuid".
PetId = Annotated[
    UUID,
    msgspec.Meta(extra={HINT: "pet ids are UUID strings; integer ids of the legacy Pet Store are not supported"}),
]

Timestamp = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description=TIMESTAMP_RULE,
        examples=["2026-06-01T00:00:00Z"],
        extra_json_schema={"pattern": TIMESTAMP_PATTERN},
    ),
]


def _time_query(name: str) -> QueryParameter:
    return QueryParameter(
        name=name,
        description=TIMESTAMP_RULE,
        examples=[Example(summary="UTC", value="2026-01-31T12:00:00Z")],
        schema_extra={"pattern": TIMESTAMP_PATTERN},
    )


CreatedAfter = Annotated[datetime | None, _time_query("createdAfter")]
CreatedBefore = Annotated[datetime | None, _time_query("createdBefore")]
OccurredAfter = Annotated[datetime | None, _time_query("occurredAfter")]
OccurredBefore = Annotated[datetime | None, _time_query("occurredBefore")]

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="page size, 1 to 100")]
# A cursor is URL-safe base64 without padding, of the few dozen bytes a list puts in it.
Cursor = Annotated[
    str | None,
    QueryParameter(
        description="nextCursor of the previous page of this list, as it was given",
        min_length=1,
        max_length=256,
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]


class PageOut(msgspec.Struct, Generic[T], rename="camel"):
    data: list[T]
    next_cursor: str | None
