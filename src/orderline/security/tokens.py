"""Our own bearer tokens: HS256 JWTs carrying the user's id and scopes, signed with a shared secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt

from orderline.application.errors import Unauthenticated
from orderline.application.ports import Claims, Clock
from orderline.application.principal import Scope

ISSUER = "orderline"
ALGORITHM = "HS256"


class JwtTokens:
    def __init__(self, secret: str, lifetime: timedelta, clock: Clock) -> None:
        self._secret = secret
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, subject: UUID, scopes: frozenset[Scope], now: datetime) -> tuple[str, datetime]:
        expires_at = now + self._lifetime
        claims = {
            "iss": ISSUER,
            "sub": str(subject),
            "scope": " ".join(sorted(scopes)),
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": str(uuid4()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires_at

    def verify(self, token: str) -> Claims:
        # Only HS256 is accepted: "none" and any other algorithm (the classic confusion attacks) fail here.
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against our clock, which tests control.
                options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        expires_at = ensure_unexpired(claims, self._clock)
        return Claims(str(claims["sub"]), ISSUER, frozenset(str(claims.get("scope", "")).split()), expires_at)


def ensure_unexpired(claims: dict[str, Any], clock: Clock) -> datetime:
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        raise Unauthenticated("the token is not valid") from None
    if expires_at <= clock.now():
        raise Unauthenticated("the token has expired")
    return expires_at
