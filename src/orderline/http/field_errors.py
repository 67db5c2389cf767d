"""What a client is told about a value that does not fit: the field's path, a message to act on, and a code.

msgspec says what went wrong (``Expected `int`, got `str` - at `$.items[0].quantity```); the declared type
at that path says what would have been right: the values of an enum, the fields of an object, or the hint
a wire type carries in ``Meta(extra={"hint": ...})`` (money is a decimal string, ids are UUID strings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import msgspec
from litestar.exceptions import ValidationException

HINT = "hint"  # the key of a wire type's Meta(extra=...) whose text explains a wrong JSON type

_AT = re.compile(r"^(?P<text>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<name>[^`]*)`$")
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str
    code: str

    def item(self) -> dict[str, str]:
        """As a ValidationException's ``extra`` item, which ``problems.validation_to_problem`` renders."""
        return {"key": self.field, "message": self.message, "code": self.code}


def refused(*errors: FieldError) -> ValidationException:
    return ValidationException(detail="the request is not valid", extra=[error.item() for error in errors])


def of_msgspec(exc: msgspec.ValidationError, target: Any, field: str = "") -> FieldError:
    """The error msgspec raised decoding into ``target``; ``field`` names the value (a query parameter)."""
    parsed = _AT.match(str(exc))
    assert parsed is not None  # the pattern matches any text
    text, path = parsed["text"], parsed["path"] or ""
    segments: list[str | int] = [name or int(index) for name, index in _SEGMENT.findall(path)]
    named = _NAMED.match(text)
    if named is not None:
        return _named_field(named["what"], named["name"], target, segments, field)
    where = _join(field, path)
    declared = _type_at(msgspec.inspect.type_info(target), segments)
    choices = _choices(declared)
    if choices is not None and text.startswith("Invalid enum value"):
        return FieldError(where, f"must be one of {', '.join(choices)}", "enum")
    hint = _hint(declared)
    if hint is not None and text.startswith("Expected `") and ", got `" in text:
        return FieldError(where, hint, "type")
    return FieldError(where, text, _code(text))


def _named_field(what: str, name: str, target: Any, segments: list[str | int], field: str) -> FieldError:
    where = _join(field, "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in [*segments, name]))
    if what == "missing required":
        return FieldError(where, "this field is required", "required")
    declared = _unwrapped(_type_at(msgspec.inspect.type_info(target), segments))
    known = [f.encode_name for f in declared.fields] if isinstance(declared, msgspec.inspect.StructType) else []
    listed = f"; the fields here are {', '.join(known)}" if known else ""
    return FieldError(where, f"unknown field{listed}", "unknown")


def _join(field: str, path: str) -> str:
    path = path.removeprefix(".")
    if not field:
        return path or "body"
    return f"{field}.{path}" if path and not path.startswith("[") else field + path


def _type_at(info: msgspec.inspect.Type | None, segments: list[str | int]) -> msgspec.inspect.Type | None:
    for segment in segments:
        info = _unwrapped(info)
        if isinstance(info, msgspec.inspect.StructType) and isinstance(segment, str):
            info = next((f.type for f in info.fields if f.encode_name == segment), None)
        elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType) and isinstance(segment, int):
            info = info.item_type
        else:
            return None
    return info


def _unwrapped(info: msgspec.inspect.Type | None) -> msgspec.inspect.Type | None:
    """The type under its metadata and without ``None``; a union of several types stays a union."""
    if isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType):
        kinds = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return _unwrapped(kinds[0]) if len(kinds) == 1 else info
    return info


def _choices(info: msgspec.inspect.Type | None) -> list[str] | None:
    info = _unwrapped(info)
    if isinstance(info, msgspec.inspect.EnumType):
        members: list[Enum] = list(info.cls)
        return [str(member.value) for member in members]
    if isinstance(info, msgspec.inspect.LiteralType):
        return [str(value) for value in info.values]
    return None


def _hint(info: msgspec.inspect.Type | None) -> str | None:
    if isinstance(info, msgspec.inspect.UnionType):
        kinds = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        info = kinds[0] if len(kinds) == 1 else None
    if isinstance(info, msgspec.inspect.Metadata) and info.extra and HINT in info.extra:
        return str(info.extra[HINT])
    return None


def _code(text: str) -> str:
    if "matching regex" in text:
        return "pattern"
    if text.startswith("Expected") and any(op in text for op in (">", "<", "length")):
        return "out-of-range"
    if text.startswith("Expected `") and ", got `" in text:
        return "type"
    return "invalid"
