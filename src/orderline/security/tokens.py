"""Our own bearer tokens: HS256 JWTs carrying the user's id and scopes, signed with the current key, whose
id they name in their ``kid`` header so that verification picks the key that signed them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt

from orderline.application.errors import Unauthenticated
from orderline.application.ports import Claims, Clock
from orderline.application.principal import Scope
from orderline.security.signing_keys import KeySource, SigningKey

ISSUER = "orderline"
ALGORITHM = "HS256"


class JwtTokens:
    def __init__(self, keys: KeySource, lifetime: timedelta, clock: Clock) -> None:
        self._keys = keys
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
        key = self._keys.ring().current
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid}), expires_at

    def verify(self, token: str) -> Claims:
        key = self._signer_of(token)
        # Only HS256 is accepted: "none" and any other algorithm (the classic confusion attacks) fail here.
        try:
            claims = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against our clock, which tests control.
                options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        expires_at = ensure_unexpired(claims, self._clock)
        return Claims(str(claims["sub"]), ISSUER, frozenset(str(claims.get("scope", "")).split()), expires_at)

    def _signer_of(self, token: str) -> SigningKey:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        key = self._keys.ring().find(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("the token does not name a signing key of ours")
        return key


def ensure_unexpired(claims: dict[str, Any], clock: Clock) -> datetime:
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        raise Unauthenticated("the token is not valid") from None
    if expires_at <= clock.now():
        raise Unauthenticated("the token has expired")
    return expires_at
