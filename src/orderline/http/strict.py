"""Only the documented form: a request's JSON body and query values are read strictly against its route's types.

Litestar converts what it is given leniently (``"2"`` and ``2.0`` become ``2``, ``createdBefore=0.5`` a Unix
time). Before it does, this hook reads the body and each query value as the route declares them, in msgspec's
strict mode, and refuses anything else with a 422 naming the field. What passes here converts to the same
values under Litestar's lenient rules, so the route sees exactly what was checked.
"""

from __future__ import annotations

from types import NoneType
from typing import Any, get_args

import msgspec
from litestar import Request
from litestar.params import QueryParameter
from litestar.typing import FieldDefinition

from orderline.http.content_type import json_body, malformed, well_formed
from orderline.http.field_errors import FieldError, of_msgspec, refused

_WRITTEN = {int: "an integer written in digits, such as 20", float: "a number such as 2.5", bool: "true or false"}
_JSON_SCALARS = tuple(_WRITTEN)


async def read_strictly(request: Request[Any, Any, Any]) -> None:
    """The app's before_request hook: the body's media type and size, then body and query, strictly."""
    await strict_body(request)


async def strict_body(request: Request[Any, Any, Any]) -> Any:
    """What ``read_strictly`` checks, and the body as the route's ``data`` type (None without one): what passed
    the strict reading is what Litestar's lenient one gives, so the hot routes (http/hot_routes.py) take it."""
    body = await json_body(request)
    parameters = request.route_handler.parsed_fn_signature.parameters
    data = parameters.get("data")
    value = None
    if data is not None and (body or not data.is_optional):  # an optional body may be left out altogether
        value = _read_body(body, data.annotation)
    elif body:
        well_formed(body)  # a body no type reads is still JSON that can be stored
    for name, parameter in parameters.items():
        if isinstance(parameter.kwarg_definition, QueryParameter):
            key = parameter.kwarg_definition.name or name
            _read_query(key, request.query_params.getall(key, []), parameter)
    return value


def _read_body(body: bytes, target: Any) -> Any:
    """The body decoded once, into ``target``, refused as it always was: not well-formed (400) before a NUL
    character (422) before a value of the wrong type (422 naming it). The untyped reading (``well_formed``) runs
    only to say which: after a refusal (msgspec stops at the first wrong value, the document may break further
    on), and for a body with a byte the typed one may not have looked at: a NUL or its escape, or any byte
    beyond ASCII (msgspec does not check the UTF-8 of a field it skips)."""
    if not body:
        raise refused(FieldError("body", "a JSON body is required", "required"))
    try:
        value = msgspec.json.decode(body, type=target, strict=True)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:  # ValidationError included
        well_formed(body)
        if isinstance(exc, msgspec.ValidationError):
            raise refused(of_msgspec(exc, target)) from None
        raise malformed(exc) from None
    if not body.isascii() or b"\\u0000" in body or b"\x00" in body:
        well_formed(body)
    return value


def _read_query(key: str, values: list[str], parameter: FieldDefinition) -> None:
    if not values:
        return
    if len(values) > 1 and not parameter.is_non_string_sequence:
        raise refused(FieldError(key, f"give {key} once, not {len(values)} times", "invalid"))
    target = parameter.annotation
    scalar = _json_scalar(target)
    for value in values:
        if scalar is None:
            try:
                msgspec.convert(value, type=target, strict=True)
            except msgspec.ValidationError as exc:
                raise refused(of_msgspec(exc, target, key)) from None
        # A number or a boolean is written as JSON writes it: "2", never "2.0", "1e2" or " 2".
        elif value != value.strip() or not _decodes(value, scalar):
            raise refused(FieldError(key, f"must be {_WRITTEN[scalar]}", "type"))


def _json_scalar(annotation: Any) -> type | None:
    kinds = [kind for kind in get_args(annotation) or (annotation,) if kind is not NoneType]
    return kinds[0] if len(kinds) == 1 and kinds[0] in _JSON_SCALARS else None


def _decodes(value: str, kind: type) -> bool:
    try:
        msgspec.json.decode(value.encode(), type=kind, strict=True)
    except msgspec.DecodeError:  # ValidationError included
        return False
    return True
