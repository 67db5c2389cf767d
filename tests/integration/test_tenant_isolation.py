"""Nothing crosses tenants (issue 13, ADR 0040): a Hypothesis state machine runs commands in tenants A, B and the
public pool of one database, on each engine, and after every step checks that each tenant's state is exactly
what the same tenant's own commands give in a database of its own.

The database of its own is the model: each command runs in the shared database and in its tenant's solo database
(SQLite, copied from the migrated template), and must have the same outcome in both; after every step each
tenant's projection (orders with status, number and totals, pets' stock, inventory, vouchers and their uses, the
number of audit entries) must be equal in the two. Commands naming another tenant's order or pet run in the
shared database only: each must be not found, and the invariant then shows it left no trace anywhere. The public
pool's order numbers come from the sequence every tenant shares (ADR 0040), so its projection leaves them out.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from orderline.application.errors import NotFound, PetNotFound
from orderline.application.orders import CancelOrder, LineRequest, OrderFilter, PlacedOrder, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.principal import PUBLIC, Principal
from orderline.application.queries import AuditQuery
from orderline.application.use_cases import UseCases
from orderline.application.vouchers import VoucherDraft
from orderline.bootstrap import build
from orderline.domain.order import Order
from tests.integration.test_tenants import TENANT_A, TENANT_B, admin_of
from tests.support import FAST_HASHER, a_card_input, a_pet_draft, engine_settings

T = TypeVar("T")
TENANTS = (TENANT_A, TENANT_B, PUBLIC)
tenants = st.sampled_from(TENANTS)
VOUCHER = "SAVE10"
LISTED = 500  # more than a run places or writes to the audit log


def _facts(result: object, tenant: UUID) -> object:
    """What a command's outcome says, free of ids (they differ between databases)."""
    if isinstance(result, PlacedOrder):
        result = result.order
    if isinstance(result, Order):
        number = None if tenant == PUBLIC else result.number
        lines = tuple(line.quantity for line in result.lines)
        return (result.status, number, str(result.total), str(result.discount_total), result.payment_status, lines)
    return type(result).__name__


class _Shop:
    """One database's use cases and, per tenant, the ids of the pets and orders made there, in order."""

    def __init__(self, use_cases: UseCases) -> None:
        self.use_cases = use_cases
        self.pets: dict[UUID, list[UUID]] = {tenant: [] for tenant in TENANTS}
        self.orders: dict[UUID, list[UUID]] = {tenant: [] for tenant in TENANTS}

    async def projection(self, tenant: UUID) -> object:
        admin, use_cases = admin_of(tenant), self.use_cases
        orders = await use_cases.orders.list_all(admin, OrderFilter(), limit=LISTED)
        stock = [await use_cases.catalogue.get_pet(tenant, pet) for pet in self.pets[tenant]]
        vouchers = await use_cases.vouchers.list(admin, limit=LISTED)
        audit = await use_cases.audit_log.list(admin, AuditQuery(limit=LISTED))
        return (
            [_facts(order, tenant) for order in orders.items],
            [(pet.stock.total, pet.stock.reserved, pet.stock.sold) for pet in stock],
            await use_cases.catalogue.inventory(tenant),
            sorted((voucher.code, voucher.uses) for voucher in vouchers.items),
            len(audit.items),
        )


Act = Callable[[_Shop, Principal, UUID], Coroutine[Any, Any, object]]


async def _read(shop: _Shop, admin: Principal, order_id: UUID) -> object:
    return await shop.use_cases.orders.get(admin, order_id)


async def _pay(shop: _Shop, admin: Principal, order_id: UUID) -> object:
    order = await shop.use_cases.orders.get(admin, order_id)
    command = PayOrder(order_id, str(order.total), order.currency, a_card_input())
    await shop.use_cases.payments.pay(admin, command)
    return await shop.use_cases.orders.get(admin, order_id)


async def _cancel(shop: _Shop, admin: Principal, order_id: UUID) -> object:
    return await shop.use_cases.orders.cancel(admin, CancelOrder(order_id))


async def _ship(shop: _Shop, admin: Principal, order_id: UUID) -> object:
    return await shop.use_cases.orders.ship(admin, order_id)


async def _erase(shop: _Shop, admin: Principal, order_id: UUID) -> object:
    await shop.use_cases.orders.erase(admin, order_id)
    return "erased"


ACTS: dict[str, Act] = {"read": _read, "pay": _pay, "cancel": _cancel, "ship": _ship, "erase": _erase}
acts = st.sampled_from(sorted(ACTS))


def _machine(shared_url: Callable[[], str], solo_url: Callable[[], str]) -> type[RuleBasedStateMachine]:
    class TenantMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.shared = _Shop(self.run(self._build(shared_url())))
            self.solo = {tenant: _Shop(self.run(self._build(solo_url()))) for tenant in TENANTS}

        @staticmethod
        async def _build(url: str) -> UseCases:
            return await build(engine_settings(url, refund_poll_seconds=0), hasher=FAST_HASHER)

        def run(self, work: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(work)

        def teardown(self) -> None:
            for shop in [self.shared, *self.solo.values()]:
                self.run(shop.use_cases.close())
            self.loop.close()

        def both(self, tenant: UUID, command: Callable[[_Shop], Coroutine[Any, Any, object]]) -> object:
            """Run ``command`` in the shared database and in ``tenant``'s own; the outcomes must agree."""
            outcomes = []
            for shop in (self.shared, self.solo[tenant]):
                try:
                    outcomes.append(_facts(self.run(command(shop)), tenant))
                except Exception as refused:  # noqa: BLE001 - a refusal is an outcome, compared below
                    outcomes.append(type(refused).__name__)
            assert outcomes[0] == outcomes[1], f"in {tenant}: shared {outcomes[0]} but alone {outcomes[1]}"
            return outcomes[0]

        @initialize()
        def stock_every_tenant(self) -> None:
            for tenant in TENANTS:
                self.add_pet(tenant, 4)

        @rule(tenant=tenants, stock=st.integers(1, 3))
        def add_pet(self, tenant: UUID, stock: int) -> None:
            async def add(shop: _Shop) -> object:
                pet = await shop.use_cases.catalogue.add_pet(admin_of(tenant), a_pet_draft(stock=stock))
                shop.pets[tenant].append(pet.id)
                return pet.stock.total

            self.both(tenant, add)

        @rule(tenant=tenants, data=st.data(), quantity=st.integers(1, 2), voucher=st.sampled_from([False, False, True]))
        def place(self, tenant: UUID, data: st.DataObject, quantity: int, voucher: bool) -> None:
            if not self.shared.pets[tenant]:
                return
            index = data.draw(st.integers(0, len(self.shared.pets[tenant]) - 1))

            async def place(shop: _Shop) -> object:
                lines = [LineRequest(shop.pets[tenant][index], quantity)]
                command = PlaceOrder(lines, voucher_code=VOUCHER if voucher else None)
                placed = await shop.use_cases.orders.place(admin_of(tenant), command)
                shop.orders[tenant].append(placed.order.id)
                return placed

            self.both(tenant, place)

        @rule(tenant=tenants, data=st.data(), act=acts)
        def act_on_an_own_order(self, tenant: UUID, data: st.DataObject, act: str) -> None:
            if not self.shared.orders[tenant]:
                return
            index = data.draw(st.integers(0, len(self.shared.orders[tenant]) - 1))
            self.both(tenant, lambda shop: ACTS[act](shop, admin_of(tenant), shop.orders[tenant][index]))

        @rule(tenant=tenants, max_uses=st.integers(1, 2))
        def create_voucher(self, tenant: UUID, max_uses: int) -> None:
            draft = VoucherDraft(VOUCHER, percent_off=10, max_uses=max_uses)
            self.both(tenant, lambda shop: shop.use_cases.vouchers.create(admin_of(tenant), draft))

        @rule(tenant=tenants, key=st.sampled_from(["key-1", "key-2"]), fingerprint=st.sampled_from(["f1", "f2"]))
        def claim_an_idempotency_key(self, tenant: UUID, key: str, fingerprint: str) -> None:
            """The same keys are drawn in every tenant: a key claimed in one is new in another."""
            owner = "address:127.0.0.1"
            self.both(tenant, lambda shop: shop.use_cases.idempotency.claim(tenant, owner, key, fingerprint))

        @precondition(lambda self: any(self.shared.orders.values()))
        @rule(data=st.data(), act=acts)
        def act_on_another_tenants_order(self, data: st.DataObject, act: str) -> None:
            owner = data.draw(st.sampled_from([tenant for tenant in TENANTS if self.shared.orders[tenant]]))
            intruder = data.draw(st.sampled_from([tenant for tenant in TENANTS if tenant != owner]))
            order_id = data.draw(st.sampled_from(self.shared.orders[owner]))

            with pytest.raises(NotFound):
                self.run(ACTS[act](self.shared, admin_of(intruder), order_id))

        @precondition(lambda self: any(self.shared.pets.values()))
        @rule(data=st.data())
        def order_another_tenants_pet(self, data: st.DataObject) -> None:
            owner = data.draw(st.sampled_from([tenant for tenant in TENANTS if self.shared.pets[tenant]]))
            intruder = data.draw(st.sampled_from([tenant for tenant in TENANTS if tenant != owner]))
            pet_id = data.draw(st.sampled_from(self.shared.pets[owner]))

            with pytest.raises(PetNotFound):
                self.run(self.shared.use_cases.orders.place(admin_of(intruder), PlaceOrder([LineRequest(pet_id)])))

        @invariant()
        def each_tenant_is_as_if_it_were_alone(self) -> None:
            for tenant in TENANTS:
                shared = self.run(self.shared.projection(tenant))
                alone = self.run(self.solo[tenant].projection(tenant))
                assert shared == alone, f"tenant {tenant} depends on the others"

    return TenantMachine


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_no_tenants_state_depends_on_another_tenants_commands(
    fresh_database: Callable[[], str], sqlite_template: Path, tmp_path: Path
) -> None:
    made = itertools.count()

    def solo_url() -> str:
        path = tmp_path / f"solo-{next(made)}.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"

    machine = _machine(fresh_database, solo_url)
    machine.TestCase.settings = settings(
        max_examples=20,
        stateful_step_count=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )

    machine.TestCase().runTest()
