"""Who is asking: API keys, users, passwords, tokens, dashboard sessions, rate counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from orderline.application.principal import PUBLIC, Scope
from orderline.application.queries import UserQuery
from orderline.domain.user import Role, User, UserStatus


@dataclass(slots=True)
class ApiKey:
    id: UUID
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None
    tenant: UUID | None = None  # the tenant it is bound to; None: the operator's key, acting where asked (ADR 0040)


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """What an anonymous order's token stands for: the order, in the order's tenant."""

    order_id: UUID
    tenant: UUID


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def find_by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def list(self) -> list[ApiKey]: ...
    async def revoke(self, key_id: UUID, now: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class UserStanding:
    """What authentication needs of a user's row: no more (ADR 0044)."""

    role: Role
    status: UserStatus


class UserRepository(Protocol):
    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None: ...
    async def standing(self, user_id: UUID) -> UserStanding | None:
        """The user's role and status, read without building the whole user; None if there is no such user."""
        ...

    async def get_by_username(self, username: str) -> User | None: ...
    async def add(self, user: User) -> None:
        """Raises DuplicateUser when the username or the email is taken."""
        ...

    async def save(self, user: User) -> None: ...
    async def find(self, query: UserQuery) -> list[User]: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    issuer: str
    scopes: frozenset[str]
    expires_at: datetime
    tenant: UUID = PUBLIC  # the tenant the subject belongs to: the token acts there, whatever X-Tenant-ID says


class TokenType(StrEnum):
    ACCESS = "access"  # authenticates requests
    REFRESH = "refresh"  # only buys a new access token


class TokenIssuer(Protocol):
    def issue(self, subject: UUID, scopes: frozenset[Scope], now: datetime, tenant: UUID) -> tuple[str, datetime]:
        """An access token of a user of ``tenant``."""
        ...

    def issue_refresh(self, subject: UUID, now: datetime, tenant: UUID) -> tuple[str, datetime]: ...
    def verify(self, token: str) -> Claims:
        """Claims of a valid access token of ours; anything else raises Unauthenticated (WrongTokenType for a
        refresh token)."""
        ...

    def verify_refresh(self, token: str) -> Claims:
        """Claims of a valid refresh token of ours; anything else raises Unauthenticated."""
        ...


class ExternalTokens(Protocol):
    async def verify(self, token: str) -> Claims | None:
        """Claims of a valid token from the trusted issuer, None for a token not meant for it."""
        ...


@dataclass(frozen=True, slots=True)
class DashboardSession:
    """A staff member's sign-in to the dashboard: the browser holds its secret, we keep the secret's hash."""

    id: UUID
    secret_hash: str
    user_id: UUID
    tenant: UUID  # the account's, where every page of the session reads (ADR 0043)
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


class DashboardSessionRepository(Protocol):
    async def add(self, session: DashboardSession) -> None: ...
    async def find_by_hash(self, secret_hash: str) -> DashboardSession | None:
        """Across tenants, as a credential is: the hash is unique everywhere, and the row names its tenant."""
        ...

    async def end(self, secret_hash: str, now: datetime) -> None:
        """Forget the session (signed out): its secret finds nothing any more."""
        ...

    async def remove_expired(self, now: datetime) -> int:
        """Forget the sessions that ended by time (``expires_at`` is indexed); how many there were."""
        ...


class RateCounters(Protocol):
    """Fixed-window request counters shared by every web process of the service (ADR 0035).

    A failure to count (the store cannot be reached, or answers late) raises DatabaseUnavailable; the
    caller then lets the request through uncounted.
    """

    connections: int  # counts it can make at once; a caller bounds its calls in flight by it

    async def hit(self, key: str, window: int) -> tuple[int, float]:
        """Count one request against ``key``'s window of ``window`` seconds, opening one if none is open:
        the count in the window so far, and the seconds left in it."""
        ...
