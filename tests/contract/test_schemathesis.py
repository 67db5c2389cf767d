"""Schemathesis against the real app: generated requests for every operation, answers checked against the document.

Each operation is a test of its own, on each engine. The app runs in-process through Schemathesis's ASGI
transport, which holds the app's lifespan in an event loop of its own; so the API key, the pets and the orders
are made inside the lifespan, in that loop, and handed to the test through ``Seeded``.

``schemathesis.pytest.from_fixture`` would make the per-operation tests itself, but in 4.32.5 it sets
``Node._nodeid``, which pytest 9.2 no longer has; so the operations are parametrised here, and each test runs
Hypothesis over the operation's own strategies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import hypothesis
import msgspec
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orderline.application.orders import CancelOrder
from orderline.application.principal import ANONYMOUS, Scope
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from tests.support import ADMIN, FAST_HASHER, SteppingClock, a_pet, an_order, approve

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiCase, OpenApiOperation

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES_PER_OPERATION = 50
SCHEMA_PATH = "/schema/openapi.json"
UNLIMITED = "default=100000000/60,write=100000000/60,auth=100000000/60"


async def _no_use_cases() -> UseCases:
    raise AssertionError("the OpenAPI document must not need a database")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per operation of the document, read from an app that never starts (so without a database)."""
    if "operation" not in metafunc.fixturenames:
        return
    document: dict[str, Any] = create_app(Settings(), _no_use_cases).openapi_schema.to_schema()
    labels = [f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item]
    metafunc.parametrize("operation", labels, ids=labels)


@dataclass
class Seeded:
    """What the lifespan made: the callers' headers, and the ids of rows that exist, by path parameter name."""

    callers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, list[UUID]] = field(default_factory=dict)


async def _seed(use_cases: UseCases, seeded: Seeded) -> None:
    _key, secret = await use_cases.api_keys.create("schemathesis", frozenset({Scope.ADMIN}))
    seeded.callers = {
        "admin": {"Authorization": f"Bearer {secret}"},
        "anonymous": {},
        "unknown key": {"Authorization": "Bearer olk_not-a-key-we-issued"},
    }
    whiskers = await a_pet(use_cases, "Whiskers", stock=5)
    nibbles = await a_pet(use_cases, "Nibbles", stock=1, fee="12.00")
    # The largest fee the document allows, with plenty of stock: orders of it test the arithmetic's range.
    gilded = await a_pet(use_cases, "Gilded", stock=1_000_000, fee="999999999999999.99")
    yen = await a_pet(use_cases, "Hachi", stock=10, fee="30000", currency="JPY")
    placed = await an_order(use_cases, whiskers)
    approved = await approve(use_cases, await an_order(use_cases, yen, quantity=2))
    cancelled = await use_cases.orders.cancel(ADMIN, CancelOrder((await an_order(use_cases, nibbles)).id))
    seeded.ids["pet_id"] = [whiskers.id, nibbles.id, gilded.id, yen.id]
    seeded.ids["order_id"] = [placed.id, approved.id, cancelled.id]
    alice = Registration("alice", "alice@example.com", "correct horse battery")
    seeded.ids["user_id"] = [(await use_cases.users.register(ANONYMOUS, alice)).id]


@pytest.fixture
def seeded() -> Seeded:
    return Seeded()


@pytest.fixture
def api(settings: Settings, clock: SteppingClock, seeded: Seeded) -> Iterator[schemathesis.BaseSchema]:
    """The document as the running app serves it; loading it starts the app's lifespan, and so the seeding."""

    # Hundreds of generated requests from one key: rate limits would only cut the coverage short.
    settings = msgspec.structs.replace(settings, rate_limits=UNLIMITED)

    async def open_use_cases() -> UseCases:
        use_cases = await build(settings, clock=clock, hasher=FAST_HASHER)
        await _seed(use_cases, seeded)
        return use_cases

    app = create_app(settings, open_use_cases)
    try:
        yield schemathesis.openapi.from_asgi(SCHEMA_PATH, app)
    finally:
        # Schemathesis's plugin ends lifespans at each test's teardown too; ending it here keeps the
        # database open exactly as long as this fixture, whichever teardown runs first.
        asgi.shutdown_lifespans()


def _existing(data: st.DataObject, value: Any, known: list[UUID], label: str) -> Any:
    """Random UUIDs only ever find nothing; half the time, swap a generated id for one that exists."""
    if isinstance(value, str) and data.draw(st.booleans(), label=f"an existing {label}"):
        return str(data.draw(st.sampled_from(known), label=label))
    return value


def _aim_at_seeded_rows(case: OpenApiCase, data: st.DataObject, seeded: Seeded) -> None:
    parameters: dict[str, Any] = case.path_parameters or {}
    for name, value in parameters.items():
        if name in seeded.ids:
            parameters[name] = _existing(data, value, seeded.ids[name], name)
    body = case.body
    if not isinstance(body, dict):
        return
    pets = seeded.ids["pet_id"]
    if "petId" in body:
        body["petId"] = _existing(data, body["petId"], pets, "petId")
    items = body.get("items")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "petId" in item:
            item["petId"] = _existing(data, item["petId"], pets, "items[].petId")


def _cases(operation: OpenApiOperation) -> st.SearchStrategy[OpenApiCase]:
    """Requests the document allows, and requests it forbids; the answers to both must be documented ones."""
    return st.sampled_from(list(schemathesis.GenerationMode)).flatmap(
        lambda mode: operation.as_strategy(generation_mode=mode)
    )


def test_every_operation_answers_as_the_openapi_document_says(
    api: schemathesis.BaseSchema, operation: str, seeded: Seeded
) -> None:
    method, path = operation.split(" ", 1)
    endpoint = api[path][method]
    # Mostly the admin, so that writes get past authorisation; sometimes no key or a wrong one, for the 401s.
    callers = st.sampled_from(["admin", "admin", "admin", "anonymous", "unknown key"])

    @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None)
    @hypothesis.given(case=_cases(endpoint), caller=callers, data=st.data())
    def answers_as_documented(case: OpenApiCase, caller: str, data: st.DataObject) -> None:
        _aim_at_seeded_rows(case, data, seeded)
        # A copy: Schemathesis writes the headers it sends into the mapping it is given.
        case.call_and_validate(headers=dict(seeded.callers[caller]), checks=CHECKS)

    answers_as_documented()
