"""What authentication reads of a user (ADR 0044): its role and status only, in the user's own tenant."""

from __future__ import annotations

import uuid

from orderline.application.ports import UserStanding
from orderline.application.principal import PUBLIC, Principal, PrincipalKind, Scope
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.domain.user import Role, UserStatus
from tests.support import Db

TENANT = uuid.UUID("0190f5c2-0000-7000-8000-0000000000c1")
ADMIN = Principal(PrincipalKind.API_KEY, uuid.uuid4(), frozenset({Scope.ADMIN}), TENANT)
ANYONE = Principal(PrincipalKind.ANONYMOUS, tenant=TENANT)


async def test_a_users_standing_is_its_role_and_its_current_status(use_cases: UseCases, db: Db) -> None:
    user = await use_cases.users.register(ANYONE, Registration("alice", "alice@example.com", "correct horse battery"))

    async with db.snapshot(TENANT) as uow:
        active = await uow.users.standing(user.id)
    await use_cases.users.set_status(ADMIN, user.id, UserStatus.SUSPENDED, "chargebacks")
    async with db.snapshot(TENANT) as uow:
        suspended = await uow.users.standing(user.id)

    assert active == UserStanding(Role.CUSTOMER, UserStatus.ACTIVE)
    assert suspended == UserStanding(Role.CUSTOMER, UserStatus.SUSPENDED)


async def test_a_user_has_no_standing_in_another_tenant_nor_an_unknown_id(use_cases: UseCases, db: Db) -> None:
    user = await use_cases.users.register(ANYONE, Registration("bob", "bob@example.com", "correct horse battery"))

    async with db.snapshot(PUBLIC) as uow:
        elsewhere = await uow.users.standing(user.id)
    async with db.snapshot(TENANT) as uow:
        unknown = await uow.users.standing(uuid.uuid4())

    assert elsewhere is None
    assert unknown is None
