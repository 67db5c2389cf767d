"""Reading sFOX's integer order ids: one in a path, a comma-separated list in ``ids`` (ADR 0025)."""

from __future__ import annotations

import re

# A seq is a signed 64-bit BIGINT; a longer number names no order, and is never converted (a string of
# thousands of digits is not an int Python will parse).
_MAX_DIGITS = 19
_DIGITS = re.compile(r"[0-9]+")
NO_ORDER = 0  # no order has it: seqs start at 1


def seq_in(text: str) -> int:
    """The seq an order id names; NO_ORDER for anything that names none (not digits, beyond BIGINT)."""
    if not _DIGITS.fullmatch(text):
        return NO_ORDER
    significant = text.lstrip("0")
    return int(significant) if 0 < len(significant) <= _MAX_DIGITS else NO_ORDER


def seqs_in(text: str, at_most: int) -> list[int] | None:
    """The distinct ids of ``1,2, 3`` in the order given (spaces around each allowed, a repeat answered once);
    None when the list is empty, has more than ``at_most`` items (repeats counted), or an item is not digits."""
    items = [item.strip(" ") for item in text.split(",", at_most)]
    if len(items) > at_most or not all(_DIGITS.fullmatch(item) for item in items):
        return None
    return list(dict.fromkeys(seq_in(item) for item in items))
