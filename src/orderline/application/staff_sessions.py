"""Staff sign-in for the dashboard: who may open a session, whether a session still stands, signing out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orderline.application.authenticator import Authenticator
from orderline.application.credentials import hash_secret, new_secret
from orderline.application.errors import AccountInactive, Forbidden, Unauthenticated
from orderline.application.lookups import one_statement
from orderline.application.ports import Clock, DashboardSession, Database, IdGenerator
from orderline.application.principal import PUBLIC, Principal, PrincipalKind, Scope
from orderline.application.users import Users, scopes_of

# The dashboard is for the people who run the shop: an account without this scope (admin implies it, support
# has it) may not open it.
STAFF_SCOPE = Scope.SUPPORT
SESSION_PREFIX = "ols_"  # what a session's secret starts with, as olk_ marks an API key


@dataclass(frozen=True, slots=True)
class StaffSession:
    """What a browser keeps: the session's secret (shown this once), and when it ends at the latest."""

    secret: str
    expires_at: datetime
    principal: Principal


class StaffSessions:
    """A session is a row (its secret's hash, its account, its end), judged on every request (ADR 0037): a
    suspended, closed or demoted account's session stops at its next request, a signed-out one for good."""

    def __init__(
        self, db: Database, clock: Clock, ids: IdGenerator, users: Users, authenticator: Authenticator
    ) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._users = users
        self._authenticator = authenticator

    async def sign_in(self, username: str, password: str, tenant: UUID = PUBLIC) -> StaffSession:
        """A session for the right username and password of an active staff account of ``tenant`` (the public
        pool's unless named); WrongCredentials for a wrong pair, or an account of another tenant (one refusal,
        in one time, as /v1/auth/tokens), Forbidden for a customer. It lasts as long as an access token would."""
        issued = await self._users.issue_token(tenant, username, password)
        principal = _staff(await self._authenticator.authenticate(issued.token))
        assert principal.id is not None, "a user's principal names the user"
        assert principal.tenant == tenant, "a token carries the tenant it was issued in"
        secret = new_secret(SESSION_PREFIX)
        session = DashboardSession(self._ids.new_id(), hash_secret(secret), principal.id, tenant, self._clock.now(),
                                   issued.expires_at)  # fmt: skip
        async with self._db.transaction(tenant) as uow:
            # Each sign-in sweeps the sessions that expired, every tenant's: one indexed DELETE, so the table holds
            # about the sessions of one token lifetime (sign-out deletes its own row).
            await uow.dashboard_sessions.remove_expired(self._clock.now())
            await uow.dashboard_sessions.add(session)
            await uow.commit()
        return StaffSession(secret, issued.expires_at, principal)

    async def resume(self, secret: str) -> Principal:
        """The staff member a session stands for now, in the session's tenant; Unauthenticated or Forbidden when
        it no longer stands (signed out, expired, the account suspended or closed, or no longer staff)."""
        async with one_statement(self._db, PUBLIC) as uow:  # by the secret's hash, across tenants: the row names it
            session = await uow.dashboard_sessions.find_by_hash(hash_secret(secret))
        if session is None or session.ended_at is not None or session.expires_at <= self._clock.now():
            raise Unauthenticated("the dashboard session has ended: sign in again")
        async with one_statement(self._db, session.tenant) as uow:
            user = await uow.users.get(session.user_id)
        if user is None or not user.is_active:
            raise AccountInactive("the account is suspended or closed")
        return _staff(Principal(PrincipalKind.USER, user.id, scopes_of(user.role), session.tenant))

    async def sign_out(self, secret: str) -> None:
        """End the session for good (its row is deleted): its secret opens nothing any more, wherever it was
        copied to."""
        async with self._db.transaction(PUBLIC) as uow:
            await uow.dashboard_sessions.end(hash_secret(secret), self._clock.now())
            await uow.commit()


def _staff(principal: Principal) -> Principal:
    if principal.kind is not PrincipalKind.USER:
        raise Unauthenticated("a dashboard session is a signed-in user's")
    if not principal.has(STAFF_SCOPE):
        raise Forbidden(str(STAFF_SCOPE))
    return principal
