"""The OpenAPI document, finished where Litestar's generator falls short, and the /schema routes that serve it.

Request bodies are described by msgspec from the very structs that validate them, with the rules across
fields each struct states; every free string says it holds no NUL; an optional parameter is its value's
schema; responses link to what a client does next.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, get_args

import msgspec
from litestar import Litestar, Request, Router
from litestar.enums import ParamType
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import (
    Link,
    OpenAPI,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.routes import HTTPRoute

from orderline.http.tenant import TENANT_HEADER


# JSON Schema for rules across fields, where an optional field sent as null counts as not sent.
def present(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def absent(name: str) -> dict[str, Any]:
    return {"not": present(name)}


def all_of(*schemas: dict[str, Any]) -> dict[str, Any]:
    return {"allOf": list(schemas)}


async def _not_found_as_problem(request: Request[Any, Any, Any]) -> None:
    # Litestar answers a path under /schema that no document lives at with an HTML page of its own.
    if request.route_handler.handler_name == "handle_schema_path_not_found":
        raise NotFoundException


def schema_router() -> Router:
    """/schema: the OpenAPI document and its viewers; any other path under it is a 404 problem like elsewhere."""
    return Router("/schema", route_handlers=[], include_in_schema=False, before_request=_not_found_as_problem)


# What a client does next with what an operation answered: (operation, status) -> {link: (target, parameters)}.
# Parameters are runtime expressions; "requestBody" is the body to send.
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {
    ("createOrder", "201"): {
        "getOrder": ("getOrder", {"order_id": "$response.body#/id"}),
        "cancelOrder": ("cancelOrder", {"order_id": "$response.body#/id"}),
        "cancelOrderWithReason": ("cancelOrderWithReason", {"order_id": "$response.body#/id"}),
        "payOrder": ("payOrder", {"order_id": "$response.body#/id"}),
        "listOrderPayments": ("listOrderPayments", {"order_id": "$response.body#/id"}),
        "eraseOwnOrder": ("eraseOwnOrder", {"order_id": "$response.body#/id"}),
        "forceCancelOrder": ("forceCancelOrder", {"order_id": "$response.body#/id"}),
        "shipOrder": ("shipOrder", {"order_id": "$response.body#/id"}),
        "eraseOrder": ("eraseOrder", {"order_id": "$response.body#/id"}),
    },
    ("payOrder", "200"): {
        "getOrder": ("getOrder", {"order_id": "$response.body#/orderId"}),
        "cancelOrder": ("cancelOrder", {"order_id": "$response.body#/orderId"}),
        "shipOrder": ("shipOrder", {"order_id": "$response.body#/orderId"}),
        "listOrderPayments": ("listOrderPayments", {"order_id": "$response.body#/orderId"}),
    },
    ("shipOrder", "200"): {"deliverOrder": ("deliverOrder", {"order_id": "$response.body#/id"})},
    ("createPet", "201"): {
        "getPet": ("getPet", {"pet_id": "$response.body#/id"}),
        "updatePet": ("updatePet", {"pet_id": "$response.body#/id"}),
        "deletePet": ("deletePet", {"pet_id": "$response.body#/id"}),
        "orderPet": ("createOrder", {"requestBody": {"petId": "$response.body#/id"}}),
    },
    ("createUser", "201"): {
        "getUser": ("getUser", {"user_id": "$response.body#/id"}),
        "updateUser": ("updateUser", {"user_id": "$response.body#/id"}),
        "deleteUser": ("deleteUser", {"user_id": "$response.body#/id"}),
        "getUserDetails": ("getUserDetails", {"user_id": "$response.body#/id"}),
        "updateUserStatus": ("updateUserStatus", {"user_id": "$response.body#/id"}),
    },
    ("createWebhook", "201"): {
        name: (name, {"webhook_id": "$response.body#/id"})
        for name in (
            "getWebhook",
            "updateWebhook",
            "deleteWebhook",
            "rotateWebhookSecret",
            "listWebhookDeliveries",
            "replayWebhookEvents",
            "testWebhook",
        )
    },
    ("createVoucher", "201"): {
        "getVoucher": ("getVoucher", {"code": "$response.body#/code"}),
        "deleteVoucher": ("deleteVoucher", {"code": "$response.body#/code"}),
    },
}


def finish_document(app: Litestar) -> None:
    """Complete the app's OpenAPI document where Litestar's generator falls short, before anyone reads it.

    Litestar loses constraints that msgspec enforces (``minimum: 0``, the items of an annotated list, the
    constraints inside an optional field), so each request body's schema is msgspec's own, plus the rules
    across fields that a struct states in ``openapi_rules`` (and enforces in code). Then the links.
    """
    document = app.openapi_schema
    schemas = document.components.schemas
    assert schemas is not None
    bodies = _request_body_types(app)
    _, components = msgspec.json.schema_components(bodies, ref_template="#/components/schemas/{name}")
    for body in bodies:
        components[body.__name__].update(getattr(body, "openapi_rules", {}))
    components.update(_FREE_FORM)
    for name, raw in components.items():
        converted = _schema(_without_nul(raw))
        assert isinstance(converted, Schema)
        schemas[name] = converted
    _free_form_bodies_without_nul(document)
    _parameters_without_null(document)
    _tenant_header(document)
    _add_links(document)


# A v4 or v7 UUID (RFC 9562 variant), as http/tenant.py accepts it; the nil UUID is not one.
_TENANT_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[47][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
_TENANT_HEADER = Parameter(
    name=TENANT_HEADER,
    param_in=ParamType.HEADER,
    required=False,
    schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID, pattern=_TENANT_PATTERN),
    description="The tenant (a v4 or v7 UUID) the operation is scoped to; without it, the shared public pool. "
    "A key bound to a tenant, or a user's token, acts in its own tenant whatever this says. Any other value "
    "is a 400 invalid-tenant problem.",
)


# The probes answer for the process, not for a tenant: they read no X-Tenant-ID.
_PROBES = frozenset({"/v1/healthz", "/v1/livez", "/v1/readyz"})


def _tenant_header(document: OpenAPI) -> None:
    """Every native operation but the probes takes the optional X-Tenant-ID header (ADR 0040)."""
    for path, item in (document.paths or {}).items():
        if not path.startswith("/v1/") or path in _PROBES:
            continue
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method)
            if operation is not None:
                operation.parameters = [*(operation.parameters or ()), _TENANT_HEADER]


# content_type.py refuses U+0000 in any string of a body or query (PostgreSQL text cannot hold it).
_NO_NUL = {"not": {"pattern": "\\x00"}}
_FREE_FORM = {
    "JsonObject": {
        "type": "object",
        "description": "any JSON object whose strings, keys included, hold no U+0000",
        "propertyNames": {"type": "string", **_NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
    },
    "JsonValue": {
        "anyOf": [
            {"type": ["number", "boolean", "null"]},
            {"type": "string", **_NO_NUL},
            {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
            {"$ref": "#/components/schemas/JsonObject"},
        ]
    },
}


def _without_nul(raw: Any) -> Any:
    """The schema with every free string stating that it holds no U+0000."""
    if isinstance(raw, list):
        return [_without_nul(item) for item in raw]
    if not isinstance(raw, dict):
        return raw
    stated = {key: _without_nul(value) for key, value in raw.items()}
    if raw.get("type") == "string" and not {"enum", "const", "format", "not"} & raw.keys():
        stated.update(_NO_NUL)
    return stated


def _free_form_bodies_without_nul(document: OpenAPI) -> None:
    """A body taken as any JSON object (the gateway's signed callbacks) is any JSON object without U+0000."""
    for operation in _operations(document).values():
        body = operation.request_body
        for media in body.content.values() if isinstance(body, RequestBody) else ():
            schema = media.schema
            if isinstance(schema, Schema) and schema.type == OpenAPIType.OBJECT and not schema.properties:
                free_form = Schema(all_of=[Reference(ref="#/components/schemas/JsonObject")], examples=schema.examples)
                media.schema = free_form


def _request_body_types(app: Litestar) -> list[type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    for route in app.routes:
        for handler in route.route_handlers if isinstance(route, HTTPRoute) else ():
            data = handler.parsed_fn_signature.parameters.get("data")
            # A body struct, or an optional one (``Struct | None``: a body that may be left out).
            for kind in () if data is None else (data.annotation, *get_args(data.annotation)):
                if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
                    found[kind.__name__] = kind
    return [found[name] for name in sorted(found)]


_FIELD_OF = {f.metadata.get("alias", f.name): f.name for f in fields(Schema)}
_SUBSCHEMA = {"items", "not", "if", "then", "else", "contains", "propertyNames", "additionalProperties",
              "unevaluatedItems", "unevaluatedProperties", "contentSchema"}  # fmt: skip
_SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SUBSCHEMA_MAPS = {"properties", "patternProperties", "dependentSchemas"}


def _schema(raw: Any) -> Any:
    """A JSON Schema dict as Litestar's spec objects (which print it back as it was)."""
    if not isinstance(raw, dict):
        return raw  # `additionalProperties: false`
    if "$ref" in raw:
        return Reference(ref=raw["$ref"])
    return Schema(**{_FIELD_OF[key]: _subschemas(key, value) for key, value in raw.items()})


def _subschemas(key: str, value: Any) -> Any:
    if key in _SUBSCHEMA:
        return _schema(value)
    if key in _SUBSCHEMA_LISTS:
        return [_schema(item) for item in value]
    if key in _SUBSCHEMA_MAPS:
        return {name: _schema(item) for name, item in value.items()}
    return value


def _parameters_without_null(document: OpenAPI) -> None:
    """An optional parameter is one that is not sent (``required: false``), never the text "null": its schema
    is the value's own, with the constraints Litestar sets beside ``oneOf: [value, null]`` moved into it."""
    for operation in _operations(document).values():
        for parameter in operation.parameters or ():
            if isinstance(parameter, Reference) or not isinstance(parameter.schema, Schema):
                continue
            schema = parameter.schema
            if not schema.one_of:
                continue
            kinds = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
            if len(kinds) != 1 or len(schema.one_of) != 2:
                continue
            beside = {f.name: getattr(schema, f.name) for f in fields(Schema) if f.name != "one_of"}
            own = {name: value for name, value in beside.items() if value is not None}
            if isinstance(kinds[0], Schema):
                parameter.schema = replace(kinds[0], **own)
            elif not own:
                parameter.schema = kinds[0]


def _operations(document: OpenAPI) -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method)
            if operation is not None and operation.operation_id:
                found[operation.operation_id] = operation
    return found


def _add_links(document: OpenAPI) -> None:
    operations = _operations(document)
    for (source, status), links in LINKS.items():
        response = (operations[source].responses or {})[status]
        assert not isinstance(response, Reference)
        response.links = {
            name: Link(
                operation_id=target,
                parameters={k: v for k, v in parameters.items() if k != "requestBody"} or None,
                request_body=parameters.get("requestBody"),
            )
            for name, (target, parameters) in links.items()
        }
