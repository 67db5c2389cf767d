"""Pagination: keyset pages with the opaque cursors that continue them, and the bounds of offset pages."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from orderline.application.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_SEQ = 2**63 - 1  # orders.seq is a signed 64-bit BIGINT
# Offset pages, for the dialects whose original APIs page that way (ADR 0023). A database reads and drops
# every skipped row, so an offset costs what it skips: it is bounded, and keyset stays the native way.
MAX_OFFSET_LIMIT = 250
MAX_OFFSET = 10_000

_NOT_OURS = "not a cursor this list returned; start again without it"
# A cursor is URL-safe base64 without padding of exactly what `Cursor.encode` writes, and nothing else:
# no general JSON parser ever sees it, so no nesting, size or type it might carry can reach further.
_TEXT = re.compile(r"[A-Za-z0-9_-]{1,256}")
_PAYLOAD = re.compile(r'\{"k":"(?P<kind>[a-z]{1,16})","v":(?:"(?P<id>[0-9a-f-]{36})"|(?P<seq>[1-9][0-9]{0,18}))\}')


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """What a cursor carries: the list it continues, and the key of the last row that list showed."""

    kind: str
    key: UUID | int

    def encode(self) -> str:
        key = str(self.key) if isinstance(self.key, UUID) else self.key
        raw = json.dumps({"k": self.kind, "v": key}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """The cursor ``text`` spells, or None for anything ``encode`` does not write."""
        if not _TEXT.fullmatch(text) or len(text) % 4 == 1:  # a length base64 never produces
            return None
        payload = _PAYLOAD.fullmatch(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("latin-1"))
        if payload is None:
            return None
        if payload["seq"] is not None:
            seq = int(payload["seq"])
            return cls(payload["kind"], seq) if seq <= MAX_SEQ else None
        try:
            return cls(payload["kind"], UUID(payload["id"]))
        except ValueError:
            return None


def decode_id_cursor(kind: str, cursor: str) -> UUID:
    """The id a cursor of a list ordered by id carries; anything else is a clear 422 on ``cursor``."""
    decoded = Cursor.decode(cursor)
    if decoded is None or decoded.kind != kind or not isinstance(decoded.key, UUID):
        raise InvalidInput("cursor", _NOT_OURS)
    return decoded.key


def decode_seq_cursor(kind: str, cursor: str) -> int:
    """The sequence number a cursor of a list ordered by a positive 64-bit sequence carries."""
    decoded = Cursor.decode(cursor)
    if decoded is None or decoded.kind != kind or not isinstance(decoded.key, int):
        raise InvalidInput("cursor", _NOT_OURS)
    return decoded.key


def check_offset_page(offset: int, limit: int) -> None:
    """Refuse an offset page beyond the bounds: ``limit`` 1 to 250, ``offset`` 0 to 10,000."""
    if not 1 <= limit <= MAX_OFFSET_LIMIT:
        raise InvalidInput("limit", f"must be 1 to {MAX_OFFSET_LIMIT}", "out-of-range")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("offset", f"must be 0 to {MAX_OFFSET}; narrow the search to reach older orders",
                           "out-of-range")  # fmt: skip


def page_of(rows: list[T], limit: int, kind: str, key: Callable[[T], UUID | str | int]) -> Page[T]:
    """Cut ``rows`` (fetched with ``limit + 1``) to a page; the extra row says another page exists."""
    if len(rows) <= limit:
        return Page(rows, None)
    items = rows[:limit]
    last = key(items[-1])
    return Page(items, Cursor(kind, UUID(last) if isinstance(last, str) else last).encode())
