"""Queries: what a list or a count asks the database for — its filters, whose rows, and where a page starts.

Plain records that use cases build and repositories read (ports/ names the repositories).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from orderline.application.pagination import DEFAULT_LIMIT
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.pet import PetStatus, Species
from orderline.domain.status import OrderStatus
from orderline.domain.user import Role, UserStatus


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose orders a list is about; exactly one field is set, or none for every order (admin)."""

    customer_id: UUID | None = None
    api_key_id: UUID | None = None
    order_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class OrderQuery:
    status: OrderStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    limit: int = DEFAULT_LIMIT
    before_seq: int | None = None  # keyset: newest first, continue below this seq
    owner: Owner = field(default_factory=Owner)
    payment_status: OrderPaymentStatus | None = None  # the dashboard's Orders filter (issue 12)


@dataclass(frozen=True, slots=True)
class OrderSearch:
    """Which orders an offset-paged search or a count is about (the dialects' lists); None: any.

    Time bounds are aware datetimes: ``*_after`` is inclusive, ``*_before`` exclusive.
    """

    statuses: frozenset[OrderStatus] | None = None
    payment_statuses: frozenset[OrderPaymentStatus] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    owner: Owner = field(default_factory=Owner)


@dataclass(frozen=True, slots=True)
class PetQuery:
    species: Species | None = None
    status: PetStatus | None = None
    limit: int = DEFAULT_LIMIT
    after_id: UUID | None = None  # keyset: oldest first (UUIDv7 order), continue above this id


@dataclass(frozen=True, slots=True)
class UserQuery:
    status: UserStatus | None = None
    role: Role | None = None
    search: str | None = None  # a prefix of the username or the email
    limit: int = DEFAULT_LIMIT
    after_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    entity_type: str | None = None
    entity_id: str | None = None
    actor_id: str | None = None
    action: str | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None
    limit: int = DEFAULT_LIMIT
    before_id: UUID | None = None  # keyset: newest first
