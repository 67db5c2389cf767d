"""Order numbers per tenant (ADR 0040) on SQLite and PostgreSQL: a tenant's numbers do not depend on others'."""

from __future__ import annotations

import asyncio
import uuid

from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.domain.order import NUMBER_OFFSET
from tests.integration.test_tenants import TENANT_A, TENANT_B, a_pet_of, admin_of, an_order_of


async def test_two_tenants_placing_orders_in_turn_count_the_same_numbers(use_cases: UseCases) -> None:
    pet_a = await a_pet_of(use_cases, TENANT_A, stock=10)
    pet_b = await a_pet_of(use_cases, TENANT_B, stock=10)
    numbers: dict[uuid.UUID, list[str]] = {TENANT_A: [], TENANT_B: []}

    for tenant, pet in [(TENANT_A, pet_a), (TENANT_A, pet_a), (TENANT_B, pet_b), (TENANT_A, pet_a), (TENANT_B, pet_b)]:
        numbers[tenant].append((await an_order_of(use_cases, tenant, pet)).number)

    assert numbers[TENANT_A] == ["1001", "1002", "1003"]
    assert numbers[TENANT_B] == ["1001", "1002"]


async def test_a_tenants_order_shows_its_number_in_every_read(use_cases: UseCases) -> None:
    await an_order_of(use_cases, TENANT_B)
    placed = await an_order_of(use_cases, TENANT_A)
    admin = admin_of(TENANT_A)

    read = await use_cases.orders.get(admin, placed.id)
    view = await use_cases.order_reads.get(admin, placed.id)
    found = await use_cases.order_finder.by_number(admin, "#1001")

    assert (placed.number, read.number, view.number, found.id) == ("1001", "1001", "1001", placed.id)


async def test_the_public_pool_keeps_numbers_drawn_from_the_global_sequence(use_cases: UseCases) -> None:
    await an_order_of(use_cases, TENANT_A)
    placed = await an_order_of(use_cases, PUBLIC)

    found = await use_cases.order_finder.by_number(admin_of(PUBLIC), placed.number)

    assert (placed.number, placed.tenant_seq, found.id) == (str(NUMBER_OFFSET + placed.seq), None, placed.id)


async def test_concurrent_placements_in_one_tenant_get_distinct_consecutive_numbers(use_cases: UseCases) -> None:
    pet = await a_pet_of(use_cases, TENANT_A, stock=20)

    placed = await asyncio.gather(*(an_order_of(use_cases, TENANT_A, pet) for _ in range(12)))

    assert sorted(int(order.number) for order in placed) == list(range(1001, 1013))
