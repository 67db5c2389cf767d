"""Domain events: facts that aggregate methods return when they change something."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orderline.domain.status import OrderStatus


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    order_id: UUID
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class OrderStatusChanged:
    order_id: UUID
    previous_status: OrderStatus
    new_status: OrderStatus
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    order_id: UUID
    previous_status: OrderStatus
    reason: str
    forced: bool
    occurred_at: datetime


Event = OrderPlaced | OrderStatusChanged | OrderCancelled
