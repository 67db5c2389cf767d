"""A tenant's staff in the dashboard tests: an admin made in the tenant, an order of its own, a sign-in naming it."""

from __future__ import annotations

import re
from dataclasses import replace
from uuid import UUID

import httpx

from orderline.application.principal import SYSTEM
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.domain.order import Order
from orderline.domain.pet import Pet
from orderline.domain.user import Role
from tests.support import a_pet_draft, an_order

PASSWORD = "keep the shop running"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')


async def staff(use_cases: UseCases, tenant: UUID, username: str = "ops") -> None:
    registration = Registration(username, f"{username}@example.com", PASSWORD)
    await use_cases.users.register(replace(SYSTEM, tenant=tenant), registration, Role.ADMIN)


async def an_order_of(use_cases: UseCases, tenant: UUID, name: str) -> tuple[Pet, Order]:
    acting = replace(SYSTEM, tenant=tenant)
    pet = await use_cases.catalogue.add_pet(acting, a_pet_draft(name))
    return pet, await an_order(use_cases, pet, by=acting)


async def sign_in(client: httpx.AsyncClient, tenant: str, username: str = "ops") -> httpx.Response:
    form = await client.get("/admin/sign-in")
    token = _CSRF.search(form.text)
    assert token is not None
    data = {"csrf": token[1], "username": username, "password": PASSWORD, "tenant": tenant}
    return await client.post("/admin/sign-in", data=data)
