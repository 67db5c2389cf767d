"""Dashboard sessions and staff searches, on both engines: who may sign in, when a session ends, and finding
orders by number and by customer."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

import pytest

from orderline.application.credentials import hash_secret
from orderline.application.errors import (
    AccountInactive,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    WrongCredentials,
)
from orderline.application.order_finder import StaffSearch
from orderline.application.orders import OrderFilter
from orderline.application.principal import PUBLIC, SYSTEM, PrincipalKind
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.domain.payment import OrderPaymentStatus
from orderline.domain.user import Role, UserStatus
from tests.support import ADMIN, Db, SteppingClock, a_pet, an_order, approve

PASSWORD = "keep the shop running"


async def _user(use_cases: UseCases, username: str, role: Role = Role.ADMIN) -> None:
    await use_cases.users.register(SYSTEM, Registration(username, f"{username}@example.com", PASSWORD), role)


async def test_an_admin_signs_in_and_the_session_stands_for_them(use_cases: UseCases) -> None:
    await _user(use_cases, "ops")

    session = await use_cases.staff_sessions.sign_in("ops", PASSWORD)

    principal = await use_cases.staff_sessions.resume(session.secret)
    assert principal.kind is PrincipalKind.USER
    assert principal.is_admin


async def test_a_wrong_password_is_the_same_refusal_as_the_api_gives(use_cases: UseCases) -> None:
    await _user(use_cases, "ops")

    with pytest.raises(WrongCredentials):
        await use_cases.staff_sessions.sign_in("ops", "not the password at all")


async def test_a_customer_may_not_sign_in_to_the_dashboard(use_cases: UseCases) -> None:
    await _user(use_cases, "alice", Role.CUSTOMER)

    with pytest.raises(Forbidden):
        await use_cases.staff_sessions.sign_in("alice", PASSWORD)


async def test_a_suspended_admins_session_stops_at_the_next_request(use_cases: UseCases) -> None:
    await _user(use_cases, "ops")
    session = await use_cases.staff_sessions.sign_in("ops", PASSWORD)

    assert session.principal.id is not None
    await use_cases.users.set_status(ADMIN, session.principal.id, UserStatus.SUSPENDED, "left")

    with pytest.raises(AccountInactive):
        await use_cases.staff_sessions.resume(session.secret)


async def test_a_signed_out_session_opens_nothing_any_more(use_cases: UseCases) -> None:
    await _user(use_cases, "ops")
    session = await use_cases.staff_sessions.sign_in("ops", PASSWORD)

    await use_cases.staff_sessions.sign_out(session.secret)

    with pytest.raises(Unauthenticated):
        await use_cases.staff_sessions.resume(session.secret)


async def test_a_session_ends_when_its_time_is_up(use_cases: UseCases, clock: SteppingClock) -> None:
    await _user(use_cases, "ops")
    session = await use_cases.staff_sessions.sign_in("ops", PASSWORD)

    clock.advance(session.expires_at - clock.now())

    with pytest.raises(Unauthenticated):
        await use_cases.staff_sessions.resume(session.secret)


async def test_sessions_leave_no_rows_once_signed_out_or_expired(
    use_cases: UseCases, clock: SteppingClock, db: Db
) -> None:
    await _user(use_cases, "ops")
    signed_out = await use_cases.staff_sessions.sign_in("ops", PASSWORD)
    expired = await use_cases.staff_sessions.sign_in("ops", PASSWORD)
    await use_cases.staff_sessions.sign_out(signed_out.secret)
    clock.advance(expired.expires_at - clock.now())

    current = await use_cases.staff_sessions.sign_in("ops", PASSWORD)  # each sign-in sweeps the expired ones

    async with db.snapshot() as uow:
        rows = await uow.connection.fetch_all("SELECT secret_hash FROM dashboard_sessions")
    assert [row["secret_hash"] for row in rows] == [hash_secret(current.secret)]


async def test_an_unknown_secret_opens_nothing(use_cases: UseCases) -> None:
    with pytest.raises(Unauthenticated):
        await use_cases.staff_sessions.resume("ols_not-a-session-of-ours")


async def test_an_order_is_found_by_the_number_on_its_receipt(use_cases: UseCases) -> None:
    order = await an_order(use_cases, await a_pet(use_cases))

    found = await use_cases.order_finder.by_number(ADMIN, f"#{order.number}")

    assert found.id == order.id


@pytest.mark.parametrize("number", ["", "abc", "1000", "0", "-1001", "１００１", "99999999999999999999999"])
async def test_text_that_is_no_order_number_finds_nothing(use_cases: UseCases, number: str) -> None:
    with pytest.raises(NotFound):
        await use_cases.order_finder.by_number(ADMIN, number)


async def test_orders_are_found_by_their_customers_username(use_cases: UseCases) -> None:
    await _user(use_cases, "alice", Role.CUSTOMER)
    alice = await use_cases.authenticator.authenticate(await _token(use_cases, "alice"))
    pet = await a_pet(use_cases, stock=3)
    hers = await an_order(use_cases, pet, by=alice)
    await an_order(use_cases, pet)

    page = await use_cases.order_finder.search(ADMIN, StaffSearch(OrderFilter(), customer="Alice"), limit=10)

    assert [order.id for order in page.items] == [hers.id]


async def test_an_unknown_customer_is_a_refusal_naming_the_field(use_cases: UseCases) -> None:
    with pytest.raises(InvalidInput) as refused:
        await use_cases.order_finder.search(ADMIN, StaffSearch(OrderFilter(), customer="nobody"), limit=10)

    assert refused.value.field == "customer"


async def _token(use_cases: UseCases, username: str) -> str:
    return (await use_cases.users.issue_token(PUBLIC, username, PASSWORD)).token


async def test_orders_are_found_by_their_payment_status(use_cases: UseCases) -> None:
    pet = await a_pet(use_cases, stock=3)
    paid = await approve(use_cases, await an_order(use_cases, pet))
    await an_order(use_cases, pet)
    where = OrderFilter(payment_status=OrderPaymentStatus.PAID)

    page = await use_cases.order_finder.search(ADMIN, StaffSearch(where), limit=10)

    assert [order.id for order in page.items] == [paid.id]


async def test_a_tenants_staff_sign_in_there_and_their_session_acts_in_that_tenant(use_cases: UseCases) -> None:
    tenant = UUID("0190f5c2-7d3e-7a1b-8c2d-0000000000a7")
    staff = replace(SYSTEM, tenant=tenant)
    await use_cases.users.register(staff, Registration("ops", "ops@example.com", PASSWORD), Role.SUPPORT)

    session = await use_cases.staff_sessions.sign_in("ops", PASSWORD, tenant)

    principal = await use_cases.staff_sessions.resume(session.secret)
    assert (session.principal.tenant, principal.tenant) == (tenant, tenant)
    assert principal.is_support


async def test_a_tenants_staff_are_unknown_to_the_public_pools_sign_in(use_cases: UseCases) -> None:
    tenant = UUID("0190f5c2-7d3e-7a1b-8c2d-0000000000a7")
    staff = replace(SYSTEM, tenant=tenant)
    await use_cases.users.register(staff, Registration("ops", "ops@example.com", PASSWORD), Role.ADMIN)

    with pytest.raises(WrongCredentials):
        await use_cases.staff_sessions.sign_in("ops", PASSWORD)


async def test_a_suspended_tenant_staff_members_session_stops_at_the_next_request(use_cases: UseCases) -> None:
    tenant = UUID("0190f5c2-7d3e-7a1b-8c2d-0000000000a7")
    staff = replace(SYSTEM, tenant=tenant)
    user = await use_cases.users.register(staff, Registration("ops", "ops@example.com", PASSWORD), Role.ADMIN)
    session = await use_cases.staff_sessions.sign_in("ops", PASSWORD, tenant)

    await use_cases.users.set_status(staff, user.id, UserStatus.SUSPENDED, "left the shop")

    with pytest.raises(AccountInactive):
        await use_cases.staff_sessions.resume(session.secret)
