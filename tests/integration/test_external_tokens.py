"""Tokens of a trusted external issuer (RS256 and ES256), checked against a JWKS served by a local ASGI app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from litestar import Litestar, get

from orderline.application.errors import Unauthenticated
from orderline.application.principal import PUBLIC, PrincipalKind, Scope
from orderline.application.use_cases import UseCases
from orderline.bootstrap import build
from tests.support import FAST_HASHER, SteppingClock, engine_settings

ISSUER = "https://id.example.test/"
AUDIENCE = "orderline"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
IMPOSTOR_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SHARED_SECRET = "a shared secret that is long enough"


def _jwks() -> dict[str, Any]:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())) | {"kid": "rsa-1", "alg": "RS256", "use": "sig"}
    ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())) | {"kid": "ec-1", "alg": "ES256", "use": "sig"}
    return {"keys": [rsa_jwk, ec_jwk]}


@get("/.well-known/jwks.json", sync_to_thread=False)
def jwks() -> dict[str, Any]:
    return _jwks()


@pytest.fixture
async def use_cases(database_url: str, clock: SteppingClock) -> AsyncIterator[UseCases]:
    settings = engine_settings(
        database_url,
        jwt_jwks_url="http://issuer.test/.well-known/jwks.json",
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    issuer: Any = Litestar([jwks])  # httpx types the ASGI callable more narrowly than Litestar declares it
    transport = httpx.ASGITransport(app=issuer)
    async with httpx.AsyncClient(transport=transport) as http:
        wired = await build(settings, clock=clock, hasher=FAST_HASHER, http=http)
        try:
            yield wired
        finally:
            await wired.close()


def _token(clock: SteppingClock, key: Any, alg: str, kid: str, **overrides: Any) -> str:
    now = int(clock.now().timestamp())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-42", "scope": "read:orders write:orders chat:write",
              "iat": now, "exp": now + 600} | overrides  # fmt: skip
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.mark.parametrize(("key", "alg", "kid"), [(RSA_KEY, "RS256", "rsa-1"), (EC_KEY, "ES256", "ec-1")])
async def test_a_valid_external_token_is_a_user_with_the_known_scopes_it_grants(
    use_cases: UseCases, clock: SteppingClock, key: Any, alg: str, kid: str
) -> None:
    principal = await use_cases.authenticator.authenticate(_token(clock, key, alg, kid))

    assert principal.kind is PrincipalKind.USER
    assert principal.scopes == {Scope.READ_ORDERS, Scope.WRITE_ORDERS}
    assert principal == await use_cases.authenticator.authenticate(_token(clock, key, alg, kid))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda c: _token(c, RSA_KEY, "RS256", "rsa-1", exp=int(c.now().timestamp()) - 1), id="expired"),
        pytest.param(lambda c: _token(c, RSA_KEY, "RS256", "rsa-1", aud="someone-else"), id="wrong-audience"),
        pytest.param(lambda c: _token(c, RSA_KEY, "RS256", "unknown-kid"), id="unknown-key"),
        pytest.param(lambda c: _token(c, IMPOSTOR_KEY, "RS256", "rsa-1"), id="wrong-signature"),
        pytest.param(lambda c: _token(c, SHARED_SECRET, "HS256", "rsa-1"), id="hs256-confusion"),
        pytest.param(lambda c: _token(c, "", "none", "rsa-1"), id="alg-none"),
    ],
)  # fmt: skip
async def test_a_bad_external_token_is_refused(use_cases: UseCases, clock: SteppingClock, token: Any) -> None:
    with pytest.raises(Unauthenticated):
        await use_cases.authenticator.authenticate(token(clock))


async def test_a_token_of_another_issuer_is_not_taken_for_the_trusted_one(
    use_cases: UseCases, clock: SteppingClock
) -> None:
    stranger = _token(clock, RSA_KEY, "RS256", "rsa-1", iss="https://evil.example.test/")

    with pytest.raises(Unauthenticated):
        await use_cases.authenticator.authenticate(stranger)


async def test_our_own_tokens_still_work_beside_the_external_issuer(use_cases: UseCases, clock: SteppingClock) -> None:
    from orderline.application.principal import ANONYMOUS
    from orderline.application.users import Registration

    await use_cases.users.register(ANONYMOUS, Registration("alice", "alice@example.com", "correct horse battery"))
    issued = await use_cases.users.issue_token(PUBLIC, "alice", "correct horse battery")

    principal = await use_cases.authenticator.authenticate(issued.token)

    assert principal.kind is PrincipalKind.USER
    clock.advance(timedelta(days=2))
    with pytest.raises(Unauthenticated):
        await use_cases.authenticator.authenticate(issued.token)
