"""The audit trail: who changed what, why, in which request — written in the same transaction as the change."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from orderline.application.principal import Principal

# Set by the adapter for the duration of a request, so entries name the request that caused them, and the API
# it came through ("native", or a dialect's name); neither is set for the CLI and background work.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
api: ContextVar[str | None] = ContextVar("api", default=None)


class Action(StrEnum):
    ORDER_CREATED = "ORDER_CREATED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    ORDER_FORCE_CANCELLED = "ORDER_FORCE_CANCELLED"
    ORDER_SHIPPED = "ORDER_SHIPPED"
    ORDER_DELIVERED = "ORDER_DELIVERED"
    ORDER_APPROVED = "ORDER_APPROVED"
    ORDER_ERASED = "ORDER_ERASED"
    ORDER_CANCEL_REQUESTED = "ORDER_CANCEL_REQUESTED"  # waiting for a refund (CANCEL_PENDING)
    ORDER_CANCEL_FAILED = "ORDER_CANCEL_FAILED"  # the refund failed: the order went back
    ORDER_LINE_REMOVED = "ORDER_LINE_REMOVED"  # units taken off a line of an open order (ADR 0022)
    ORDER_BILLING_ADDRESS_CHANGED = "ORDER_BILLING_ADDRESS_CHANGED"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    REFUND_SUCCEEDED = "REFUND_SUCCEEDED"  # of an order already cancelled (a charge that raced a cancel)
    REFUND_FAILED = "REFUND_FAILED"
    PET_CREATED = "PET_CREATED"
    PET_UPDATED = "PET_UPDATED"
    PET_REMOVED = "PET_REMOVED"
    USER_REGISTERED = "USER_REGISTERED"
    USER_UPDATED = "USER_UPDATED"
    USER_DELETED = "USER_DELETED"
    USER_SUSPENDED = "USER_SUSPENDED"
    USER_REACTIVATED = "USER_REACTIVATED"
    API_KEY_CREATED = "API_KEY_CREATED"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    VOUCHER_CREATED = "VOUCHER_CREATED"
    VOUCHER_REMOVED = "VOUCHER_REMOVED"
    WEBHOOK_CREATED = "WEBHOOK_CREATED"
    WEBHOOK_UPDATED = "WEBHOOK_UPDATED"
    WEBHOOK_DELETED = "WEBHOOK_DELETED"
    WEBHOOK_SECRET_ROTATED = "WEBHOOK_SECRET_ROTATED"  # noqa: S105 - an action, not a secret


class EntityType(StrEnum):
    ORDER = "ORDER"
    PET = "PET"
    USER = "USER"
    API_KEY = "API_KEY"
    VOUCHER = "VOUCHER"
    WEBHOOK = "WEBHOOK"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: UUID
    action: Action
    actor_kind: str
    actor_id: str | None
    entity_type: EntityType
    entity_id: str
    reason: str | None
    changes: dict[str, Any]
    request_id: str | None
    occurred_at: datetime
    api: str | None = None  # the API the change came through: "native", a dialect's name, or None (CLI, background)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields that changed, each as ``{"before": ..., "after": ...}``."""
    return {
        name: {"before": before.get(name), "after": value} for name, value in after.items() if before.get(name) != value
    }


@dataclass(frozen=True, slots=True)
class Record:
    """What a use case knows when it records: the entry is completed with id, actor and time."""

    action: Action
    entity_type: EntityType
    entity_id: object
    changes: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def entry(self, entry_id: UUID, actor: Principal, now: datetime) -> AuditEntry:
        return AuditEntry(
            id=entry_id,
            action=self.action,
            actor_kind=str(actor.kind),
            actor_id=None if actor.id is None else str(actor.id),
            entity_type=self.entity_type,
            entity_id=str(self.entity_id),
            reason=self.reason,
            changes=self.changes,
            request_id=request_id.get(),
            occurred_at=now,
            api=api.get(),
        )
