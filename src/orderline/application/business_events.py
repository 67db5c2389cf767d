"""Business events: what committed audit entries mean to an operator — one log line each, and their counts.

Both see only entries whose transaction committed, so a refused or rolled-back command neither logs an event nor
counts one. The app observes its commits with one ``BusinessEvents`` (a ports.CommitObserver), which works out a
commit's events once and hands the same list to both; each is also an observer of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import structlog

from orderline.application.audit import Action, AuditEntry
from orderline.domain.order import CancelReason
from orderline.logs import CachedLogger

log = structlog.get_logger("orderline.events")
_lines = CachedLogger("orderline.events")  # a line per business event: not a logger built for each


class EventName(StrEnum):
    """The event of each log line (its ``event`` field), stable for log queries and alerts."""

    ORDER_PLACED = "order placed"
    PAYMENT_SUCCEEDED = "payment succeeded"
    PAYMENT_FAILED = "payment failed"
    CANCEL_REQUESTED = "order cancel requested"
    ORDER_CANCELLED = "order cancelled"
    REFUND_SUCCEEDED = "refund succeeded"
    REFUND_FAILED = "refund failed"
    ORDER_SHIPPED = "order shipped"
    ORDER_DELIVERED = "order delivered"
    ORDER_ERASED = "order erased"


@dataclass(frozen=True, slots=True)
class BusinessEvent:
    name: EventName
    entry: AuditEntry
    details: dict[str, object] = field(default_factory=dict)

    @property
    def cancel_reason(self) -> str:
        """The reason of a cancellation, as a bounded label: a CancelReason, or OTHER for anything else."""
        reason = self.entry.reason
        return reason if reason is not None and reason in CancelReason.__members__ else CancelReason.OTHER.value

    def fields(self) -> dict[str, object]:
        """What the log line carries besides its event: never personal data (the audit log keeps that)."""
        entry = self.entry
        return {
            "order_id": entry.entity_id,
            "actor": entry.actor_kind,
            "request_id": entry.request_id,
            "audit_id": str(entry.id),
            **self.details,
        }


def _after(entry: AuditEntry, name: str) -> object:
    change = entry.changes.get(name)
    return change.get("after") if isinstance(change, dict) else None


def _placed(entry: AuditEntry) -> list[BusinessEvent]:
    details = {"total": _after(entry, "total"), "currency": _after(entry, "currency")}
    return [BusinessEvent(EventName.ORDER_PLACED, entry, details)]


def _payment(name: EventName) -> Callable[[AuditEntry], list[BusinessEvent]]:
    def events(entry: AuditEntry) -> list[BusinessEvent]:
        details = {"payment_id": _after(entry, "paymentId"), "amount": _after(entry, "amount")}
        if name is EventName.PAYMENT_FAILED:
            details["failure"] = entry.reason
        return [BusinessEvent(name, entry, details)]

    return events


def _cancel_requested(entry: AuditEntry) -> list[BusinessEvent]:
    return [BusinessEvent(EventName.CANCEL_REQUESTED, entry, {"reason": entry.reason})]


def _cancelled(entry: AuditEntry) -> list[BusinessEvent]:
    """A cancel that completed; when it waited for a refund, the refund succeeding is an event of its own."""
    refund_id = _after(entry, "refundId")
    refunded = [] if refund_id is None else [BusinessEvent(EventName.REFUND_SUCCEEDED, entry, {"refund_id": refund_id})]
    forced = entry.action is Action.ORDER_FORCE_CANCELLED
    return [*refunded, BusinessEvent(EventName.ORDER_CANCELLED, entry, {"reason": entry.reason, "forced": forced})]


def _refund(name: EventName) -> Callable[[AuditEntry], list[BusinessEvent]]:
    def events(entry: AuditEntry) -> list[BusinessEvent]:
        details: dict[str, object] = {"refund_id": _after(entry, "refundId"), "order_status": _after(entry, "status")}
        if name is EventName.REFUND_FAILED:
            details["failure"] = entry.reason
        return [BusinessEvent(name, entry, details)]

    return events


def _plain(name: EventName) -> Callable[[AuditEntry], list[BusinessEvent]]:
    return lambda entry: [BusinessEvent(name, entry)]


_EVENTS: dict[Action, Callable[[AuditEntry], list[BusinessEvent]]] = {
    Action.ORDER_CREATED: _placed,
    Action.PAYMENT_SUCCEEDED: _payment(EventName.PAYMENT_SUCCEEDED),
    Action.PAYMENT_FAILED: _payment(EventName.PAYMENT_FAILED),
    Action.ORDER_CANCEL_REQUESTED: _cancel_requested,
    Action.ORDER_CANCELLED: _cancelled,
    Action.ORDER_FORCE_CANCELLED: _cancelled,
    Action.ORDER_CANCEL_FAILED: _refund(EventName.REFUND_FAILED),  # the order went back to where it was
    Action.REFUND_SUCCEEDED: _refund(EventName.REFUND_SUCCEEDED),
    Action.REFUND_FAILED: _refund(EventName.REFUND_FAILED),
    Action.ORDER_SHIPPED: _plain(EventName.ORDER_SHIPPED),
    Action.ORDER_DELIVERED: _plain(EventName.ORDER_DELIVERED),
    Action.ORDER_ERASED: _plain(EventName.ORDER_ERASED),
}


def events_in(entries: Sequence[AuditEntry]) -> list[BusinessEvent]:
    """The business events of committed entries, in order; catalogue, user and key changes are none."""
    return [event for entry in entries if entry.action in _EVENTS for event in _EVENTS[entry.action](entry)]


class EventSink(Protocol):
    def record(self, events: Sequence[BusinessEvent]) -> None:
        """The business events of one commit, in order."""


class BusinessEvents:
    """The commit observer of the business events: a commit's events worked out once, handed to each sink in
    turn. One that fails is logged and skipped, as the commit's observers are (storage/unit_of_work.notify)."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks = sinks

    def committed(self, entries: Sequence[AuditEntry]) -> None:
        events = events_in(entries)
        if not events:
            return
        for sink in self._sinks:
            try:
                sink.record(events)
            except Exception:
                log.exception("commit observer failed; the transaction stands", observer=type(sink).__name__)


class BusinessLog:
    """One log line per business event, at info level, on logger ``orderline.events``."""

    def committed(self, entries: Sequence[AuditEntry]) -> None:
        self.record(events_in(entries))

    def record(self, events: Sequence[BusinessEvent]) -> None:
        if events:
            lines = _lines.get()
            for event in events:
                lines.info(event.name.value, **event.fields())


class BusinessCounts:
    """How many of each business event this process committed since it started (cancels also by reason)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[EventName, str]] = Counter()

    def committed(self, entries: Sequence[AuditEntry]) -> None:
        self.record(events_in(entries))

    def record(self, events: Sequence[BusinessEvent]) -> None:
        for event in events:
            label = event.cancel_reason if event.name is EventName.ORDER_CANCELLED else ""
            self._counts[event.name, label] += 1

    def snapshot(self) -> dict[tuple[EventName, str], int]:
        """Counts by (event name, label); the label is the cancel reason for cancels, '' otherwise."""
        return dict(self._counts)
