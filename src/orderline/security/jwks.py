"""Tokens of a trusted external issuer: RS256/ES256 JWTs verified against the issuer's JWKS."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet

from orderline.application.errors import Unauthenticated
from orderline.application.ports import Claims, Clock
from orderline.security.tokens import ensure_unexpired

ALGORITHMS = ["RS256", "ES256"]


class JwksTokens:
    """Fetches the key set lazily, keeps it ``ttl`` seconds, and refetches once for an unknown key id
    (the issuer rotated its keys)."""

    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str | None,
        client: httpx.AsyncClient,
        clock: Clock,
        ttl: float = 300.0,
    ) -> None:
        self._url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = -float("inf")

    async def verify(self, token: str) -> Claims | None:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        if unverified.get("iss") != self._issuer:
            return None  # not this issuer's token: maybe one of ours
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated(f"tokens of {self._issuer} must be signed with RS256 or ES256")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": ["exp", "sub", "iss"],
                    "verify_aud": self._audience is not None,
                    "verify_exp": False,  # checked below against our clock
                },
            )
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
        expires_at = ensure_unexpired(claims, self._clock)
        scopes = claims.get("scope", claims.get("scp", ""))
        granted = frozenset(scopes.split() if isinstance(scopes, str) else map(str, scopes))
        return Claims(str(claims["sub"]), self._issuer, granted, expires_at)

    async def _key(self, kid: str) -> PyJWK:
        stale = time.monotonic() - self._fetched_at > self._ttl
        if stale or kid not in self._keys:
            await self._fetch()
        if kid not in self._keys:
            raise Unauthenticated("the token is signed with a key the issuer does not publish")
        return self._keys[kid]

    async def _fetch(self) -> None:
        try:
            response = await self._client.get(self._url, timeout=5.0)
            response.raise_for_status()
            key_set = PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"the issuer's keys cannot be fetched: {type(exc).__name__}") from None
        self._keys = {str(key.key_id): key for key in key_set.keys}
        self._fetched_at = time.monotonic()
