"""Money: payments, refunds and the shop's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from orderline.domain.payment import Payment, Refund


@dataclass(frozen=True, slots=True)
class RefundDue:
    """A refund still to be asked of the gateway (or asked again), with the charge it returns."""

    refund: Refund
    charge_reference: str
    tenant: UUID  # the refund's: it is settled there (ADR 0040)


class PaymentRepository(Protocol):
    """Payments and refunds: the money facts of orders. Callers lock the order row first (an erased order's
    payment, having none, by its own row)."""

    async def add(self, payment: Payment) -> None: ...
    async def save(self, payment: Payment) -> None: ...
    async def get(self, payment_id: UUID, *, for_update: bool = False) -> Payment | None: ...
    async def of_order(self, order_id: UUID) -> list[Payment]:
        """Oldest first."""
        ...

    async def processing(self, started_before: datetime | None, limit: int) -> list[tuple[UUID, Payment]]:
        """PROCESSING payments started before ``started_before`` (None: all of them), oldest first."""
        ...

    async def find(self, order_id: UUID, limit: int, after_id: UUID | None) -> list[Payment]:
        """Up to ``limit + 1`` of the order's payments after ``after_id``, in id order (oldest first)."""
        ...

    async def add_refund(self, refund: Refund) -> None: ...
    async def save_refund(self, refund: Refund) -> None: ...
    async def get_refund(self, refund_id: UUID, *, for_update: bool = False) -> Refund | None: ...
    async def refund_by_reference(self, reference: str) -> RefundDue | None: ...
    async def refunds_of(self, order_id: UUID) -> list[Refund]: ...
    async def pending_refunds(self, limit: int) -> list[RefundDue]:
        """PENDING refunds, oldest first."""
        ...

    async def net_captured_since(self, since: datetime) -> dict[str, int]:
        """Per currency, in minor units: what payments captured since ``since``, less what refunds returned
        since then. Erased orders' payments count: money facts outlive their order."""
        ...

    async def forget_holders(self, order_id: UUID) -> None:
        """Remove the card holder's name and address from the order's payments (erasure)."""
        ...

    async def count_pending_refunds(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One UTC day of the dashboard's overview: orders placed that day (and how many of them are CANCELLED
    now), and per currency the money captured that day less the money refunded that day, in minor units."""

    day: date
    orders: int = 0
    cancelled: int = 0
    net_minor: dict[str, int] = field(default_factory=dict)


class ShopFigures(Protocol):
    """Figures over a stretch of days, each one grouped query over an index on its time column."""

    async def per_day(self, since: datetime) -> list[DayFigures]:
        """The days since ``since`` (a UTC midnight) on which anything happened, oldest first."""
        ...

    async def refunds_by_status(self) -> dict[str, int]:
        """Refunds PENDING (the money is on its way back) and FAILED (it never went), by status."""
        ...

    async def by_status(self, since: datetime) -> dict[tuple[str, str | None], int]:
        """Orders placed since ``since``, by the status they are in now and their cancel reason (if any)."""
        ...
