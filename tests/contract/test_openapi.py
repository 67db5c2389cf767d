"""The OpenAPI 3.1 document: every operation and every problem type it may answer comes with an example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from orderline.application import errors as app_errors
from orderline.config import Settings
from orderline.domain import errors as domain_errors
from orderline.http.app import create_app
from orderline.http.openapi import PROBLEM_EXAMPLES
from orderline.http.problems import MEDIA_TYPE, every_problem_type, problem_type_of

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


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    for name, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [MEDIA_TYPE], f"{name} {status}"


def test_every_operation_documents_the_failures_every_request_can_meet(document: dict[str, Any]) -> None:
    for name, operation in _operations(document):
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
