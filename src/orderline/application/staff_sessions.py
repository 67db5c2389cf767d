"""Staff sign-in for the dashboard: who may open a session, and whether a session still stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderline.application.authenticator import Authenticator
from orderline.application.errors import Forbidden, Unauthenticated
from orderline.application.principal import Principal, PrincipalKind, Scope
from orderline.application.users import Users

# The dashboard is for the people who run the shop: an account without this scope may not open it.
STAFF_SCOPE = Scope.ADMIN


@dataclass(frozen=True, slots=True)
class StaffSession:
    """What a browser keeps: the access token the session stands on, and when it ends at the latest."""

    token: str
    expires_at: datetime
    principal: Principal


class StaffSessions:
    """A session is an access token of a staff account, judged afresh on every request (ADR 0037): a suspended,
    closed or demoted account's session stops working at its next request."""

    def __init__(self, users: Users, authenticator: Authenticator) -> None:
        self._users = users
        self._authenticator = authenticator

    async def sign_in(self, username: str, password: str) -> StaffSession:
        """A session for the right username and password of an active staff account; WrongCredentials for a
        wrong pair (one refusal, in one time, as /v1/auth/tokens), Forbidden for a customer."""
        issued = await self._users.issue_token(username, password)
        principal = await self.resume(issued.token)
        return StaffSession(issued.token, issued.expires_at, principal)

    async def resume(self, token: str) -> Principal:
        """The staff member a session's token stands for now; Unauthenticated or Forbidden when it no longer
        stands (expired, the account suspended or closed, or no longer staff)."""
        principal = await self._authenticator.authenticate(token)
        if principal.kind is not PrincipalKind.USER:
            raise Unauthenticated("a dashboard session stands on a signed-in user's token")
        if not principal.has(STAFF_SCOPE):
            raise Forbidden(str(STAFF_SCOPE))
        return principal
