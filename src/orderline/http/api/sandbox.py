"""Sandbox routes, /v1/sandbox (ADR 0041, docs/sandbox.md): tenants, their test clocks, injected faults.

They exist only with ORDERLINE_SANDBOX on: otherwise ``sandbox_routes`` gives none (an unknown path, 404, absent
from the OpenAPI document) and ``sandbox_middleware`` adds nothing to any request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Router, post
from litestar.enums import ScopeType
from litestar.params import Body, FromPath
from litestar.response import Response
from litestar.types import ASGIApp, Middleware, Receive, Send
from litestar.types import Scope as AsgiScope

from orderline.application.errors import NotFound
from orderline.application.principal import Principal, Scope
from orderline.application.sandbox import MAX_ADVANCE_SECONDS, FaultRequest, Sandbox
from orderline.application.use_cases import UseCases
from orderline.config import Settings
from orderline.http.access import needs, public
from orderline.http.auth import outcome_of
from orderline.http.dependencies import Caller, Injected
from orderline.http.openapi import body_examples, problems, success

TENANT_EXAMPLE = "019b4141-0000-7000-8000-00000000feed"


class TenantOut(msgspec.Struct, rename="camel", kw_only=True):
    tenant_id: UUID
    api_key: str  # an admin key bound to the tenant: shown once


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


def _own(principal: Principal, tenant_id: UUID) -> None:
    """A tenant is driven by those who act in it (its bound key, or an operator's key naming it with X-Tenant-ID);
    for anyone else it does not exist."""
    if getattr(principal, "tenant", None) != tenant_id:
        raise NotFound("sandbox tenant", tenant_id)


class SandboxController(Controller):
    path = "/sandbox/tenants"
    tags = ("Sandbox",)

    @post(
        "/",
        **public(),
        operation_id="createSandboxTenant",
        summary="Create a sandbox tenant",
        description="A fresh tenant, its clock at real time, and an admin API key bound to it (shown once).",
        responses=success(201, TenantOut, {"tenantId": TENANT_EXAMPLE, "apiKey": "olk_..."}, "the tenant")
        | problems("unsupported-media-type"),
    )
    async def create(self, use_cases: Injected[UseCases], principal: Caller) -> Response[TenantOut]:
        made = await _sandbox(use_cases).create_tenant(principal)
        location = f"/v1/sandbox/tenants/{made.tenant}"
        return Response(TenantOut(tenant_id=made.tenant, api_key=made.api_key), status_code=201,
                        headers={"Location": location})  # fmt: skip

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
        _own(principal, tenant_id)
        now = await _sandbox(use_cases).advance_clock(principal, tenant_id, data.advance_seconds)
        time = await _sandbox(use_cases).time_of(tenant_id)
        offset = 0 if time is None else int(time.offset.total_seconds())
        return ClockOut(tenant_id=tenant_id, now=now, offset_seconds=offset)

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
        _own(principal, tenant_id)
        call, fault = await _sandbox(use_cases).inject_fault(principal, tenant_id, FaultRequest(data.next, data.outcome))
        return Response(FaultOut(tenant_id=tenant_id, next=str(call), outcome=str(fault)), status_code=201)


def sandbox_routes(settings: Settings) -> list[Router]:
    """The sandbox's routes under /v1, or none outside the sandbox."""
    return [Router(path="/v1", route_handlers=[SandboxController])] if settings.sandbox else []


def sandbox_middleware(settings: Settings) -> list[Middleware]:
    """After authentication: each request acts in its tenant's time (one read, for a sandbox tenant only)."""
    return [_tenant_time] if settings.sandbox else []


def _tenant_time(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            await _enter_tenant_time(scope)
        await app(scope, receive, send)

    return middleware


async def _enter_tenant_time(scope: AsgiScope) -> None:
    tenant: Any = getattr(outcome_of(scope), "tenant", None)
    if isinstance(tenant, UUID) and tenant.int != 0:  # the public pool is never a sandbox tenant
        use_cases: UseCases = scope["litestar_app"].state.use_cases
        await _sandbox(use_cases).enter(tenant)
