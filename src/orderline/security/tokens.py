"""Our own bearer tokens: HS256 JWTs carrying the user's id and scopes, signed with the current key, whose
id they name in their ``kid`` header so that verification picks the key that signed them.

Each names its type in ``token_type``: an access token is what a request is authenticated by; a refresh token
(longer-lived, no scopes) only buys a new access token. Neither is ever accepted as the other (ADR 0026).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt

from orderline.application.errors import Unauthenticated, WrongTokenType
from orderline.application.ports import Claims, Clock, TokenType
from orderline.application.principal import Scope
from orderline.security.signing_keys import KeySource, SigningKey

ISSUER = "orderline"
ALGORITHM = "HS256"
TYPE_CLAIM = "token_type"
DEFAULT_REFRESH_LIFETIME = timedelta(days=3)


class JwtTokens:
    def __init__(
        self,
        keys: KeySource,
        lifetime: timedelta,
        clock: Clock,
        refresh_lifetime: timedelta = DEFAULT_REFRESH_LIFETIME,
    ) -> None:
        self._keys = keys
        self._lifetime = lifetime
        self._refresh_lifetime = refresh_lifetime
        self._clock = clock

    def issue(self, subject: UUID, scopes: frozenset[Scope], now: datetime) -> tuple[str, datetime]:
        """An access token."""
        return self._sign(subject, TokenType.ACCESS, now + self._lifetime, now, {"scope": " ".join(sorted(scopes))})

    def issue_refresh(self, subject: UUID, now: datetime) -> tuple[str, datetime]:
        """A refresh token: it carries no scopes, since the account's are read again when it is used."""
        return self._sign(subject, TokenType.REFRESH, now + self._refresh_lifetime, now, {})

    def verify(self, token: str) -> Claims:
        """An access token's claims; a token issued before tokens had types counts as an access token."""
        return self._verify(token, TokenType.ACCESS)

    def verify_refresh(self, token: str) -> Claims:
        return self._verify(token, TokenType.REFRESH)

    def _sign(
        self, subject: UUID, kind: TokenType, expires_at: datetime, now: datetime, extra: dict[str, str]
    ) -> tuple[str, datetime]:
        claims = {
            "iss": ISSUER,
            "sub": str(subject),
            TYPE_CLAIM: str(kind),
            **extra,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": str(uuid4()),
        }
        key = self._keys.ring().current
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid}), expires_at

    def _verify(self, token: str, expected: TokenType) -> Claims:
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
        if claims.get(TYPE_CLAIM, str(TokenType.ACCESS)) != expected:
            raise WrongTokenType(f"this is not an {expected} token" if expected is TokenType.ACCESS
                                 else f"this is not a {expected} token")  # fmt: skip
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
