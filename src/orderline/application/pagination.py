"""Keyset pagination: pages of results and the opaque cursors that continue them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from orderline.application.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(kind: str, key: str | int) -> str:
    raw = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_NOT_OURS = "not a cursor this list returned; start again without it"
_MAX_SEQ = 2**63 - 1


def decode_cursor(kind: str, cursor: str) -> str | int:
    """Return the key a cursor of ``kind`` carries; anything else is a clear 422 on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        value = payload["v"] if payload.get("k") == kind else None
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        value = None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput("cursor", _NOT_OURS)
    return value


def decode_id_cursor(kind: str, cursor: str) -> UUID:
    """The id a cursor of a list ordered by id carries."""
    try:
        return UUID(str(decode_cursor(kind, cursor)))
    except ValueError:
        raise InvalidInput("cursor", _NOT_OURS) from None


def decode_seq_cursor(kind: str, cursor: str) -> int:
    """The sequence number a cursor of a list ordered by a positive 64-bit sequence carries."""
    value = decode_cursor(kind, cursor)
    if not isinstance(value, int) or not 0 < value <= _MAX_SEQ:
        raise InvalidInput("cursor", _NOT_OURS)
    return value


def page_of(rows: list[T], limit: int, kind: str, key: Callable[[T], str | int]) -> Page[T]:
    """Cut ``rows`` (fetched with ``limit + 1``) to a page; the extra row says another page exists."""
    if len(rows) <= limit:
        return Page(rows, None)
    items = rows[:limit]
    return Page(items, encode_cursor(kind, key(items[-1])))
