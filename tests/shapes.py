"""Comparing what a document shows with what a command printed: JSON by shape, plain lines by form."""

from __future__ import annotations

import json
import re
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
ENUM = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")  # PLACED, CUSTOMER_REQUEST, USD

_DECODER = json.JSONDecoder()


def json_documents(text: str) -> list[Any]:
    """The JSON documents in a text, one after another (whitespace between them)."""
    documents, position = [], 0
    while (position := _skip_space(text, position)) < len(text):
        document, position = _DECODER.raw_decode(text, position)
        documents.append(document)
    return documents


def printed(output: str) -> tuple[list[Any], list[str]]:
    """What a command printed: the JSON objects and arrays, and the other lines, each in order."""
    documents: list[Any] = []
    lines: list[str] = []
    position = 0
    while (position := _skip_space(output, position)) < len(output):
        if output[position] in "{[":
            try:
                document, position = _DECODER.raw_decode(output, position)
            except json.JSONDecodeError:
                pass
            else:
                documents.append(document)
                continue
        end = output.find("\n", position)
        end = len(output) if end == -1 else end
        lines.append(output[position:end].rstrip())
        position = end
    return documents, lines


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def normalised(lines: list[str]) -> list[str]:
    """Lines with every id and timestamp replaced by its kind, so that only their form is compared."""
    return [TIMESTAMP.sub("<timestamp>", UUID.sub("<id>", line.strip())) for line in lines]


def shape_differences(shown: Any, got: Any, at: str = "$") -> list[str]:
    """How ``got`` differs from ``shown``: keys at every level, value types, UPPER_CASE values, and the
    form of ids and timestamps. Other strings and numbers may differ in value."""
    if isinstance(shown, dict):
        return _object_differences(shown, got, at)
    if isinstance(shown, list):
        return _array_differences(shown, got, at)
    if _kind(shown) != _kind(got):
        return [f"{at}: shows {_kind(shown)}, printed {_kind(got)}"]
    if isinstance(shown, str):
        return _string_difference(shown, got, at)
    return []


def _object_differences(shown: dict[str, Any], got: Any, at: str) -> list[str]:
    if not isinstance(got, dict):
        return [f"{at}: shows an object, printed {_kind(got)}"]
    differences = []
    if missing := sorted(shown.keys() - got.keys()):
        differences.append(f"{at}: shows {missing}, not printed")
    if extra := sorted(got.keys() - shown.keys()):
        differences.append(f"{at}: prints {extra}, not shown")
    for key in shown.keys() & got.keys():
        differences += shape_differences(shown[key], got[key], f"{at}.{key}")
    return differences


def _array_differences(shown: list[Any], got: Any, at: str) -> list[str]:
    if not isinstance(got, list):
        return [f"{at}: shows an array, printed {_kind(got)}"]
    if len(shown) != len(got):
        return [f"{at}: shows {len(shown)} items, printed {len(got)}"]
    return [d for i, (s, g) in enumerate(zip(shown, got, strict=True)) for d in shape_differences(s, g, f"{at}[{i}]")]


def _string_difference(shown: str, got: str, at: str) -> list[str]:
    for name, form in (("an id", UUID), ("a timestamp", TIMESTAMP)):
        if form.fullmatch(shown):
            return [] if form.fullmatch(got) else [f"{at}: shows {name}, printed {got!r}"]
    if ENUM.fullmatch(shown) and shown != got:
        return [f"{at}: shows {shown!r}, printed {got!r}"]
    return []


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
