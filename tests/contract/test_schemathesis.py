"""Schemathesis's whole run against the real app, on each engine: every check, every phase, within a budget.

This is what ``schemathesis run --checks all`` does, in-process: the examples of the document, its coverage
phase (boundaries, every value a schema refuses, methods it does not list, missing credentials), fuzzing,
and the stateful phase that follows the document's links (place an order, then read, pay and cancel it).
The app runs through Schemathesis's ASGI transport, which holds its lifespan in an event loop of its own; the
database is seeded before, with an admin API key whose secret is the run's bearer credential.

Fuzzing and the stateful phase keep drawing until ``max-time``; that is the budget. Each run draws a new
seed (printed with any failure; ``ORDERLINE_SCHEMATHESIS_SEED`` replays one).

Where a check's expectation disagrees with a deliberate, documented decision of the API, ``DECISIONS`` drops
exactly those failures, each with its reason; no check is switched off.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.core.transport import Response
from schemathesis.engine import events, from_schema
from schemathesis.generation.case import Case
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER
from schemathesis.openapi.checks import EnsureResourceAvailability, RejectedPositiveData, UseAfterFree
from schemathesis.python import asgi

from orderline.application.audit import Action, EntityType
from orderline.application.principal import ANONYMOUS, Scope
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.bootstrap import build
from orderline.config import Settings
from orderline.http.app import create_app
from orderline.http.dialects.sfox import errors as sfox_errors
from orderline.storage.database import DatabaseUrl, open_database
from tests.support import FAST_HASHER, SteppingClock, a_pet, an_order, approve

AnyCase = Case[Any]
SCHEMA_PATH = "/schema/openapi.json"
# Thousands of generated requests from one key: rate limits would only cut the coverage short.
UNLIMITED = "default=100000000/60,write=100000000/60,auth=100000000/60"
BUDGET_SECONDS = int(os.environ.get("ORDERLINE_SCHEMATHESIS_SECONDS", "40"))
EXAMPLES_PER_OPERATION = 25


# Refusals of schema-valid requests that are business rules a JSON Schema cannot state: a total that must
# equal the catalogue's, a card the Luhn check refuses, a voucher already used up... Each is a problem type
# of its own with its docs/problems page; a 422 `validation-error` is never one of them.
BUSINESS_REFUSALS = frozenset(
    {
        "currency-mismatch",  # the pets are priced in another currency than the one sent
        "total-mismatch",  # totalAmount differs from the catalogue's total
        "invalid-amount",  # more decimals than the currency has, or a total beyond what is recorded
        "invalid-order",  # the same pet twice in one order
        "voucher-not-applicable",  # unknown, expired, used up, or in another currency
        "payment-mismatch",  # the payment is not the order's total
        "payment-declined",  # the gateway declined the card (402)
        "invalid-card",  # a number failing the Luhn check, or a card that has expired
        "weak-password",  # a common password, or one containing the username
        "order-not-payable",  # an order that costs nothing has nothing to pay (409 once it is not PLACED)
    }
)


def _problem(response: Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _business_refusal(failure: Failure, case: AnyCase, response: Response) -> bool:
    """A schema-valid request refused by a business rule (above) is answered by its documented problem."""
    return isinstance(failure, RejectedPositiveData) and _problem(response).get("code") in BUSINESS_REFUSALS


def _stale_if_match(failure: Failure, case: AnyCase, response: Response) -> bool:
    """412 is HTTP's answer when If-Match names another version than the resource's (RFC 9110 §13.1.1): any
    string is a well-formed header, and only the server knows which ETag is current."""
    headers = {name.lower() for name in (case.headers or {})}
    return isinstance(failure, RejectedPositiveData) and response.status_code == 412 and "if-match" in headers


def _foreign_cursor(failure: Failure, case: AnyCase, response: Response) -> bool:
    """A cursor is an opaque token the server issued (docs/architecture.md, Pagination); one it did not issue is
    a 422 on ``cursor``, however well it fits the documented alphabet."""
    errors = _problem(response).get("errors") or []
    fields = {error.get("field") for error in errors if isinstance(error, dict)}
    return isinstance(failure, RejectedPositiveData) and fields == {"cursor"}


def _whole_float_for_an_integer(failure: Failure, case: AnyCase, response: Response) -> bool:
    """An integer is written as an integer: ``2.0`` for ``quantity`` is a 422 naming the field (issue 8). JSON
    Schema 2020-12 counts 2.0 as an integer, so Schemathesis sends it as valid data; JSON does not."""
    errors = _problem(response).get("errors") or []
    fields = [error.get("field", "") for error in errors if isinstance(error, dict)] or _drf_fields(_problem(response))
    return (
        isinstance(failure, RejectedPositiveData)
        and bool(fields)
        and all(_is_whole_float(case.body, field) for field in fields)
    )


def _drf_fields(body: dict[str, Any], prefix: str = "") -> list[str]:
    """The fields a DRF dialect's 400 names: ``{"field": ["..."]}``, nested for a nested object (ADR 0026)."""
    found = []
    for name, value in body.items():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            found += _drf_fields(value, path)
        elif isinstance(value, list):
            found.append(path)
    return found


def _is_whole_float(body: Any, field: str) -> bool:
    value = body
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field):
        if index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        elif name and isinstance(value, dict) and name in value:
            value = value[name]
        else:
            return False
    return isinstance(value, float) and value.is_integer()


def _cancelled_not_deleted(failure: Failure, case: AnyCase, response: Response) -> bool:
    """``DELETE /v1/orders/{id}`` is the Pet Store's Cancel Order: the order is kept, CANCELLED (or waiting for
    its refund), and it and its payments can be read afterwards (README, "The API")."""
    if not isinstance(failure, UseAfterFree) or not failure.free.startswith("DELETE /v1/orders/"):
        return False
    return failure.usage.startswith(f"GET {failure.free.removeprefix('DELETE ')}")


# sFOX answers an id that names no order in the caller's account with 400 (its Cancel Order page; ADR 0025).
SFOX_ID_REFUSALS = frozenset({sfox_errors.NOT_IN_ACCOUNT, sfox_errors.NONE_QUALIFY, sfox_errors.IDS_REFUSED})


def _sfox_id_not_in_account(failure: Failure, case: AnyCase, response: Response) -> bool:
    """Any integer fits sFOX's documented id, and only the server knows which are orders in the caller's
    account: the others are sFOX's 400 ``{"error": "internal error"}`` (and, for a bulk cancel, its 400 naming
    invalid ids), as the original page shows."""
    return (
        isinstance(failure, RejectedPositiveData)
        and response.status_code == 400
        and case.path.startswith("/sfox/")
        and _problem(response).get("error") in SFOX_ID_REFUSALS
    )


def _shoplazza_not_cancellable(failure: Failure, case: AnyCase, response: Response) -> bool:
    """Shoplazza answers a cancel of an order whose status allows none with 406 (its Cancel Order page's error
    table; ADR 0024), where the native API answers 409: only the server knows an order's status."""
    return (
        isinstance(failure, RejectedPositiveData)
        and response.status_code == 406
        and case.path.startswith("/openapi/2022-01/")
        and case.path.endswith("/cancel")
    )


def _page_past_the_offset_bound(failure: Failure, case: AnyCase, response: Response) -> bool:
    """Shoplazza's ``page`` and ``limit`` are each within their bounds, but together they may skip no more than
    10,000 orders (ADR 0023, ADR 0024): a rule across two parameters that JSON Schema cannot state."""
    errors = _problem(response).get("errors") or [None]
    return (
        isinstance(failure, RejectedPositiveData)
        and response.status_code == 422
        and str(errors[0]).startswith("page: ")
    )


Decision = Callable[[Failure, AnyCase, Response], bool]


def _unknown_last_event_id(failure: Failure, case: AnyCase, response: Response) -> bool:
    """A Last-Event-ID is an id the stream sent (docs/webhooks.md, Live stream), like a cursor: digits that name no
    event of this stream are a 400 `bad-request`, however well they fit the documented alphabet."""
    resumes = "last-event-id" in {name.lower() for name in case.headers or {}} or "lastEventId" in (case.query or {})
    return isinstance(failure, RejectedPositiveData) and resumes and _problem(response).get("code") == "bad-request"


DECISIONS: list[Decision] = [
    _sfox_id_not_in_account,
    _business_refusal,
    _stale_if_match,
    _foreign_cursor,
    _whole_float_for_an_integer,
    _cancelled_not_deleted,
    _page_past_the_offset_bound,
    _shoplazza_not_cancellable,
    _unknown_last_event_id,
]


def _erased_by_post(database_url: str) -> Decision:
    def erased(failure: Failure, case: AnyCase, response: Response) -> bool:
        """``POST /v1/orders/{id}/erase`` erases an order (erasure is its own use case, README "The API", since
        ``DELETE /v1/orders/{id}`` is the Pet Store's cancel). Schemathesis knows a deletion only by DELETE,
        so an order read after its erasure looks like a created order gone missing: the audit log's
        tombstone says which it is."""
        order_id = (case.path_parameters or {}).get("order_id")
        if not isinstance(failure, EnsureResourceAvailability) or not isinstance(order_id, str):
            return False
        return asyncio.run(_tombstone_of(database_url, order_id))

    return erased


async def _tombstone_of(database_url: str, order_id: str) -> bool:
    database = await open_database(DatabaseUrl.parse(database_url))
    try:
        async with database.snapshot() as uow:
            query = AuditQuery(entity_type=EntityType.ORDER, entity_id=order_id, action=Action.ORDER_ERASED)
            return bool(await uow.audit.find(query))
    finally:
        await database.close()


def _keep_unless_decided(decisions: list[Decision]) -> Callable[[Any, Failure, AnyCase, Response], bool]:
    def filter_failure(context: Any, failure: Failure, case: AnyCase, response: Response) -> bool:
        """Keep every failure but those a documented decision explains."""
        return not any(decision(failure, case, response) for decision in decisions)

    return filter_failure


def before_call(context: Any, case: AnyCase, kwargs: dict[str, Any]) -> None:
    """A valid request carries an Idempotency-Key of its own, as clients must (docs/adr/0012): a generator that
    sends "0" with every request, or resends a corrected body under the key it drew, would meet the first
    answer replayed, or 422 idempotency-key-reused, which tests/e2e/test_idempotency_api.py covers. Requests
    meant to be invalid keep the key they were given. (A global hook: Schemathesis calls no other just
    before sending, which is when a body corrected from feedback is final.)"""
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if not negative and case.headers is not None and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


async def _seed(settings: Settings, clock: SteppingClock) -> str:
    """Rows for the operations to find, and the admin key whose secret the run sends."""
    use_cases: UseCases = await build(settings, clock=clock, hasher=FAST_HASHER)
    try:
        _key, secret = await use_cases.api_keys.create("schemathesis", frozenset({Scope.ADMIN}))
        whiskers = await a_pet(use_cases, "Whiskers", stock=50)
        # The largest fee the document allows, with plenty of stock: orders of it test the arithmetic's range.
        await a_pet(use_cases, "Gilded", stock=1_000_000, fee="999999999999999.99")
        yen = await a_pet(use_cases, "Hachi", stock=10, fee="30000", currency="JPY")
        await an_order(use_cases, whiskers)
        await approve(use_cases, await an_order(use_cases, yen, quantity=2))
        await use_cases.users.register(ANONYMOUS, Registration("alice", "alice@example.com", "correct horse battery"))
    finally:
        await use_cases.close()
    return secret


def _config(secret: str, seed: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "max-time": BUDGET_SECONDS,
            "cache": {"enabled": False},
            "checks": {"enabled": True},
            "generation": {"max-examples": EXAMPLES_PER_OPERATION},
            "phases": {"stateful": {"max-steps": 20}},
            # The same admin key in each scheme: as a bearer, and in Shoplazza's Access-Token header.
            "auth": {"openapi": {"bearerAuth": {"bearer": secret}, "accessToken": {"api_key": secret}}},
        }
    )


@dataclass(frozen=True)
class Found:
    operation: str
    check: str
    title: str
    message: str
    request: str
    answer: str = ""

    def __str__(self) -> str:
        return f"{self.operation} — {self.check}: {self.title}\n{self.message}\n{self.request}\n-> {self.answer}"


def _answer(recorder: Any, case_id: str) -> str:
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    if response is None:
        return ""
    # Which credential the request carried, by its kind only: an API key (olk_...), a JWT (eyJ...), none.
    sent = interaction.request.headers.get("Authorization") or interaction.request.headers.get("authorization")
    credential = (sent[0] if isinstance(sent, list) else sent or "none")[:11]
    return f"{response.status_code} {response.content[:600].decode(errors='replace')} (sent as {credential}...)"


def _failures(schema: schemathesis.BaseSchema) -> list[Found]:
    found: dict[tuple[str, str, str], Found] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            for case_id, nodes in event.recorder.checks.items():
                for node in nodes:
                    if node.failure_info is not None:
                        failure = node.failure_info.failure
                        key = (event.recorder.label, node.name, failure.title)
                        sample, answer = node.failure_info.code_sample, _answer(event.recorder, case_id)
                        found.setdefault(key, Found(*key, failure.message, sample, answer))
        elif isinstance(event, events.NonFatalError | events.FatalError):
            error = getattr(event, "value", None) or getattr(event, "exception", None)
            label = getattr(event, "label", "run")
            found.setdefault((label, "error", type(error).__name__), Found(label, "error", "", repr(error), ""))
    return list(found.values())


def test_schemathesis_finds_nothing_under_every_check_and_phase(settings: Settings, clock: SteppingClock) -> None:
    # Live streams end quickly, as they do at ORDERLINE_STREAM_MAX_SECONDS: Schemathesis reads whole responses.
    settings = msgspec.structs.replace(settings, rate_limits=UNLIMITED, stream_max_seconds=0.2)
    secret = asyncio.run(_seed(settings, clock))
    seed = int(os.environ.get("ORDERLINE_SCHEMATHESIS_SEED") or random.getrandbits(64))
    app = create_app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))
    schema = schemathesis.openapi.from_asgi(SCHEMA_PATH, app, config=_config(secret, seed))
    schema.hook(_keep_unless_decided([*DECISIONS, _erased_by_post(settings.database_url)]))
    schemathesis.hook(before_call)
    try:
        found = _failures(schema)
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)
        asgi.shutdown_lifespans()

    report = "\n\n".join(str(failure) for failure in found)
    assert not found, f"ORDERLINE_SCHEMATHESIS_SEED={seed}\n\n{report}"
