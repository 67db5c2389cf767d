"""The events orderline writes match the JSON Schema docs/webhooks.md publishes (section "Events"), read from that
very block; the schema names every event type and no other. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import jsonschema_rs
import pytest

from orderline.application.events import EventType, envelope
from orderline.application.use_cases import UseCases
from tests.integration import test_outbox as flows
from tests.markdown import ROOT, fenced_blocks
from tests.outbox import outbox
from tests.support import START, Db, SteppingClock

EVERY_FLOW = (
    flows.paid,
    flows.declined,
    flows.refunded_later,
    flows.refund_failed,
    flows.delivered,
    flows.force_cancelled,
    flows.erased,
    flows.item_removed_and_refunded,
    flows.billing_address_changed,
)


def published() -> dict[str, Any]:
    """The JSON Schema block of docs/webhooks.md's Events section."""
    text = (ROOT / "docs" / "webhooks.md").read_text()
    events = text[text.index("\n## Events\n") : text.index("\n## ", text.index("\n## Events\n") + 1)]
    [schema] = [json.loads(b.body) for b in fenced_blocks(events) if b.info == "json" and '"$defs"' in b.body]
    assert isinstance(schema, dict)
    return schema


def of_type(schema: dict[str, Any], event_type: str) -> dict[str, Any]:
    return {**schema, "$ref": f"#/$defs/{event_type}"}


def check(schema: dict[str, Any], payload: dict[str, Any]) -> None:
    jsonschema_rs.validate(of_type(schema, payload["eventType"]), payload, validate_formats=True)
    jsonschema_rs.validate(schema, payload, validate_formats=True)  # and exactly one type's schema fits it


def test_the_schema_names_every_event_type_and_no_other() -> None:
    schema = published()

    named = {ref["$ref"].removeprefix("#/$defs/") for ref in schema["oneOf"]}

    assert named == {str(event_type) for event_type in EventType}
    for event_type in EventType:
        assert schema["$defs"][event_type]["properties"]["eventType"] == {"const": str(event_type)}


async def test_every_event_written_matches_its_published_schema(
    use_cases: UseCases, db: Db, clock: SteppingClock
) -> None:
    schema = published()
    for flow in EVERY_FLOW:
        await flow(use_cases, clock)

    written = await outbox(db)

    assert {event.event_type for event in written} == {str(t) for t in EventType} - {EventType.PING}
    for event in written:
        check(schema, event.payload)


def test_a_ping_matches_its_published_schema() -> None:
    ping = envelope(uuid4(), EventType.PING, START, {"webhookId": str(uuid4())})

    check(published(), ping.payload)


@pytest.mark.parametrize(
    "broken",
    [
        lambda p: p["data"]["order"].pop("status"),
        lambda p: p["data"]["order"].update(secret="x"),
        lambda p: p.update(eventType="order.shipped"),
        lambda p: p["data"].update(previousStatus="LOST"),
    ],
    ids=["order-without-status", "order-with-an-unknown-field", "unknown-type", "unknown-status"],
)
async def test_the_schema_refuses_an_event_that_breaks_it(
    use_cases: UseCases, db: Db, clock: SteppingClock, broken: Any
) -> None:
    await flows.paid(use_cases, clock)
    [changed] = [event.payload for event in await outbox(db) if event.event_type == "order.statusChanged"]

    broken(changed)

    with pytest.raises(jsonschema_rs.ValidationError):
        check(published(), changed)
