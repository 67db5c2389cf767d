"""Tenants (ADR 0040) on SQLite and PostgreSQL: nothing one tenant owns is seen or changed from another."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from orderline.application.errors import DuplicateUser, DuplicateVoucher, NotFound, PetNotFound, WrongCredentials
from orderline.application.orders import CancelOrder, LineRequest, OrderFilter, PlaceOrder
from orderline.application.payments import PayOrder
from orderline.application.ports import START
from orderline.application.principal import PUBLIC, Principal, PrincipalKind, Scope
from orderline.application.queries import AuditQuery, OrderSearch
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.application.vouchers import VoucherDraft
from orderline.application.webhooks import WebhookDraft
from orderline.domain.errors import VoucherNotApplicable
from orderline.domain.order import Order
from orderline.domain.pet import Pet
from orderline.storage.outbox_feed import SqlOutboxFeed
from tests.support import Db, a_card_input, a_pet_draft

TENANT_A = uuid.UUID("0190f5c2-0000-7000-8000-00000000000a")
TENANT_B = uuid.UUID("5b0e4c1e-0000-4000-8000-00000000000b")


def admin_of(tenant: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.API_KEY, uuid.uuid4(), frozenset({Scope.ADMIN}), tenant)


def anyone_in(tenant: uuid.UUID) -> Principal:
    return Principal(PrincipalKind.ANONYMOUS, tenant=tenant)


async def a_pet_of(use_cases: UseCases, tenant: uuid.UUID, name: str = "Whiskers", stock: int = 1) -> Pet:
    return await use_cases.catalogue.add_pet(admin_of(tenant), a_pet_draft(name, stock=stock))


async def an_order_of(use_cases: UseCases, tenant: uuid.UUID, pet: Pet | None = None) -> Order:
    pet = pet or await a_pet_of(use_cases, tenant)
    placed = await use_cases.orders.place(anyone_in(tenant), PlaceOrder([LineRequest(pet.id)]))
    return placed.order


def _read(use_cases: UseCases, who: Principal, order: Order) -> Awaitable[object]:
    return use_cases.orders.get(who, order.id)


def _cancel(use_cases: UseCases, who: Principal, order: Order) -> Awaitable[object]:
    return use_cases.orders.cancel(who, CancelOrder(order.id), force=True)


def _pay(use_cases: UseCases, who: Principal, order: Order) -> Awaitable[object]:
    return use_cases.payments.pay(who, PayOrder(order.id, str(order.total), order.currency, a_card_input()))


def _erase(use_cases: UseCases, who: Principal, order: Order) -> Awaitable[object]:
    return use_cases.orders.erase(who, order.id)


def _ship(use_cases: UseCases, who: Principal, order: Order) -> Awaitable[object]:
    return use_cases.orders.ship(who, order.id)


def _view(use_cases: UseCases, who: Principal, order: Order) -> Awaitable[object]:
    return use_cases.order_reads.get(who, order.id)


ACTIONS: dict[str, Callable[[UseCases, Principal, Order], Awaitable[object]]] = {
    "read": _read,
    "view": _view,
    "cancel": _cancel,
    "pay": _pay,
    "erase": _erase,
    "ship": _ship,
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(("owner", "other"), [(TENANT_A, TENANT_B), (TENANT_A, PUBLIC), (PUBLIC, TENANT_A)])
async def test_an_order_of_one_tenant_is_not_found_from_another_and_is_left_as_it_was(
    use_cases: UseCases, action: str, owner: uuid.UUID, other: uuid.UUID
) -> None:
    order = await an_order_of(use_cases, owner)

    with pytest.raises(NotFound):
        await ACTIONS[action](use_cases, admin_of(other), order)

    assert await use_cases.orders.get(admin_of(owner), order.id) == order


async def test_an_order_carries_its_tenant_and_the_public_pool_none(use_cases: UseCases) -> None:
    in_a = await an_order_of(use_cases, TENANT_A)
    public = await an_order_of(use_cases, PUBLIC)

    assert in_a.tenant_id == TENANT_A
    assert (await use_cases.orders.get(admin_of(TENANT_A), in_a.id)).tenant_id == TENANT_A
    assert (await use_cases.order_reads.get(admin_of(TENANT_A), in_a.id)).tenant_id == TENANT_A
    assert public.tenant_id is None
    assert (await use_cases.order_reads.get(admin_of(PUBLIC), public.id)).tenant_id is None


async def test_lists_and_searches_hold_the_tenants_own_orders_only(use_cases: UseCases) -> None:
    mine = [await an_order_of(use_cases, TENANT_A) for _ in range(2)]
    await an_order_of(use_cases, TENANT_B)
    await an_order_of(use_cases, PUBLIC)

    listed = await use_cases.orders.list_all(admin_of(TENANT_A), OrderFilter(), limit=10)
    viewed = await use_cases.order_reads.search(admin_of(TENANT_A), OrderSearch(), offset=0, limit=10)
    counted = await use_cases.orders.count(admin_of(TENANT_A), OrderSearch())

    assert [order.id for order in listed.items] == [order.id for order in reversed(mine)]
    assert [view.id for view in viewed] == [order.id for order in reversed(mine)]
    assert counted == 2


async def test_a_pet_of_one_tenant_is_unknown_to_another_and_cannot_be_ordered_there(use_cases: UseCases) -> None:
    pet = await a_pet_of(use_cases, TENANT_A)

    with pytest.raises(NotFound):
        await use_cases.catalogue.get_pet(TENANT_B, pet.id)
    with pytest.raises(PetNotFound):
        await use_cases.orders.place(anyone_in(TENANT_B), PlaceOrder([LineRequest(pet.id)]))

    assert (await use_cases.catalogue.get_pet(TENANT_A, pet.id)).stock.reserved == 0


async def test_inventory_counts_the_tenants_own_stock(use_cases: UseCases) -> None:
    await a_pet_of(use_cases, TENANT_A, "Rex", stock=3)
    await a_pet_of(use_cases, TENANT_B, "Tom", stock=5)

    in_a = await use_cases.catalogue.inventory(TENANT_A)
    public = await use_cases.catalogue.inventory(PUBLIC)

    assert (in_a.counts.total, in_a.counts.available) == (3, 3)
    assert public.counts.total == 0


async def test_a_voucher_code_is_unique_within_a_tenant_and_free_in_another(use_cases: UseCases) -> None:
    await use_cases.vouchers.create(admin_of(TENANT_A), VoucherDraft("SPRING", percent_off=10))

    in_b = await use_cases.vouchers.create(admin_of(TENANT_B), VoucherDraft("SPRING", percent_off=50))

    assert in_b.percent_off == 50
    assert (await use_cases.vouchers.get(admin_of(TENANT_A), "SPRING")).percent_off == 10
    with pytest.raises(DuplicateVoucher):
        await use_cases.vouchers.create(admin_of(TENANT_A), VoucherDraft("SPRING", percent_off=20))


async def test_a_voucher_of_one_tenant_does_not_apply_in_another(use_cases: UseCases) -> None:
    await use_cases.vouchers.create(admin_of(TENANT_A), VoucherDraft("ONLYA", percent_off=10))
    pet = await a_pet_of(use_cases, TENANT_B)

    with pytest.raises(VoucherNotApplicable):
        await use_cases.orders.place(anyone_in(TENANT_B), PlaceOrder([LineRequest(pet.id)], voucher_code="ONLYA"))

    assert (await use_cases.vouchers.get(admin_of(TENANT_A), "ONLYA")).uses == 0


async def test_a_username_is_unique_within_a_tenant_and_free_in_another(use_cases: UseCases) -> None:
    alice = Registration("alice", "alice@example.com", "correct horse battery")
    in_a = await use_cases.users.register(anyone_in(TENANT_A), alice)

    in_b = await use_cases.users.register(anyone_in(TENANT_B), alice)

    assert in_a.id != in_b.id
    with pytest.raises(DuplicateUser):
        await use_cases.users.register(anyone_in(TENANT_A), replace(alice, email="other@example.com"))
    with pytest.raises(NotFound):
        await use_cases.users.get(admin_of(TENANT_B), in_a.id)


async def test_a_users_token_acts_in_the_users_tenant_whatever_the_request_names(use_cases: UseCases) -> None:
    alice = Registration("alice", "alice@example.com", "correct horse battery")
    user = await use_cases.users.register(anyone_in(TENANT_A), alice)
    issued = await use_cases.users.issue_token(TENANT_A, "alice", "correct horse battery")

    principal = await use_cases.authenticator.authenticate(issued.token, TENANT_B)

    assert (principal.id, principal.tenant) == (user.id, TENANT_A)


async def test_signing_in_looks_for_the_user_in_the_tenant_named(use_cases: UseCases) -> None:
    await use_cases.users.register(anyone_in(TENANT_A), Registration("alice", "a@example.com", "correct horse battery"))

    with pytest.raises(WrongCredentials):
        await use_cases.users.issue_token(TENANT_B, "alice", "correct horse battery")


async def test_a_bound_api_key_acts_in_its_tenant_whatever_the_request_names(use_cases: UseCases) -> None:
    key, secret = await use_cases.api_keys.create("shop A", frozenset({Scope.ADMIN}), tenant=TENANT_A)

    principal = await use_cases.authenticator.authenticate(secret, TENANT_B)
    unnamed = await use_cases.authenticator.authenticate(secret)

    assert (principal.id, principal.tenant, unnamed.tenant) == (key.id, TENANT_A, TENANT_A)


async def test_an_unbound_api_key_acts_in_the_tenant_the_request_names(use_cases: UseCases) -> None:
    _key, secret = await use_cases.api_keys.create("operator", frozenset({Scope.ADMIN}))

    assert (await use_cases.authenticator.authenticate(secret, TENANT_B)).tenant == TENANT_B
    assert (await use_cases.authenticator.authenticate(secret)).tenant == PUBLIC


async def test_an_order_token_acts_in_its_orders_tenant(use_cases: UseCases) -> None:
    pet = await a_pet_of(use_cases, TENANT_A)
    placed = await use_cases.orders.place(anyone_in(TENANT_A), PlaceOrder([LineRequest(pet.id)]))
    assert placed.order_token is not None

    principal = await use_cases.authenticator.authenticate(placed.order_token, TENANT_B)

    assert (principal.id, principal.tenant) == (placed.order.id, TENANT_A)
    assert (await use_cases.orders.get(principal, placed.order.id)).id == placed.order.id


async def test_an_idempotency_key_is_the_tenants_own(use_cases: UseCases) -> None:
    first = await use_cases.idempotency.claim(TENANT_A, "address:127.0.0.1", "key-1", "fingerprint-a")

    other = await use_cases.idempotency.claim(TENANT_B, "address:127.0.0.1", "key-1", "fingerprint-b")

    assert (first, other) == (None, None)


async def test_the_audit_log_holds_the_tenants_own_entries(use_cases: UseCases) -> None:
    await an_order_of(use_cases, TENANT_A)

    in_a = await use_cases.audit_log.list(admin_of(TENANT_A), AuditQuery())
    in_b = await use_cases.audit_log.list(admin_of(TENANT_B), AuditQuery())

    assert len(in_a.items) == 2  # the pet created, the order placed
    assert in_b.items == []


async def test_api_keys_are_listed_in_their_tenant_and_revoked_only_there(use_cases: UseCases) -> None:
    key, _secret = await use_cases.api_keys.create("shop A", frozenset({Scope.ADMIN}), tenant=TENANT_A)

    with pytest.raises(NotFound):
        await use_cases.api_keys.revoke(key.id, admin_of(TENANT_B))

    assert [k.id for k in await use_cases.api_keys.list(admin_of(TENANT_A))] == [key.id]
    assert await use_cases.api_keys.list(admin_of(TENANT_B)) == []


async def test_a_subscription_receives_its_own_tenants_events_only(use_cases: UseCases) -> None:
    hooks = WebhookDraft("http://127.0.0.1:9000/hooks", ["order.*"])
    in_a = await use_cases.webhooks.create(admin_of(TENANT_A), hooks)
    in_b = await use_cases.webhooks.create(admin_of(TENANT_B), hooks)
    order = await an_order_of(use_cases, TENANT_A)

    await use_cases.deliveries.relay(100)
    due = await use_cases.deliveries.claim(100, lease=timedelta(seconds=30), per_subscription=100)

    assert {delivery.subscription_id for delivery in due} == {in_a.id}
    assert {delivery.order_id for delivery in due} == {order.id}
    assert (await use_cases.webhooks.deliveries(admin_of(TENANT_B), in_b.id, limit=10)).items == []


async def test_a_live_stream_serves_its_own_tenants_events_only(use_cases: UseCases, db: Db) -> None:
    mine = await an_order_of(use_cases, TENANT_A)
    await an_order_of(use_cases, TENANT_B)

    batch = await SqlOutboxFeed(db).after(TENANT_A, START, None, limit=100)

    assert batch.entries
    assert all(str(mine.id) in entry.payload for entry in batch.entries)
