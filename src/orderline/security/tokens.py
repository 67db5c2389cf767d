"""Our own bearer tokens: HS256 JWTs carrying the user's id and scopes, signed with the current key, whose
id they name in their ``kid`` header so that verification picks the key that signed them.

Each names its type in ``token_type``: an access token is what a request is authenticated by; a refresh token
(longer-lived, no scopes) only buys a new access token. Neither is ever accepted as the other (ADR 0026).

An access token checked once is remembered (``VerifiedTokens``), so the next request that shows it skips
PyJWT (ADR 0033, round 2).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final
from uuid import UUID, uuid4

import jwt

from orderline.application.errors import Unauthenticated, WrongTokenType
from orderline.application.ports import Claims, Clock, TokenType
from orderline.application.principal import PUBLIC, Scope
from orderline.security.signing_keys import KeyRing, KeySource, SigningKey

ISSUER = "orderline"
ALGORITHM = "HS256"
TYPE_CLAIM = "token_type"
TENANT_CLAIM = "tenant"  # the tenant the user belongs to (ADR 0040); absent: the public pool
DEFAULT_REFRESH_LIFETIME = timedelta(days=3)
# Enough for every customer active within an access token's lifetime on one process; a token that falls
# out is only checked again.
VERIFIED_TOKENS: Final = 4096


class VerifiedTokens:
    """Access tokens whose signature, issuer, type and claims were checked, by the exact token string.

    Only what cannot change is remembered: a token's bytes and the key ring that verified it. Expiry is
    still checked against the clock on every use (``JwtTokens.verify``); a ring that changed (a rotation,
    a key dropped because it leaked) forgets every entry, so a token of a removed key is refused on the
    next request; whether the user may still act is the per-request lookup's business (Authenticator).
    Bounded: the oldest entry leaves first.
    """

    def __init__(self, size: int = VERIFIED_TOKENS) -> None:
        self._size = size
        self._ring: KeyRing | None = None
        self._claims: dict[str, Claims] = {}

    def get(self, token: str, ring: KeyRing) -> Claims | None:
        if ring is not self._ring:
            self._claims.clear()
            self._ring = ring
            return None
        return self._claims.get(token)

    def put(self, token: str, ring: KeyRing, claims: Claims) -> None:
        if ring is not self._ring:
            self._claims.clear()
            self._ring = ring
        if len(self._claims) >= self._size:
            del self._claims[next(iter(self._claims))]  # dicts keep insertion order: the oldest
        self._claims[token] = claims


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
        self._verified = VerifiedTokens()

    def issue(
        self, subject: UUID, scopes: frozenset[Scope], now: datetime, tenant: UUID = PUBLIC
    ) -> tuple[str, datetime]:
        """An access token."""
        extra = {"scope": " ".join(sorted(scopes)), **_tenant_claim(tenant)}
        return self._sign(subject, TokenType.ACCESS, now + self._lifetime, now, extra)

    def issue_refresh(self, subject: UUID, now: datetime, tenant: UUID = PUBLIC) -> tuple[str, datetime]:
        """A refresh token: it carries no scopes, since the account's are read again when it is used."""
        return self._sign(subject, TokenType.REFRESH, now + self._refresh_lifetime, now, _tenant_claim(tenant))

    def verify(self, token: str) -> Claims:
        """An access token's claims; a token issued before tokens had types counts as an access token."""
        ring = self._keys.ring()
        claims = self._verified.get(token, ring)
        if claims is None:
            claims = self._verify(token, TokenType.ACCESS, ring)
            self._verified.put(token, ring, claims)
        elif claims.expires_at <= self._clock.now():
            raise Unauthenticated("the token has expired")
        return claims

    def verify_refresh(self, token: str) -> Claims:
        return self._verify(token, TokenType.REFRESH, self._keys.ring())

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

    def _verify(self, token: str, expected: TokenType, ring: KeyRing) -> Claims:
        key = self._signer_of(token, ring)
        # Only HS256 is accepted: "none" and any other algorithm (the classic confusion attacks) fail here.
        try:
            claims = jwt.decode(
                token,
                key.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against our clock, which tests control; so is nothing else: a sandbox
                # tenant's tokens are issued at its time, ahead of the wall clock PyJWT would judge `iat` by.
                options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        if claims.get(TYPE_CLAIM, str(TokenType.ACCESS)) != expected:
            raise WrongTokenType(f"this is not an {expected} token" if expected is TokenType.ACCESS
                                 else f"this is not a {expected} token")  # fmt: skip
        expires_at = ensure_unexpired(claims, self._clock)
        scopes = frozenset(str(claims.get("scope", "")).split())
        return Claims(str(claims["sub"]), ISSUER, scopes, expires_at, _tenant_of(claims))

    def _signer_of(self, token: str, ring: KeyRing) -> SigningKey:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        key = ring.find(kid) if isinstance(kid, str) else None
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


def _tenant_claim(tenant: UUID) -> dict[str, str]:
    """The tenant claim (ADR 0040): absent for the public pool, so its tokens read as before tenants."""
    return {} if tenant == PUBLIC else {TENANT_CLAIM: str(tenant)}


def _tenant_of(claims: dict[str, Any]) -> UUID:
    value = claims.get(TENANT_CLAIM)
    if value is None:
        return PUBLIC
    try:
        return UUID(str(value))
    except ValueError:
        raise Unauthenticated("the token is not valid") from None
