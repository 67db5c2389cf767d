"""Sandbox routes, /v1/sandbox (ADR 0041, docs/sandbox.md): tenants, their test clocks, injected faults.

They exist only with ORDERLINE_SANDBOX on: otherwise ``sandbox_routes`` gives none (an unknown path, 404, absent
from the OpenAPI document) and ``sandbox_middleware`` adds nothing to any request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal, TypeVar
from uuid import UUID

import msgspec
from litestar import Controller, Router, delete, post
from litestar.enums import ScopeType
from litestar.params import Body, FromPath
from litestar.response import Response
from litestar.types import ASGIApp, Middleware, Receive, Send
from litestar.types import Scope as AsgiScope

from orderline.application.demo import DEMO_PETS
from orderline.application.errors import ApplicationError, InvalidInput
from orderline.application.principal import PUBLIC, Principal, PrincipalKind, Scope
from orderline.application.sandbox import MAX_ADVANCE_SECONDS, FaultRequest, Fixture, Sandbox, SeedOrder, SeedStatus
from orderline.application.use_cases import UseCases
from orderline.config import Settings
from orderline.domain.errors import DomainError
from orderline.http.access import needs, public
from orderline.http.api.admin_vouchers import VoucherIn
from orderline.http.api.pets import PetIn
from orderline.http.api.users import RegistrationIn
from orderline.http.auth import STATE_KEY, Outcome, authenticate, outcome_of
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import body_examples, problems, success
from orderline.http.tenant import acting_tenant

T = TypeVar("T")
TENANT_EXAMPLE = "019b4141-0000-7000-8000-00000000feed"


MAX_ENTRIES = 1000  # of each kind in a fixture


class FixtureOrderIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    pet: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="the name of a pet of the fixture")]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1
    user: Annotated[str, msgspec.Meta(max_length=64, description="the username of a user of the fixture")] | None = None
    voucher_code: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    status: SeedStatus = SeedStatus.PLACED


class FixtureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a new tenant starts with; each entry in the shape its own route takes."""

    pets: Annotated[list[PetIn], msgspec.Meta(max_length=MAX_ENTRIES)] = []
    vouchers: Annotated[list[VoucherIn], msgspec.Meta(max_length=MAX_ENTRIES)] = []
    users: Annotated[list[RegistrationIn], msgspec.Meta(max_length=MAX_ENTRIES)] = []
    orders: Annotated[list[FixtureOrderIn], msgspec.Meta(max_length=MAX_ENTRIES)] = []

    def fixture(self) -> Fixture:
        return Fixture(
            pets=[_entry(f"fixture.pets[{i}]", pet.draft) for i, pet in enumerate(self.pets)],
            vouchers=[_entry(f"fixture.vouchers[{i}]", voucher.draft) for i, voucher in enumerate(self.vouchers)],
            users=[user.registration() for user in self.users],
            orders=[
                SeedOrder(order.pet, order.quantity, order.user, order.voucher_code, order.status)
                for order in self.orders
            ],
        )


class TenantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Optional: a new tenant is empty unless seeded with the demo catalogue or a fixture (not both)."""

    seed: Literal["demo"] | None = None
    fixture: FixtureIn | None = None

    def to_fixture(self) -> Fixture | None:
        if self.seed is not None and self.fixture is not None:
            raise InvalidInput("fixture", "send a seed or a fixture, not both")
        if self.seed == "demo":
            return Fixture(pets=DEMO_PETS)
        return None if self.fixture is None else self.fixture.fixture()


def _entry(field: str, draft: Callable[[], T]) -> T:
    """A fixture entry turned into its draft; a refusal names the entry."""
    try:
        return draft()
    except (DomainError, ApplicationError) as exc:
        inner = exc.details.get("field")
        raise InvalidInput(f"{field}.{inner}" if inner else field, str(exc)) from None


class SeededOut(msgspec.Struct, kw_only=True):
    pets: list[UUID]
    users: list[UUID]
    orders: list[UUID]


class TenantOut(msgspec.Struct, rename="camel", kw_only=True):
    tenant_id: UUID
    api_key: str  # an admin key bound to the tenant: shown once
    seeded: SeededOut


class ClockIn(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    advance_seconds: Annotated[
        int, msgspec.Meta(ge=1, le=MAX_ADVANCE_SECONDS, description="seconds to move the clock on (up to a year)")
    ]


class ClockOut(msgspec.Struct, rename="camel", kw_only=True):
    tenant_id: UUID
    now: datetime  # the tenant's time after the advance
    offset_seconds: int  # how far ahead of real time its clock now runs


class FaultIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    next: Annotated[str, msgspec.Meta(description="charge, refund or webhook: the call the fault is for")]
    outcome: Annotated[str, msgspec.Meta(description="fail, timeout, or (charge and refund) pending")]


class FaultOut(msgspec.Struct, rename="camel", kw_only=True):
    tenant_id: UUID
    next: str
    outcome: str


def _sandbox(use_cases: UseCases) -> Sandbox:
    assert use_cases.sandbox is not None, "sandbox routes are mounted only with the sandbox wired"
    return use_cases.sandbox


class SandboxController(Controller):
    path = "/sandbox/tenants"
    tags = ("Sandbox",)

    @post(
        "/",
        **public(),
        operation_id="createSandboxTenant",
        summary="Create a sandbox tenant",
        description="A fresh tenant, its clock at real time, and an admin API key bound to it (shown once).",
        responses=success(
            201,
            TenantOut,
            {"tenantId": TENANT_EXAMPLE, "apiKey": "olk_...", "seeded": {"pets": [], "users": [], "orders": []}},
            "the tenant",
        )
        | problems("unsupported-media-type"),
    )
    async def create(
        self,
        use_cases: Injected[UseCases],
        principal: Caller,
        data: Annotated[TenantIn | None, Body(examples=body_examples(empty={}, demo={"seed": "demo"}))] = None,
    ) -> Response[TenantOut]:
        fixture = None if data is None else data.to_fixture()
        made = await _sandbox(use_cases).create_tenant(principal, fixture)
        seeded = SeededOut(pets=list(made.seeded.pets), users=list(made.seeded.users), orders=list(made.seeded.orders))
        location = f"/v1/sandbox/tenants/{made.tenant}"
        return Response(TenantOut(tenant_id=made.tenant, api_key=made.api_key, seeded=seeded), status_code=201,
                        headers={"Location": location})  # fmt: skip

    @delete(
        "/{tenant_id:uuid}",
        **needs(Scope.ADMIN),
        operation_id="deleteSandboxTenant",
        summary="Delete a sandbox tenant and everything in it",
        description="One transaction, one DELETE per table. The tenant's key stops working with it.",
        responses=problems("unauthorized", "forbidden", "not-found"),
    )
    async def remove(self, tenant_id: FromPath[UUID], use_cases: Injected[UseCases], principal: Caller) -> None:
        await _sandbox(use_cases).delete_tenant(principal, tenant_id)

    @post(
        "/{tenant_id:uuid}/clock",
        **needs(Scope.ADMIN),
        operation_id="advanceSandboxClock",
        summary="Move a sandbox tenant's clock forward",
        description="Expiries, asynchronous refunds and webhook retries of the tenant follow its clock.",
        status_code=200,
        responses=success(
            200, ClockOut, {"tenantId": TENANT_EXAMPLE, "now": "2026-12-01T10:00:00Z", "offsetSeconds": 86400},
            "the tenant's time",
        ) | problems("unauthorized", "forbidden", "not-found", "unsupported-media-type"),
    )  # fmt: skip
    async def advance(
        self,
        tenant_id: FromPath[UUID],
        data: Annotated[ClockIn, Body(examples=body_examples(a_day={"advanceSeconds": 86400}))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> ClockOut:
        sandbox = _sandbox(use_cases)
        time = await sandbox.advance_clock(principal, tenant_id, data.advance_seconds)
        return ClockOut(tenant_id=tenant_id, now=sandbox.now_of(time), offset_seconds=int(time.offset.total_seconds()))

    @post(
        "/{tenant_id:uuid}/faults",
        **needs(Scope.ADMIN),
        operation_id="injectSandboxFault",
        summary="Make a sandbox tenant's next charge, refund or webhook attempt fail, time out or wait",
        description="Once: the next such call of the tenant takes it; another fault for the same call replaces it.",
        responses=success(201, FaultOut, {"tenantId": TENANT_EXAMPLE, "next": "refund", "outcome": "fail"}, "the fault")
        | problems("unauthorized", "forbidden", "not-found", "unsupported-media-type"),
    )
    async def inject(
        self,
        tenant_id: FromPath[UUID],
        data: Annotated[FaultIn, Body(examples=body_examples(failing_refund={"next": "refund", "outcome": "fail"}))],
        use_cases: Injected[UseCases],
        principal: Caller,
    ) -> Response[FaultOut]:
        call, fault = await _sandbox(use_cases).inject_fault(
            principal, tenant_id, FaultRequest(data.next, data.outcome)
        )
        return Response(FaultOut(tenant_id=tenant_id, next=str(call), outcome=str(fault)), status_code=201)


def sandbox_routes(settings: Settings) -> list[Router]:
    """The sandbox's routes under /v1, or none outside the sandbox."""
    return [Router(path="/v1", route_handlers=[SandboxController])] if settings.sandbox else []


def sandbox_middleware(settings: Settings) -> list[Middleware]:
    """After the gate (ADR 0039), which found the principal and its tenant: each request acts in its tenant's
    time (one read, for a sandbox tenant only)."""
    return [_tenant_time] if settings.sandbox else []


def _tenant_time(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: AsgiScope, receive: Receive, send: Send) -> None:
        outcome = outcome_of(scope) if scope["type"] == ScopeType.HTTP else None
        tenant = acting_tenant(outcome)
        if tenant == PUBLIC:  # the public pool is never a sandbox tenant: nothing to read
            await app(scope, receive, send)
            return
        use_cases: UseCases = scope["litestar_app"].state.use_cases
        async with _sandbox(use_cases).times.acting_for(tenant) as time:
            if time is not None and time.offset and _signed_in_user(outcome):
                scope["state"][STATE_KEY] = await _authenticated_again(scope)
            await app(scope, receive, send)

    return middleware


def _signed_in_user(outcome: object) -> bool:
    return isinstance(outcome, Principal) and outcome.kind is PrincipalKind.USER


async def _authenticated_again(scope: AsgiScope) -> Outcome:
    """A user's token, checked again in its tenant's time: the gate authenticated it before the tenant was known,
    in real time, and a token that has expired by the tenant's clock must be refused (a verified token's claims
    are remembered, so this is the account's read again, not a signature check)."""
    return await authenticate(scope)
