"""User use cases: register, read and change one's account, tokens, and the admin's view of users."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from orderline.application.audit import Action, EntityType, Record, changes
from orderline.application.errors import AccountInactive, NotFound, Unauthenticated, WrongCredentials
from orderline.application.lookups import one_statement
from orderline.application.pagination import Page, decode_id_cursor, page_of
from orderline.application.ports import (
    Clock,
    CustomerView,
    Database,
    IdGenerator,
    PasswordHasher,
    TokenIssuer,
    UserRepository,
)
from orderline.application.principal import (
    ADMIN_SCOPES,
    CUSTOMER_SCOPES,
    SUPPORT_SCOPES,
    Principal,
    PrincipalKind,
    Scope,
)
from orderline.application.queries import UserQuery
from orderline.application.use_case import UseCase
from orderline.domain.user import (
    Role,
    User,
    UserStatus,
    check_email,
    check_password,
    check_phone,
    check_username,
)

_CURSOR = "users"
WRONG_CREDENTIALS = "the username or the password is wrong"


@dataclass(frozen=True, slots=True)
class Registration:
    username: str
    email: str
    password: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """Fields left None stay as they are."""

    email: str | None = None
    password: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: IssuedToken
    refresh: IssuedToken


def scopes_of(role: Role) -> frozenset[Scope]:
    return {Role.ADMIN: ADMIN_SCOPES, Role.SUPPORT: SUPPORT_SCOPES}.get(role, CUSTOMER_SCOPES)


class Users(UseCase):
    def __init__(
        self, db: Database, clock: Clock, ids: IdGenerator, hasher: PasswordHasher, tokens: TokenIssuer
    ) -> None:
        super().__init__(db, clock, ids)
        self._hasher = hasher
        self._tokens = tokens
        # Verified when the username is unknown, so a wrong username takes as long as a wrong password.
        self._decoy = hasher.hash("decoy password that matches nothing")

    async def register(self, principal: Principal, registration: Registration, role: Role = Role.CUSTOMER) -> User:
        """Anyone may register a customer; only an admin (or the CLI) may create staff (admin or support)."""
        if role is not Role.CUSTOMER:
            principal.require(Scope.ADMIN)
        username = check_username(registration.username)
        now = self._clock.now()
        user = User(
            id=self._ids.new_id(),
            username=username,
            email=check_email(registration.email),
            password_hash=await self._hash(check_password(registration.password, username)),
            role=role,
            status=UserStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            first_name=registration.first_name,
            last_name=registration.last_name,
            phone=check_phone(registration.phone),
        )
        actor = (
            principal if not principal.is_anonymous else Principal(PrincipalKind.USER, user.id, tenant=principal.tenant)
        )
        async with self._db.transaction(principal.tenant) as uow:
            await uow.users.add(user)
            record = Record(Action.USER_REGISTERED, EntityType.USER, user.id, changes({}, _audited(user)))
            await self._record(uow, actor, record)
            await uow.commit()
        return user

    async def get(self, principal: Principal, user_id: UUID) -> User:
        """Oneself, or anyone for an admin; another user's account is not found."""
        _require_self_or_admin(principal, user_id, Scope.READ_USER)
        async with self._db.snapshot(principal.tenant) as uow:
            user = await uow.users.get(user_id)
        if user is None or user.status is UserStatus.DELETED:
            raise NotFound("user", user_id)
        return user

    async def beside_order(self, principal: Principal, customer_id: UUID | None) -> CustomerView | None:
        """An order's customer as ``shown_customer`` shows them beside it, read in one statement (no snapshot:
        ADR 0048); None for an order without a customer, or when none is shown."""
        if customer_id is None or not may_read_account(principal, customer_id):
            return None
        async with one_statement(self._db, principal.tenant) as uow:
            user = await uow.users.get(customer_id)
        found = None if user is None else CustomerView(user.email, user.first_name, user.last_name, user.status.value)
        return shown_customer(principal, customer_id, found)

    async def me(self, principal: Principal) -> User:
        if principal.kind is not PrincipalKind.USER or principal.id is None:
            principal.require(Scope.READ_USER)
            raise NotFound("user", "me")
        return await self.get(principal, principal.id)

    async def update(self, principal: Principal, user_id: UUID, change: ProfileChange) -> User:
        _require_self_or_admin(principal, user_id, Scope.WRITE_USER)
        async with self._db.transaction(principal.tenant) as uow:
            user = await _live(uow.users, user_id)
            before = _audited(user)
            if change.email is not None:
                user.email = check_email(change.email)
            if change.password is not None:
                user.password_hash = await self._hash(check_password(change.password, user.username))
            user.first_name = change.first_name if change.first_name is not None else user.first_name
            user.last_name = change.last_name if change.last_name is not None else user.last_name
            user.phone = check_phone(change.phone) if change.phone is not None else user.phone
            user.updated_at, user.version = self._clock.now(), user.version + 1
            await uow.users.save(user)
            changed = changes(before, _audited(user)) | ({"password": "changed"} if change.password else {})
            await self._record(uow, principal, Record(Action.USER_UPDATED, EntityType.USER, user.id, changed))
            await uow.commit()
        return user

    async def set_password(self, principal: Principal, username: str, password: str) -> User:
        """Set an account's password (admin, or the operator at the command line); its tokens stay valid."""
        principal.require(Scope.ADMIN)
        async with self._db.transaction(principal.tenant) as uow:
            found = await uow.users.get_by_username(username.lower())
            if found is None or found.status is UserStatus.DELETED:
                raise NotFound("user", username)
            user = await _live(uow.users, found.id)
            user.password_hash = await self._hash(check_password(password, user.username))
            user.updated_at, user.version = self._clock.now(), user.version + 1
            await uow.users.save(user)
            record = Record(Action.USER_UPDATED, EntityType.USER, user.id, {"password": "changed"})
            await self._record(uow, principal, record)
            await uow.commit()
        return user

    async def delete(self, principal: Principal, user_id: UUID) -> None:
        """Close an account: its tokens stop working at once; its orders stay, without the person."""
        _require_self_or_admin(principal, user_id, Scope.WRITE_USER)
        async with self._db.transaction(principal.tenant) as uow:
            user = await _live(uow.users, user_id)
            user.delete(self._clock.now())
            await uow.users.save(user)
            changed = {"status": {"before": "ACTIVE", "after": "DELETED"}}
            await self._record(uow, principal, Record(Action.USER_DELETED, EntityType.USER, user.id, changed))
            await uow.commit()

    async def set_status(self, principal: Principal, user_id: UUID, status: UserStatus, reason: str | None) -> User:
        """Suspend or reactivate (admin); a suspended user's credentials stop working on the next request."""
        principal.require(Scope.ADMIN)
        async with self._db.transaction(principal.tenant) as uow:
            user = await _live(uow.users, user_id)
            before = str(user.status)
            user.change_status(status, reason, self._clock.now())
            await uow.users.save(user)
            action = Action.USER_SUSPENDED if status is UserStatus.SUSPENDED else Action.USER_REACTIVATED
            changed = {"status": {"before": before, "after": str(status)}}
            await self._record(uow, principal, Record(action, EntityType.USER, user.id, changed, reason))
            await uow.commit()
        return user

    async def list(self, principal: Principal, query: UserQuery, *, cursor: str | None = None) -> Page[User]:
        principal.require(Scope.ADMIN)
        if cursor:
            query = replace(query, after_id=decode_id_cursor(_CURSOR, cursor))
        async with self._db.snapshot(principal.tenant) as uow:
            rows = await uow.users.find(query)
        return page_of(rows, query.limit, _CURSOR, lambda user: str(user.id))

    async def issue_token(self, tenant: UUID, username: str, password: str) -> IssuedToken:
        """A bearer token for the right username and password of an active account of ``tenant``; else one same
        401. The token carries the tenant: it acts there whatever X-Tenant-ID later says (ADR 0040)."""
        user = await self._signed_in(tenant, username, password)
        token, expires_at = self._tokens.issue(user.id, scopes_of(user.role), self._clock.now(), tenant)
        return IssuedToken(token, expires_at)

    async def issue_pair(self, tenant: UUID, username: str, password: str) -> TokenPair:
        """An access token and a refresh token for the right username and password (ADR 0026)."""
        user = await self._signed_in(tenant, username, password)
        now = self._clock.now()
        access = IssuedToken(*self._tokens.issue(user.id, scopes_of(user.role), now, tenant))
        return TokenPair(access, IssuedToken(*self._tokens.issue_refresh(user.id, now, tenant)))

    async def refresh(self, refresh_token: str) -> IssuedToken:
        """A new access token for a valid refresh token whose account is still active, with its scopes as they
        are now; a suspended or closed account's refresh tokens stop working at once."""
        claims = self._tokens.verify_refresh(refresh_token)
        try:
            user_id = UUID(claims.subject)
        except ValueError:
            raise Unauthenticated("the token names no user of ours") from None
        async with self._db.snapshot(claims.tenant) as uow:
            user = await uow.users.get(user_id)
        if user is None or not user.is_active:
            raise AccountInactive("the account is suspended or closed")
        return IssuedToken(*self._tokens.issue(user.id, scopes_of(user.role), self._clock.now(), claims.tenant))

    async def _signed_in(self, tenant: UUID, username: str, password: str) -> User:
        """The active account of this username and password; else one same refusal, in the same time."""
        async with self._db.snapshot(tenant) as uow:
            user = await uow.users.get_by_username(username.lower())
        usable = user if user is not None and user.is_active else None
        stored = usable.password_hash if usable is not None else self._decoy
        verified = await asyncio.to_thread(self._hasher.verify, stored, password)
        if usable is None or not verified:
            raise WrongCredentials(WRONG_CREDENTIALS)
        return usable

    async def _hash(self, password: str) -> str:
        # argon2 is deliberately slow (tens of ms of CPU): keep it off the event loop.
        return await asyncio.to_thread(self._hasher.hash, password)


def _require_self_or_admin(principal: Principal, user_id: UUID, scope: Scope) -> None:
    principal.require(scope)
    if not _self_or_admin(principal, user_id):
        raise NotFound("user", user_id)


def _self_or_admin(principal: Principal, user_id: UUID) -> bool:
    return principal.is_admin or (principal.kind is PrincipalKind.USER and principal.id == user_id)


def may_read_account(principal: Principal, user_id: UUID) -> bool:
    """Whether ``get`` would show ``principal`` this account, were it open: their own, or anyone's for an admin,
    with the scope to read accounts."""
    return principal.has(Scope.READ_USER) and _self_or_admin(principal, user_id)


def shown_customer(principal: Principal, customer_id: UUID | None, found: CustomerView | None) -> CustomerView | None:
    """An order's customer as a read shows them beside the order (ADR 0026): only what ``get`` would show the
    caller — their own account, or anyone's to an admin — and never a closed account; else None, as for an
    order without a customer. ``found`` is the account's row, read with the order (ADR 0048)."""
    if customer_id is None or found is None or found.status == UserStatus.DELETED.value:
        return None
    return found if may_read_account(principal, customer_id) else None


async def _live(users: UserRepository, user_id: UUID) -> User:
    user = await users.get(user_id, for_update=True)
    if user is None or user.status is UserStatus.DELETED:
        raise NotFound("user", user_id)
    return user


def _audited(user: User) -> dict[str, Any]:
    """Account fields the audit log follows (never the password hash)."""
    return {
        "username": user.username,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "phone": user.phone,
        "role": str(user.role),
    }
