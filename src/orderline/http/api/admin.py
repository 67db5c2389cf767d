"""Admin routes: the dashboard, users and their status, and the audit log (read only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, patch
from litestar.params import Body, FromPath, FromQuery, QueryParameter

from orderline.application.audit import Action, AuditEntry, EntityType
from orderline.application.dashboard import Window
from orderline.application.principal import Scope
from orderline.application.queries import AuditQuery, UserQuery
from orderline.application.use_cases import UseCases
from orderline.domain.user import Role, UserStatus
from orderline.http.access import needs
from orderline.http.api.examples import AUDIT_EXAMPLE, DASHBOARD_EXAMPLE, USER_EXAMPLE
from orderline.http.api.pets import PetOut
from orderline.http.api.users import UserOut
from orderline.http.api.wire import NO_NUL, Cursor, Limit, OccurredAfter, OccurredBefore, PageOut
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import body_examples, problems, success
from orderline.http.wire import in_utc


def _about(description: str) -> msgspec.Meta:
    return msgspec.Meta(description=description)


_REVENUE = (
    "per currency, a decimal string: money captured by payments since `since`, less refunds completed since "
    "then (a pending refund is not subtracted until the money has gone back); currencies in which no money "
    "moved are left out"
)


class WindowOut(msgspec.Struct, rename="camel"):
    """Orders created since ``since``, and the money that moved since then."""

    since: Annotated[datetime, _about("start of the window: midnight UTC today, or 7 x 24 hours before now")]
    orders: Annotated[int, _about("orders created since `since` (erased ones are gone and not counted)")]
    cancelled: Annotated[int, _about("of those orders, how many are CANCELLED now")]
    cancellation_rate: Annotated[float, _about("cancelled / orders, rounded to 4 places; 0 with no orders")]
    revenue: Annotated[dict[str, str], _about(_REVENUE)]

    @classmethod
    def of(cls, window: Window) -> WindowOut:
        revenue = {currency: str(money) for currency, money in window.revenue.items()}
        return cls(window.since, window.orders, window.cancelled, window.cancellation_rate, revenue)


class DashboardOut(msgspec.Struct, rename="camel"):
    """The shop at a glance; docs/admin-dashboard.md describes each field."""

    orders_by_status: Annotated[dict[str, int], _about("every order in the database, counted by its status")]
    today: Annotated[WindowOut, _about("since midnight UTC today")]
    last_7_days: Annotated[WindowOut, _about("the last 7 x 24 hours")]
    low_stock_pets: Annotated[list[PetOut], _about("pets with at most 1 unit free to order, fewest first; 20 at most")]


class StatusIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # DELETED is not a status an admin sets: DELETE /v1/users/{id} closes an account and scrubs it.
    status: Literal["ACTIVE", "SUSPENDED"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None


class AuditEntryOut(msgspec.Struct, rename="camel", kw_only=True):
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
    api: str | None  # "native", a dialect ("shoplazza", "sfox", "drf"), or null for the CLI and background work

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(**{name: getattr(entry, name) for name in entry.__dataclass_fields__})


class AdminController(Controller):
    path = "/admin"
    tags = ("Admin",)

    @get(
        "/dashboard",
        **needs(Scope.ADMIN),
        operation_id="getDashboardStats",
        summary="Get Dashboard Stats",
        responses=success(200, DashboardOut, DASHBOARD_EXAMPLE, "the figures") | problems("unauthorized", "forbidden"),
    )
    async def dashboard(self, use_cases: Injected[UseCases], principal: Caller) -> DashboardOut:
        stats = await use_cases.dashboard.stats(principal)
        return DashboardOut(
            stats.orders_by_status,
            WindowOut.of(stats.today),
            WindowOut.of(stats.last_7_days),
            [PetOut.of(pet) for pet in stats.low_stock],
        )

    @get(
        "/users",
        **needs(Scope.ADMIN),
        operation_id="listUsers",
        summary="List Users",
        description="Filters: status, role, and search (a prefix of the username or the email).",
        responses=success(200, PageOut[UserOut], {"data": [USER_EXAMPLE], "nextCursor": None}, "a page of users")
        | problems("unauthorized", "forbidden"),
    )
    async def users(
        self,
        use_cases: Injected[UseCases],
        principal: Caller,
        status: FromQuery[UserStatus | None] = None,
        role: FromQuery[Role | None] = None,
        search: Annotated[str | None, QueryParameter(max_length=254, pattern=NO_NUL)] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[UserOut]:
        query = UserQuery(status=status, role=role, search=search, limit=limit)
        page = await use_cases.users.list(principal, query, cursor=cursor)
        return PageOut([UserOut.of(user) for user in page.items], page.next_cursor)

    @get(
        "/users/{user_id:uuid}",
        **needs(Scope.ADMIN),
        operation_id="getUserDetails",
        summary="Get User Details",
        responses=success(200, UserOut, USER_EXAMPLE, "the account")
        | problems("unauthorized", "forbidden", "not-found"),
    )
    async def user(self, user_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> UserOut:
        return UserOut.of(await use_cases.users.get(principal, user_id))

    @patch(
        "/users/{user_id:uuid}/status",
        **needs(Scope.ADMIN),
        operation_id="updateUserStatus",
        summary="Update User Status",
        description="SUSPENDED stops the user's credentials working from their next request; ACTIVE restores them.",
        responses=success(200, UserOut, {**USER_EXAMPLE, "status": "SUSPENDED"}, "the account")
        | problems("unauthorized", "forbidden", "not-found", "invalid-user", "unsupported-media-type"),
    )
    async def set_status(
        self,
        user_id: FromPath[UUID],
        data: Annotated[
            StatusIn, Body(examples=body_examples(suspend={"status": "SUSPENDED", "reason": "chargebacks"}))
        ],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> UserOut:
        status = UserStatus(data.status)
        return UserOut.of(await use_cases.users.set_status(principal, user_id, status, data.reason))

    @get(
        "/audit-logs",
        **needs(Scope.SUPPORT),
        operation_id="listAuditLogs",
        summary="List Audit Logs",
        description="Newest first. Filters: entityType, entityId, actorId, action, occurredAfter, occurredBefore.",
        responses=success(200, PageOut[AuditEntryOut], {"data": [AUDIT_EXAMPLE], "nextCursor": None}, "entries")
        | problems("unauthorized", "forbidden"),
    )
    async def audit_logs(
        self,
        use_cases: Injected[UseCases],
        principal: Caller,
        entity_type: Annotated[EntityType | None, QueryParameter(name="entityType")] = None,
        entity_id: Annotated[str | None, QueryParameter(name="entityId", max_length=64, pattern=NO_NUL)] = None,
        actor_id: Annotated[str | None, QueryParameter(name="actorId", max_length=64, pattern=NO_NUL)] = None,
        action: FromQuery[Action | None] = None,
        occurred_after: OccurredAfter = None,
        occurred_before: OccurredBefore = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> PageOut[AuditEntryOut]:
        after, before = in_utc(occurred_after, "occurredAfter"), in_utc(occurred_before, "occurredBefore")
        query = AuditQuery(entity_type, entity_id, actor_id, action, after, before, limit)
        page = await use_cases.audit_log.list(principal, query, cursor=cursor)
        return PageOut([AuditEntryOut.of(entry) for entry in page.items], page.next_cursor)

    @get(
        "/audit-logs/{entry_id:uuid}",
        **needs(Scope.SUPPORT),
        operation_id="getAuditLogDetails",
        summary="Get Audit Log Details",
        responses=success(200, AuditEntryOut, AUDIT_EXAMPLE, "the entry")
        | problems("unauthorized", "forbidden", "not-found"),
    )
    async def audit_log(
        self, entry_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller
    ) -> AuditEntryOut:
        return AuditEntryOut.of(await use_cases.audit_log.get(principal, entry_id))
