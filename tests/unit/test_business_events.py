"""Business events: which committed audit entries are which events, and what their log lines carry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from orderline.application import business_events
from orderline.application.audit import Action, AuditEntry, EntityType
from orderline.application.business_events import (
    BusinessCounts,
    BusinessEvent,
    BusinessEvents,
    BusinessLog,
    EventName,
    events_in,
)
from tests.support import START

ORDER_ID = str(uuid.uuid4())
REFUND_ID = str(uuid.uuid4())


def an_entry(
    action: Action,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
    entity: EntityType = EntityType.ORDER,
) -> AuditEntry:
    return AuditEntry(
        id=uuid.uuid4(),
        action=action,
        actor_kind="user",
        actor_id=str(uuid.uuid4()),
        entity_type=entity,
        entity_id=ORDER_ID,
        reason=reason,
        changes=changes or {},
        request_id="req-1",
        occurred_at=START,
    )


def after(**values: object) -> dict[str, Any]:
    return {name: {"before": None, "after": value} for name, value in values.items()}


REFUNDED = after(refundId=REFUND_ID, status="CANCELLED")


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (an_entry(Action.ORDER_CREATED, after(total="150.00", currency="USD")), [EventName.ORDER_PLACED]),
        (an_entry(Action.PAYMENT_SUCCEEDED), [EventName.PAYMENT_SUCCEEDED]),
        (an_entry(Action.PAYMENT_FAILED, reason="declined"), [EventName.PAYMENT_FAILED]),
        (an_entry(Action.ORDER_CANCEL_REQUESTED, reason="FRAUD"), [EventName.CANCEL_REQUESTED]),
        (an_entry(Action.ORDER_CANCELLED, reason="FRAUD"), [EventName.ORDER_CANCELLED]),
        (an_entry(Action.ORDER_FORCE_CANCELLED, reason="FRAUD"), [EventName.ORDER_CANCELLED]),
        (
            an_entry(Action.ORDER_CANCELLED, REFUNDED, "DUPLICATE"),
            [EventName.REFUND_SUCCEEDED, EventName.ORDER_CANCELLED],
        ),
        (an_entry(Action.ORDER_CANCEL_FAILED, after(refundId=REFUND_ID)), [EventName.REFUND_FAILED]),
        (an_entry(Action.REFUND_SUCCEEDED, after(refundId=REFUND_ID)), [EventName.REFUND_SUCCEEDED]),
        (an_entry(Action.REFUND_FAILED, after(refundId=REFUND_ID)), [EventName.REFUND_FAILED]),
        (an_entry(Action.ORDER_SHIPPED), [EventName.ORDER_SHIPPED]),
        (an_entry(Action.ORDER_DELIVERED), [EventName.ORDER_DELIVERED]),
        (an_entry(Action.ORDER_ERASED), [EventName.ORDER_ERASED]),
        (an_entry(Action.PET_CREATED, entity=EntityType.PET), []),
        (an_entry(Action.USER_REGISTERED, after(email="a@example.com"), entity=EntityType.USER), []),
    ],
    ids=lambda value: value.action.value if isinstance(value, AuditEntry) else None,
)
def test_each_committed_order_entry_is_the_business_events_it_stands_for(
    entry: AuditEntry, expected: list[EventName]
) -> None:
    assert [event.name for event in events_in([entry])] == expected


def test_a_log_line_carries_the_order_the_actor_the_request_and_the_entry() -> None:
    entry = an_entry(Action.ORDER_CANCELLED, REFUNDED, "FRAUD")

    with capture_logs() as lines:
        BusinessLog().committed([entry])

    assert [line["event"] for line in lines] == ["refund succeeded", "order cancelled"]
    cancelled = lines[1]
    assert cancelled["order_id"] == ORDER_ID
    assert (cancelled["actor"], cancelled["request_id"]) == ("user", "req-1")
    assert cancelled["audit_id"] == str(entry.id)
    assert (cancelled["reason"], cancelled["forced"]) == ("FRAUD", False)
    assert lines[0]["refund_id"] == REFUND_ID


def test_a_log_line_leaves_out_the_changes_it_does_not_name() -> None:
    entry = an_entry(Action.ORDER_CREATED, after(total="150.00", currency="USD", email="alice@example.com"))

    with capture_logs() as lines:
        BusinessLog().committed([entry])

    assert "alice@example.com" not in str(lines)
    assert (lines[0]["total"], lines[0]["currency"]) == ("150.00", "USD")


def test_cancellations_are_counted_by_reason() -> None:
    counts = BusinessCounts()

    counts.committed([an_entry(Action.ORDER_CANCELLED, reason="FRAUD")] * 2)
    counts.committed([an_entry(Action.ORDER_FORCE_CANCELLED, reason="DUPLICATE")])

    assert counts.snapshot() == {(EventName.ORDER_CANCELLED, "FRAUD"): 2, (EventName.ORDER_CANCELLED, "DUPLICATE"): 1}


@pytest.mark.parametrize("reason", [None, "because I said so"])
def test_a_cancellation_without_a_known_reason_counts_as_other(reason: str | None) -> None:
    counts = BusinessCounts()

    counts.committed([an_entry(Action.ORDER_CANCELLED, reason=reason)])

    assert counts.snapshot() == {(EventName.ORDER_CANCELLED, "OTHER"): 1}


def test_a_commits_events_are_worked_out_once_and_handed_to_the_log_and_the_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worked_out: list[int] = []

    def counted(entries: Sequence[AuditEntry]) -> list[BusinessEvent]:
        worked_out.append(len(entries))
        return events_in(entries)

    monkeypatch.setattr(business_events, "events_in", counted)
    counts = BusinessCounts()

    with capture_logs() as lines:
        BusinessEvents(BusinessLog(), counts).committed([an_entry(Action.ORDER_CANCELLED, REFUNDED, "FRAUD")])

    assert worked_out == [1]
    assert [line["event"] for line in lines] == ["refund succeeded", "order cancelled"]
    assert counts.snapshot() == {(EventName.REFUND_SUCCEEDED, ""): 1, (EventName.ORDER_CANCELLED, "FRAUD"): 1}


class Broken:
    def record(self, events: Sequence[BusinessEvent]) -> None:
        raise RuntimeError("the log's stream is gone")


def test_one_of_them_failing_keeps_neither_the_other_from_its_events_nor_the_commit_from_standing() -> None:
    counts = BusinessCounts()

    with capture_logs() as lines:
        BusinessEvents(Broken(), counts).committed([an_entry(Action.ORDER_CREATED)])

    assert counts.snapshot() == {(EventName.ORDER_PLACED, ""): 1}
    (failed,) = [line for line in lines if line["log_level"] == "error"]
    assert failed["observer"] == "Broken"


def test_a_commit_of_no_business_event_tells_neither() -> None:
    counts = BusinessCounts()

    with capture_logs() as lines:
        BusinessEvents(BusinessLog(), counts).committed([an_entry(Action.PET_CREATED, entity=EntityType.PET)])

    assert (lines, counts.snapshot()) == ([], {})
