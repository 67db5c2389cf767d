"""Events: what subscribers are told of each state change — the types, and their making from what one transaction
recorded (its audit entries, and the orders, payments and refunds it saw), for the outbox (ADR 0027).

The unit of work calls ``OutboxEvents.events`` in ``commit()``, before COMMIT: the events are durable with the
change and its audit entry, or vanish with them. Every order entry makes its events; a status change makes
``order.statusChanged``, then the event that says why (``order.cancelled`` …), then ``order.processed`` when the
order became APPROVED, CANCELLED or DELIVERED. A money fact (a payment, a refund) comes before the status change
it caused. Payloads carry the native API's bodies, rendered by an adapter (ports.EventRenderer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from orderline.application.audit import Action, AuditEntry, EntityType
from orderline.application.ports import EventRecord, EventRenderer, IdGenerator, Sighted
from orderline.domain.order import Order
from orderline.domain.payment import Payment, Refund, RefundStatus
from orderline.domain.status import OrderStatus

Data = dict[str, Any]

RECEIPT_PREFIX = "rcp_"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.statusChanged"
    ORDER_CANCEL_REQUESTED = "order.cancelRequested"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_ITEM_REMOVED = "order.itemRemoved"
    ORDER_UPDATED = "order.updated"  # a change that moves no status and removes no item: the billing address
    ORDER_ERASED = "order.erased"
    ORDER_PROCESSED = "order.processed"  # became APPROVED, CANCELLED or DELIVERED: what order callbacks are sent
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    PING = "ping"  # a subscription's test (written by the webhooks use case, for that subscription only)


PROCESSED = frozenset({OrderStatus.APPROVED, OrderStatus.CANCELLED, OrderStatus.DELIVERED})


class RefundReason(StrEnum):
    """Why a refund was asked for, as a refund event tells it."""

    ORDER_CANCELLED = "ORDER_CANCELLED"  # a cancel's refund of what was paid
    ITEMS_REMOVED = "ITEMS_REMOVED"  # the share of units taken off an open order (ADR 0022)
    LATE_CHARGE = "LATE_CHARGE"  # a charge captured after the order stopped being payable (a cancel won the race)


def rfc3339(moment: datetime) -> str:
    """A timestamp as the native API writes one: RFC 3339 in UTC with ``Z``, microseconds when there are any."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def changed_by(entry: AuditEntry) -> str:
    """The actor of a change as events name it: ``system``, or ``<kind>:<id>`` (``user:…``, ``api_key:…``)."""
    if entry.actor_id is None:
        return entry.actor_kind
    return f"{entry.actor_kind}:{entry.actor_id}"


def envelope(event_id: UUID, event_type: EventType, occurred_at: datetime, data: Data, *,
             order_id: UUID | None = None, subscription_id: UUID | None = None,
             timestamp: str | None = None) -> EventRecord:  # fmt: skip
    """An outbox event whose payload is ``{eventId, eventType, timestamp, data}``, exactly what is delivered.
    ``timestamp``: ``rfc3339(occurred_at)`` when the caller already wrote it (the events of one entry share it)."""
    kind = str(event_type)
    when = rfc3339(occurred_at) if timestamp is None else timestamp
    payload = {"eventId": str(event_id), "eventType": kind, "timestamp": when, "data": data}
    return EventRecord(event_id, kind, order_id, occurred_at, payload, subscription_id)


@dataclass(frozen=True, slots=True)
class ReceiptLinks:
    """Where a successful payment's receipt is read: ``rcp_<payment id, 32 hex digits>`` under the public URL."""

    public_url: str = DEFAULT_PUBLIC_URL

    @staticmethod
    def receipt_id(payment_id: UUID) -> str:
        return RECEIPT_PREFIX + payment_id.hex

    @staticmethod
    def payment_id(receipt_id: str) -> UUID | None:
        """The payment a receipt id names; None for anything that is not one."""
        digits = receipt_id.removeprefix(RECEIPT_PREFIX)
        if digits == receipt_id or len(digits) != 32 or not all(c in "0123456789abcdef" for c in digits):
            return None
        return UUID(hex=digits)

    def url(self, receipt_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/v1/receipts/{receipt_id}"

    def receipt(self, payment: Payment) -> Data:
        """The receipt a payment.succeeded event points to; generated when the payment succeeded."""
        receipt_id = self.receipt_id(payment.id)
        return {"receiptId": receipt_id, "receiptUrl": self.url(receipt_id), "generatedAt": rfc3339(payment.updated_at)}


@dataclass(frozen=True, slots=True)
class _Recorded:
    """One audit entry of an order with what the transaction saw: what its events are made of."""

    entry: AuditEntry
    order: Order | None  # None: erased meanwhile (a payment settling for an order that is gone)
    order_body: Data | None  # the order rendered once, as every event of the entry carries it
    seen: Sighted
    render: EventRenderer
    receipts: ReceiptLinks

    @property
    def by(self) -> str:
        return changed_by(self.entry)

    def after(self, name: str) -> Any:
        change = self.entry.changes.get(name)
        return change.get("after") if isinstance(change, dict) else None

    def before(self, name: str) -> Any:
        change = self.entry.changes.get(name)
        return change.get("before") if isinstance(change, dict) else None

    def body(self) -> Data | None:
        return self.order_body

    def payment(self) -> Payment:
        payment = self.seen.payment(UUID(str(self.after("paymentId"))))
        assert payment is not None, "a payment's entry is recorded in the transaction that settled it"
        return payment

    def refund(self) -> Refund:
        refund = self.seen.refund(UUID(str(self.after("refundId"))))
        assert refund is not None, "a refund's entry is recorded in the transaction that settled it"
        return refund


Made = list[tuple[EventType, Data]]


def _moved(r: _Recorded, *why: tuple[EventType, Data]) -> Made:
    """A status change: order.statusChanged, the events that say why, and order.processed where it applies."""
    before, after = r.before("status"), r.after("status")
    if r.order is None or before is None or after is None or before == after:
        return list(why)
    changed = {"order": r.body(), "previousStatus": before, "newStatus": after,
               "changedAt": rfc3339(r.order.updated_at), "changedBy": r.by}  # fmt: skip
    processed = [(EventType.ORDER_PROCESSED, {"order": r.body()})] if OrderStatus(after) in PROCESSED else []
    return [(EventType.ORDER_STATUS_CHANGED, changed), *why, *processed]


def _created(r: _Recorded) -> Made:
    return [(EventType.ORDER_CREATED, {"order": r.body()})]


def _paid(r: _Recorded) -> Made:
    payment = r.payment()
    data: Data = {"payment": r.render.payment(payment), "order": r.body()}
    if r.entry.action is Action.PAYMENT_SUCCEEDED:
        data["receipt"] = r.receipts.receipt(payment)
        return [(EventType.PAYMENT_SUCCEEDED, data), *_moved(r)]
    return [(EventType.PAYMENT_FAILED, data), *_moved(r)]


def _cancel_requested(r: _Recorded) -> Made:
    return _moved(r, (EventType.ORDER_CANCEL_REQUESTED, _why_cancelled(r)))


def _cancelled(r: _Recorded) -> Made:
    """A cancel that completed: at once, or when the refund it waited for succeeded (then that comes first)."""
    assert r.order is not None, "a cancel's entry is of an order that exists"
    # A force-cancel's own entry says so; one that waited for its refund was forced if the order had shipped.
    forced = r.entry.action is Action.ORDER_FORCE_CANCELLED or r.order.shipped_at is not None
    refunded = [] if r.after("refundId") is None else _refund_event(r)
    return [*refunded, *_moved(r, (EventType.ORDER_CANCELLED, {**_why_cancelled(r), "forced": forced}))]


def _why_cancelled(r: _Recorded) -> Data:
    assert r.order is not None
    reason = r.order.cancel_reason
    return {"order": r.body(), "reason": None if reason is None else str(reason), "note": r.order.cancel_note,
            "changedBy": r.by}  # fmt: skip


def _refund_settled(r: _Recorded) -> Made:
    """A refund settled: a cancel's failed one rolls the order back (a status change); others move no status."""
    return [*_refund_event(r), *_moved(r)]


def _refund_event(r: _Recorded) -> Made:
    if r.order is None:  # settled after its order was erased: audited, but no event (its `order` is gone)
        return []
    refund = r.refund()
    if refund.partial:
        reason = RefundReason.ITEMS_REMOVED
    elif r.entry.action in {Action.ORDER_CANCELLED, Action.ORDER_CANCEL_FAILED}:
        reason = RefundReason.ORDER_CANCELLED
    else:
        reason = RefundReason.LATE_CHARGE
    body = {"id": str(refund.id), "paymentId": str(refund.payment_id), "amount": str(refund.amount),
            "currency": refund.amount.currency, "status": str(refund.status), "reason": str(reason),
            "failureMessage": refund.failure_message}  # fmt: skip
    succeeded = refund.status is RefundStatus.SUCCEEDED
    return [(EventType.REFUND_SUCCEEDED if succeeded else EventType.REFUND_FAILED, {"refund": body, "order": r.body()})]


def _item_removed(r: _Recorded) -> Made:
    item, before, after = r.after("itemId"), r.before("quantity"), r.after("quantity")
    removed = int(before) - int(after)
    return [(EventType.ORDER_ITEM_REMOVED, {"order": r.body(), "itemId": item, "quantity": removed,
                                            "changedBy": r.by})]  # fmt: skip


def _updated(r: _Recorded) -> Made:
    return [(EventType.ORDER_UPDATED, {"order": r.body(), "changed": ["billingAddress"], "changedBy": r.by})]


def _erased(r: _Recorded) -> Made:
    """No personal data: the order's id and number, when, and by whom."""
    number = None if r.order is None else r.order.number
    return [(EventType.ORDER_ERASED, {"orderId": r.entry.entity_id, "number": number,
                                      "erasedAt": rfc3339(r.entry.occurred_at), "changedBy": r.by})]  # fmt: skip


_MAKERS: dict[Action, Callable[[_Recorded], Made]] = {
    Action.ORDER_CREATED: _created,
    Action.PAYMENT_SUCCEEDED: _paid,
    Action.PAYMENT_FAILED: _paid,
    Action.ORDER_CANCEL_REQUESTED: _cancel_requested,
    Action.ORDER_CANCELLED: _cancelled,
    Action.ORDER_FORCE_CANCELLED: _cancelled,
    Action.ORDER_CANCEL_FAILED: _refund_settled,
    Action.REFUND_SUCCEEDED: _refund_settled,
    Action.REFUND_FAILED: _refund_settled,
    Action.ORDER_SHIPPED: _moved,
    Action.ORDER_DELIVERED: _moved,
    Action.ORDER_LINE_REMOVED: _item_removed,
    Action.ORDER_BILLING_ADDRESS_CHANGED: _updated,
    Action.ORDER_ERASED: _erased,
}


class OutboxEvents:
    """The events of what a transaction recorded (ports.EventSource): orders only; catalogue, user and key
    changes are none."""

    def __init__(self, render: EventRenderer, ids: IdGenerator, receipts: ReceiptLinks | None = None) -> None:
        self._render = render
        self._ids = ids
        self._receipts = receipts or ReceiptLinks()

    def events(self, entries: Sequence[AuditEntry], seen: Sighted) -> list[EventRecord]:
        made: list[EventRecord] = []
        for entry in entries:
            make = _MAKERS.get(entry.action)
            if make is None or entry.entity_type is not EntityType.ORDER:
                continue
            order_id = UUID(entry.entity_id)
            order = seen.order(order_id)
            body = None if order is None else self._render.order(order)
            recorded = _Recorded(entry, order, body, seen, self._render, self._receipts)
            when = rfc3339(entry.occurred_at)  # once for the entry's events, which all carry it
            for event_type, data in make(recorded):
                made.append(envelope(self._ids.new_id(), event_type, entry.occurred_at, data, order_id=order_id,
                                     timestamp=when))  # fmt: skip
        return made
