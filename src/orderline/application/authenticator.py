"""Authentication: the principal a bearer credential stands for, whichever kind of credential it is."""

from __future__ import annotations

import uuid
from uuid import UUID

from orderline.application.credentials import API_KEY_PREFIX, ORDER_TOKEN_PREFIX, hash_secret
from orderline.application.errors import AccountInactive, InvalidInput, Unauthenticated
from orderline.application.lookups import one_statement
from orderline.application.order_views import own_page
from orderline.application.orders import OrderFilter
from orderline.application.ports import (
    Ahead,
    ApiKey,
    Claims,
    Database,
    ExternalTokens,
    OrderAhead,
    OrderViews,
    PageAhead,
    PageRead,
    Read,
    TokenIssuer,
    UserStanding,
)
from orderline.application.principal import ORDER_TOKEN_SCOPES, PUBLIC, Principal, PrincipalKind, Scope
from orderline.application.queries import OrderQuery, Owner
from orderline.application.users import scopes_of
from orderline.domain.user import UserStatus


class Authenticator:
    """Refusals (unknown, revoked, expired, forged, suspended) are Unauthenticated, decided per request,
    so a revoked key or a suspended user is refused from the very next request.

    Each credential is one read statement: where the database can run it outside a transaction (one round
    trip on PostgreSQL), it does; it still sees every commit made before it, revocations included. A route that
    reads one order may have that order read in the same statement (``authenticate_reading``, ADR 0049).
    """

    def __init__(
        self, db: Database, tokens: TokenIssuer, external: ExternalTokens | None = None, views: OrderViews | None = None
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._external = external
        self._views = views

    async def authenticate(self, credential: str, requested: UUID = PUBLIC) -> Principal:
        """The principal ``credential`` stands for, in its tenant (ADR 0040): a credential that belongs to a
        tenant (a bound key, a user's token, an order's token) acts there, whatever ``requested`` (the request's
        X-Tenant-ID, or the public pool) says; an unbound key or an external issuer's user acts in ``requested``.
        """
        principal, _nothing = await self.authenticate_reading(credential, requested)
        return principal

    async def authenticate_reading(
        self, credential: str, requested: UUID = PUBLIC, ahead: Ahead | None = None
    ) -> tuple[Principal, Read | None]:
        """``authenticate``, with what ``ahead`` names read in the credential's own statement where the credential
        is a row of ours: one round trip for both, one snapshot (ADR 0049). An order is read with an API key or a
        user's standing; a page of one's own orders with a user's standing only (a key's own orders are known by its
        id, which its row gives). Whether the principal may see what was read is not decided here. Other
        credentials read nothing ahead (None)."""
        if credential.startswith(API_KEY_PREFIX):
            return await self._api_key(hash_secret(credential), requested, ahead)
        if credential.startswith(ORDER_TOKEN_PREFIX):
            return await self._order_token(credential), None
        if self._external is not None and (claims := await self._external.verify(credential)):
            return _external_principal(claims, requested), None
        return await self._user(self._tokens.verify(credential), ahead)

    async def _api_key(self, key_hash: str, requested: UUID, ahead: Ahead | None) -> tuple[Principal, Read | None]:
        if self._views is not None and isinstance(ahead, OrderAhead):
            key, read = await self._views.ahead_of_key(key_hash, requested, ahead)
            return _key_principal(key, requested), read
        async with one_statement(self._db, PUBLIC) as uow:  # found by hash across tenants: its row names its own
            found = await uow.api_keys.find_by_hash(key_hash)
        return _key_principal(found, requested), None

    async def _order_token(self, secret: str) -> Principal:
        async with one_statement(self._db, PUBLIC) as uow:  # found by hash across tenants: its row names its own
            holder = await uow.order_tokens.order_of(hash_secret(secret))
        if holder is None:
            raise Unauthenticated("the order token is unknown")
        return Principal(PrincipalKind.ORDER_TOKEN, holder.order_id, ORDER_TOKEN_SCOPES, holder.tenant)

    async def _user(self, claims: Claims, ahead: Ahead | None) -> tuple[Principal, Read | None]:
        user_id, tenant = _user_id(claims), claims.tenant
        if self._views is not None and isinstance(ahead, OrderAhead):
            standing, read = await self._views.ahead_of_user(tenant, user_id, ahead)
            return _user_principal(user_id, standing, tenant), read
        if self._views is not None and isinstance(ahead, PageAhead) and (query := _own_page(user_id, ahead)):
            standing, views = await self._views.page_ahead_of_user(tenant, user_id, query)
            page = None if views is None else PageRead(tenant, query, views)
            return _user_principal(user_id, standing, tenant), page
        async with one_statement(self._db, tenant) as uow:
            standing = await uow.users.standing(user_id)  # its role and status, not the whole user
        return _user_principal(user_id, standing, tenant), None


def _own_page(user_id: UUID, ahead: PageAhead) -> OrderQuery | None:
    """The query of the page ``ahead`` names of the user's own orders: a user's own orders are those of its id,
    whatever its role, so the page is known before the standing. None for a cursor not of the list, which the list
    refuses itself, after authentication, as it always did."""
    try:
        return own_page(Owner(customer_id=user_id), OrderFilter(ahead.status), ahead.limit, ahead.cursor)
    except InvalidInput:
        return None


def _key_principal(key: ApiKey | None, requested: UUID) -> Principal:
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("the API key is unknown or has been revoked")
    return Principal(PrincipalKind.API_KEY, key.id, key.scopes, requested if key.tenant is None else key.tenant)


def _user_id(claims: Claims) -> UUID:
    try:
        return UUID(claims.subject)
    except ValueError:
        raise Unauthenticated("the token names no user of ours") from None


def _user_principal(user_id: UUID, standing: UserStanding | None, tenant: UUID) -> Principal:
    if standing is None or standing.status is not UserStatus.ACTIVE:
        raise AccountInactive("the account is suspended or closed")
    return Principal(PrincipalKind.USER, user_id, scopes_of(standing.role), tenant)


def _external_principal(claims: Claims, requested: UUID) -> Principal:
    """A user of a trusted issuer: a stable id from issuer and subject, and the known scopes it grants."""
    principal_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{claims.issuer}#{claims.subject}")
    known = {scope.value for scope in Scope}
    scopes = frozenset(Scope(s) for s in claims.scopes if s in known)
    return Principal(PrincipalKind.USER, principal_id, scopes, requested)
