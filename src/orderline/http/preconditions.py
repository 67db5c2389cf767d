"""ETag and If-Match: an order's version on the wire, written into ETags and read back from If-Match."""

from __future__ import annotations

import re
from typing import Annotated, Protocol
from uuid import UUID

from litestar.params import HeaderParameter


class Versioned(Protocol):
    """An order, or its read model's view: what an ETag is made of."""

    @property
    def id(self) -> UUID: ...
    @property
    def version(self) -> int: ...


def etag(order: Versioned) -> str:
    return f'"{order.id}.{order.version}"'


_ETAG_VERSION = re.compile(r"[1-9][0-9]{0,9}")  # a version is a positive 32-bit INTEGER (1 to 2147483647)

IF_MATCH_MAX_LENGTH = 256
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        max_length=IF_MATCH_MAX_LENGTH,
        description="an ETag from reading the order: refuse (412) if it changed since",
    ),
]


def version_in(if_match: str | None, order_id: UUID) -> int | None:
    """The version an If-Match names: None for no header or ``*``; 0, which never matches, for anything else
    (a header is Latin-1, so "²" is a digit to ``str.isdigit`` but not a number; only ASCII digits count)."""
    if if_match is None or if_match.strip() == "*":
        return None
    prefix, _, version = if_match.strip().removeprefix("W/").strip('"').rpartition(".")
    if prefix != str(order_id) or not _ETAG_VERSION.fullmatch(version):
        return 0
    return int(version)
