"""Access and refresh tokens: each names its type, and neither is ever accepted as the other (ADR 0026)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
import pytest

from orderline.application.errors import Unauthenticated, WrongTokenType
from orderline.application.principal import Scope
from orderline.security.signing_keys import FixedKeys, KeyRing, SigningKey, new_secret
from orderline.security.tokens import ALGORITHM, ISSUER, JwtTokens
from tests.support import SteppingClock

ALICE = uuid.uuid4()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def key(clock: SteppingClock) -> SigningKey:
    return SigningKey(new_secret(), clock.now())


@pytest.fixture
def tokens(key: SigningKey, clock: SteppingClock) -> JwtTokens:
    return JwtTokens(FixedKeys(KeyRing(key)), timedelta(hours=1), clock, refresh_lifetime=timedelta(days=3))


def test_a_refresh_token_names_its_user_and_lasts_its_own_lifetime(tokens: JwtTokens, clock: SteppingClock) -> None:
    issued_at = clock.now()
    token, expires_at = tokens.issue_refresh(ALICE, issued_at)

    claims = tokens.verify_refresh(token)

    assert claims.subject == str(ALICE)
    assert claims.scopes == frozenset()
    assert expires_at == issued_at + timedelta(days=3)


def test_a_refresh_token_is_refused_where_an_access_token_belongs(tokens: JwtTokens, clock: SteppingClock) -> None:
    token, _ = tokens.issue_refresh(ALICE, clock.now())

    with pytest.raises(WrongTokenType):
        tokens.verify(token)


def test_an_access_token_is_refused_where_a_refresh_token_belongs(tokens: JwtTokens, clock: SteppingClock) -> None:
    token, _ = tokens.issue(ALICE, frozenset({Scope.READ_ORDERS}), clock.now())

    with pytest.raises(WrongTokenType):
        tokens.verify_refresh(token)


def test_an_expired_refresh_token_is_refused(tokens: JwtTokens, clock: SteppingClock) -> None:
    token, _ = tokens.issue_refresh(ALICE, clock.now())
    clock.advance(timedelta(days=3))

    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify_refresh(token)


def test_an_access_token_from_before_token_types_is_still_an_access_token(
    tokens: JwtTokens, key: SigningKey, clock: SteppingClock
) -> None:
    now = int(clock.now().timestamp())
    untyped = {"iss": ISSUER, "sub": str(ALICE), "scope": "read:orders", "iat": now, "exp": now + 60}
    token = jwt.encode(untyped, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})

    assert tokens.verify(token).scopes == frozenset({"read:orders"})
    with pytest.raises(WrongTokenType):
        tokens.verify_refresh(token)
