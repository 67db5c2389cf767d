"""The OpenAPI 3.1 document: every operation and every problem type it may answer comes with an example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import Column, String

from orderline.application import errors as app_errors
from orderline.config import Settings, parse_dialects
from orderline.domain import errors as domain_errors
from orderline.http.app import create_app
from orderline.http.dialects import load
from orderline.http.openapi import PROBLEM_EXAMPLES, problem_example
from orderline.http.problems import MEDIA_TYPE, every_problem_type, problem_type_of
from orderline.http.wire import TIMESTAMP_PATTERN, TIMESTAMP_RULE
from orderline.storage import schema

DOCS = Path(__file__).parents[2] / "docs" / "problems"


async def _no_use_cases() -> Any:
    raise AssertionError("the OpenAPI document must not need a database")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app: Litestar = create_app(Settings(), _no_use_cases)
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _has_example(content: dict[str, Any]) -> bool:
    return any("examples" in media or "examples" in media.get("schema", {}) for media in content.values())


def test_the_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")


def test_every_operation_has_an_id_a_summary_and_a_tag(document: dict[str, Any]) -> None:
    for name, operation in _operations(document):
        assert operation.get("operationId"), name
        assert operation.get("summary"), name
        assert operation.get("tags"), name


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    for name, operation in _operations(document):
        if "requestBody" in operation:
            assert _has_example(operation["requestBody"]["content"]), name


def test_every_response_with_a_body_has_an_example(document: dict[str, Any]) -> None:
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            if response.get("content"):
                assert _has_example(response["content"]), f"{name} {status}"


def _native(operations: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The native API's operations: a dialect's answer errors in its own body (ADR 0021)."""
    prefixes = tuple(dialect.prefix + "/" for dialect in load(parse_dialects(Settings().dialects)))
    return [(name, operation) for name, operation in operations if not name.split(" ", 1)[1].startswith(prefixes)]


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    for name, operation in _native(_operations(document)):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [MEDIA_TYPE], f"{name} {status}"


def test_every_operation_documents_the_failures_every_request_can_meet(document: dict[str, Any]) -> None:
    for name, operation in _native(_operations(document)):
        assert {"400", "422", "500"} <= operation["responses"].keys(), name


def test_every_problem_type_has_an_example_and_a_documentation_page() -> None:
    for problem in every_problem_type():
        assert problem.slug in PROBLEM_EXAMPLES, problem.slug
        assert (DOCS / f"{problem.slug}.md").is_file(), f"docs/problems/{problem.slug}.md is missing"


Refusal = type[domain_errors.DomainError] | type[app_errors.ApplicationError]


def _subclasses(base: Refusal) -> list[Refusal]:
    found: list[Refusal] = []
    for sub in base.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


@pytest.mark.parametrize(
    "error",
    _subclasses(domain_errors.DomainError) + _subclasses(app_errors.ApplicationError),
    ids=lambda error: error.__name__,
)
def test_every_error_class_maps_to_its_own_problem_type(error: Refusal) -> None:
    problem = problem_type_of(error.__new__(error))

    assert problem.slug == error.code, f"{error.__name__} maps to {problem.slug}"


def _request_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The component schemas request bodies use (names ending in In), by name."""
    return {name: schema for name, schema in document["components"]["schemas"].items() if name.endswith("In")}


def _values(schema: Any) -> list[dict[str, Any]]:
    """Every schema nested in ``schema`` that describes a value (the branches of anyOf included)."""
    if isinstance(schema, list):
        return [found for item in schema for found in _values(item)]
    if not isinstance(schema, dict):
        return []
    nested = [found for key, value in schema.items() if key not in {"examples", "default", "enum"}
              for found in _values(value)]  # fmt: skip
    return [schema, *nested] if "type" in schema else nested


def _parameters(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name} {parameter['name']}", value)
        for name, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        for value in _values(parameter["schema"])
    ]


def _client_values(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    bodies = [(name, value) for name, schema in _request_schemas(document).items() for value in _values(schema)]
    return bodies + _parameters(document)


INT32 = 2**31 - 1


def test_every_integer_a_client_sends_is_bounded_within_what_a_32_bit_column_holds(
    document: dict[str, Any],
) -> None:
    integers = [(name, value) for name, value in _client_values(document) if value.get("type") == "integer"]

    assert integers
    for name, value in integers:
        # A dialect's integer order id is the order's seq, a BIGINT, and says so (format int64).
        most = 2**63 - 1 if value.get("format") == "int64" else INT32
        assert -most <= value.get("minimum", -(2**63)) <= value.get("maximum", 2**63) <= most, (name, value)


def test_every_timestamp_a_client_sends_states_the_range_the_databases_hold(document: dict[str, Any]) -> None:
    times = [(name, value) for name, value in _client_values(document) if value.get("format") == "date-time"]
    time_parameters = [(name, p) for name, op in _operations(document) for p in op.get("parameters", [])
                       if any(v.get("format") == "date-time" for v in _values(p["schema"]))]  # fmt: skip

    assert times
    for name, value in times:
        assert value.get("pattern") == TIMESTAMP_PATTERN, name
    for name, parameter in time_parameters:
        assert parameter["description"].endswith(TIMESTAMP_RULE), name


def test_every_string_a_client_sends_has_a_length_limit(document: dict[str, Any]) -> None:
    strings = [(name, value) for name, value in _client_values(document) if value.get("type") == "string"]

    assert strings
    for name, value in strings:
        assert {"maxLength", "enum", "format", "const"} & value.keys() or "{" in value.get("pattern", ""), (name, value)


# Where each text a client sends is stored, and the longest the document lets it be once normalised.
STORED: list[tuple[str, str, Column[Any]]] = [
    ("PetIn", "name", schema.pets.c.name),
    ("PetIn", "breed", schema.pets.c.breed),
    ("PetIn", "color", schema.pets.c.color),
    ("AddressIn", "line1", schema.billing_addresses.c.line1),
    ("AddressIn", "line2", schema.billing_addresses.c.line2),
    ("AddressIn", "city", schema.billing_addresses.c.city),
    ("AddressIn", "state", schema.billing_addresses.c.state),
    ("AddressIn", "postalCode", schema.billing_addresses.c.postal_code),
    ("AddressIn", "country", schema.billing_addresses.c.country),
    ("RegistrationIn", "username", schema.users.c.username),
    ("RegistrationIn", "email", schema.users.c.email),
    ("RegistrationIn", "firstName", schema.users.c.first_name),
    ("RegistrationIn", "lastName", schema.users.c.last_name),
    ("RegistrationIn", "phone", schema.users.c.phone),
    ("ProfileIn", "email", schema.users.c.email),
    ("ProfileIn", "firstName", schema.users.c.first_name),
    ("ProfileIn", "lastName", schema.users.c.last_name),
    ("ProfileIn", "phone", schema.users.c.phone),
    ("WebhookIn", "description", schema.webhook_subscriptions.c.description),
    ("WebhookPatchIn", "description", schema.webhook_subscriptions.c.description),
]
# Stored upper-cased and stripped of the whitespace the pattern lets around them: at most 32 characters.
NORMALISED = [("VoucherIn", "code", schema.vouchers.c.code), ("OrderIn", "voucherCode", schema.orders.c.voucher_code)]


@pytest.mark.parametrize(("body", "field", "column"), STORED, ids=[f"{b}.{f}" for b, f, _ in STORED])
def test_every_text_a_client_sends_fits_the_column_it_is_stored_in(
    document: dict[str, Any], body: str, field: str, column: Column[Any]
) -> None:
    (value,) = [v for v in _values(_request_schemas(document)[body]["properties"][field]) if v["type"] == "string"]

    assert isinstance(column.type, String)
    assert column.type.length is not None
    assert value["maxLength"] <= column.type.length


@pytest.mark.parametrize(("body", "field", "column"), NORMALISED, ids=[f"{b}.{f}" for b, f, _ in NORMALISED])
def test_a_voucher_code_is_stored_in_the_32_characters_its_column_holds(
    document: dict[str, Any], body: str, field: str, column: Column[Any]
) -> None:
    (value,) = [v for v in _values(_request_schemas(document)[body]["properties"][field]) if v["type"] == "string"]

    assert "{2,31}" in value["pattern"]
    assert isinstance(column.type, String)
    assert column.type.length == 32


def _page_examples(slug: str) -> list[dict[str, Any]]:
    text = (DOCS / f"{slug}.md").read_text()
    blocks = text.split("```json")[1:]
    return [json.loads(block.split("```", 1)[0]) for block in blocks]


@pytest.mark.parametrize("problem", every_problem_type(), ids=lambda problem: problem.slug)
def test_every_problem_page_shows_the_body_the_server_sends(problem: Any) -> None:
    examples = _page_examples(problem.slug)

    assert examples, f"docs/problems/{problem.slug}.md has no JSON example"
    for example in examples:
        expected = problem_example(problem, example["instance"])
        assert {"type", "title", "status", "detail", "instance", "code"} <= example.keys(), problem.slug
        assert example.keys() >= expected.keys(), problem.slug
        assert (example["type"], example["title"], example["status"], example["code"]) == (
            expected["type"],
            expected["title"],
            expected["status"],
            problem.slug,
        )
