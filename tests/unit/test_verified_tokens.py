"""Access tokens checked once are remembered, and nothing a check decided is skipped (ADR 0033, round 2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from orderline.application.errors import Unauthenticated
from orderline.application.principal import Scope
from orderline.security.signing_keys import KeyRing, SigningKey, new_secret
from orderline.security.tokens import JwtTokens, VerifiedTokens
from tests.support import SteppingClock

ALICE = uuid.uuid4()
LIFETIME = timedelta(hours=1)
READ = frozenset({Scope.READ_ORDERS})


@dataclass
class SwappableKeys:
    """A key source whose ring a test replaces, as a key-file rotation does."""

    keys: KeyRing

    def ring(self) -> KeyRing:
        return self.keys


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def source(clock: SteppingClock) -> SwappableKeys:
    return SwappableKeys(KeyRing(SigningKey(new_secret(), clock.now())))


@pytest.fixture
def tokens(source: SwappableKeys, clock: SteppingClock) -> JwtTokens:
    return JwtTokens(source, LIFETIME, clock)


def test_a_token_checked_again_gives_the_same_claims_without_pyjwt(
    tokens: JwtTokens, clock: SteppingClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = tokens.issue(ALICE, READ, clock.now())
    first = tokens.verify(token)

    def no_decoding(*_: object, **__: object) -> None:
        raise AssertionError("a remembered token was decoded again")

    monkeypatch.setattr("orderline.security.tokens.jwt.decode", no_decoding)
    monkeypatch.setattr("orderline.security.tokens.jwt.get_unverified_header", no_decoding)

    assert tokens.verify(token) == first


def test_a_remembered_token_is_refused_once_it_expires(tokens: JwtTokens, clock: SteppingClock) -> None:
    token, _ = tokens.issue(ALICE, READ, clock.now())
    tokens.verify(token)

    clock.advance(LIFETIME)

    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token)


def test_a_remembered_token_of_a_dropped_key_is_refused_at_once(
    tokens: JwtTokens, source: SwappableKeys, clock: SteppingClock
) -> None:
    token, _ = tokens.issue(ALICE, READ, clock.now())
    tokens.verify(token)

    source.keys = source.keys.rotated(SigningKey(new_secret(), clock.now()), clock.now(), LIFETIME).without_previous()

    with pytest.raises(Unauthenticated, match="signing key"):
        tokens.verify(token)


def test_a_remembered_token_of_a_retired_key_is_still_accepted_after_a_rotation(
    tokens: JwtTokens, source: SwappableKeys, clock: SteppingClock
) -> None:
    token, _ = tokens.issue(ALICE, READ, clock.now())
    tokens.verify(token)

    source.keys = source.keys.rotated(SigningKey(new_secret(), clock.now()), clock.now(), LIFETIME)

    assert tokens.verify(token).subject == str(ALICE)


def test_a_forged_token_is_never_remembered(tokens: JwtTokens, clock: SteppingClock) -> None:
    token, _ = tokens.issue(ALICE, READ, clock.now())
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    for _ in range(2):
        with pytest.raises(Unauthenticated):
            tokens.verify(forged)


def test_the_oldest_token_leaves_first_once_the_cache_is_full(clock: SteppingClock) -> None:
    ring = KeyRing(SigningKey(new_secret(), clock.now()))
    verified = VerifiedTokens(size=2)
    claims = JwtTokens(SwappableKeys(ring), LIFETIME, clock)
    first, second, third = (claims.issue(uuid.uuid4(), READ, clock.now())[0] for _ in range(3))
    for token in (first, second, third):
        verified.put(token, ring, claims.verify(token))

    assert verified.get(first, ring) is None
    assert verified.get(second, ring) is not None
    assert verified.get(third, ring) is not None
