"""Our token-signing keys: secrets long enough, tokens naming their key, rotation that keeps old tokens valid."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

import jwt
import pytest

from orderline.application.errors import Unauthenticated
from orderline.application.principal import Scope
from orderline.config import Settings, SettingsError
from orderline.security.signing_keys import FixedKeys, KeyRing, SigningKey, key_id, new_secret
from orderline.security.tokens import JwtTokens
from tests.support import SteppingClock

LIFETIME = timedelta(hours=24)
LONG = "x" * 32  # exactly the shortest secret accepted
ALICE = uuid.uuid4()


class SwitchableKeys:
    """A key source an operator rotates (as the key file is, by another process)."""

    def __init__(self, ring: KeyRing) -> None:
        self.keys = ring

    def ring(self) -> KeyRing:
        return self.keys


def a_ring(clock: SteppingClock) -> KeyRing:
    return KeyRing(SigningKey(new_secret(), clock.now()))


def tokens_of(keys: SwitchableKeys, clock: SteppingClock) -> JwtTokens:
    return JwtTokens(keys, LIFETIME, clock)


# Settings: secrets too short to sign with are refused, naming the variable


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"ORDERLINE_JWT_SECRET": "x" * 31}, "ORDERLINE_JWT_SECRET: a secret of 31 bytes is too short"),
        ({"ORDERLINE_JWT_SECRET": LONG, "ORDERLINE_JWT_PREVIOUS_SECRETS": f"{LONG}, short"}, "PREVIOUS_SECRETS"),
        ({"ORDERLINE_JWT_PREVIOUS_SECRETS": LONG}, "ORDERLINE_JWT_PREVIOUS_SECRETS needs ORDERLINE_JWT_SECRET"),
        ({"ORDERLINE_TEST_GATEWAY_SECRET": "whsec_c2hvcnQ="}, "ORDERLINE_TEST_GATEWAY_SECRET: a secret of 5 bytes"),
        ({"ORDERLINE_TEST_GATEWAY_SECRET": "whsec_not base64!"}, "ORDERLINE_TEST_GATEWAY_SECRET: expected whsec_"),
    ],
)
def test_a_secret_too_short_or_malformed_is_refused_naming_its_variable(
    environment: dict[str, str], complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        Settings.load(environment)


@pytest.mark.parametrize("variable", ["ORDERLINE_JWT_SECRET", "ORDERLINE_TEST_GATEWAY_SECRET", "ORDERLINE_KEYS_FILE"])
def test_an_empty_secret_variable_means_unset(variable: str) -> None:
    settings = Settings.load({variable: ""})

    assert not getattr(settings, variable.removeprefix("ORDERLINE_").lower())


def test_secrets_of_32_bytes_are_accepted() -> None:
    gateway = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes

    settings = Settings.load(
        {
            "ORDERLINE_JWT_SECRET": LONG,
            "ORDERLINE_JWT_PREVIOUS_SECRETS": f"{'y' * 32},{'z' * 40}",
            "ORDERLINE_TEST_GATEWAY_SECRET": gateway,
        }
    )

    assert settings.jwt_secret == LONG


# Key ids


def test_a_key_id_is_the_same_for_the_same_secret_and_differs_between_secrets() -> None:
    secret = new_secret()

    assert key_id(secret) == key_id(secret)
    assert key_id(secret) != key_id(new_secret())
    assert secret not in key_id(secret)


# Rotation of a ring


def test_a_rotation_signs_with_the_new_key_and_retires_the_old_one(clock: SteppingClock) -> None:
    ring = a_ring(clock)
    new = SigningKey(new_secret(), clock.now())

    rotated = ring.rotated(new, clock.now(), LIFETIME)

    assert rotated.current == new
    assert [key.kid for key in rotated.previous] == [ring.current.kid]
    assert rotated.previous[0].retired_at is not None


def test_a_key_retired_for_a_token_lifetime_is_dropped_at_the_next_rotation(clock: SteppingClock) -> None:
    first = a_ring(clock)
    second = first.rotated(SigningKey(new_secret(), clock.now()), clock.now(), LIFETIME)
    clock.advance(LIFETIME - timedelta(seconds=1))
    third = second.rotated(SigningKey(new_secret(), clock.now()), clock.now(), LIFETIME)
    clock.advance(timedelta(seconds=1))

    fourth = third.rotated(SigningKey(new_secret(), clock.now()), clock.now(), LIFETIME)

    assert first.current.kid in {key.kid for key in third.keys}
    assert first.current.kid not in {key.kid for key in fourth.keys}
    assert [key.kid for key in fourth.keys] == [fourth.current.kid, third.current.kid, second.current.kid]


# Tokens name the key that signed them


def test_a_token_names_the_current_key_in_its_kid_header(clock: SteppingClock) -> None:
    keys = SwitchableKeys(a_ring(clock))

    token, _ = tokens_of(keys, clock).issue(ALICE, frozenset({Scope.READ_ORDERS}), clock.now())

    assert jwt.get_unverified_header(token)["kid"] == keys.keys.current.kid


def test_a_token_issued_before_a_rotation_is_accepted_after_it(clock: SteppingClock) -> None:
    keys = SwitchableKeys(a_ring(clock))
    tokens = tokens_of(keys, clock)
    token, _ = tokens.issue(ALICE, frozenset(), clock.now())

    keys.keys = keys.keys.rotated(SigningKey(new_secret(), clock.now()), clock.now(), LIFETIME)

    assert tokens.verify(token).subject == str(ALICE)
    newer, _ = tokens.issue(ALICE, frozenset(), clock.now())
    assert jwt.get_unverified_header(newer)["kid"] == keys.keys.current.kid != jwt.get_unverified_header(token)["kid"]


def signed(header: dict[str, object], claims: dict[str, object], secret: str) -> str:
    """An HS256 JWT written out by hand, so its header can hold what PyJWT would refuse to write."""
    parts = [base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=") for part in (header, claims)]
    signature = hmac.new(secret.encode(), b".".join(parts), hashlib.sha256).digest()
    return b".".join([*parts, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()


@pytest.mark.parametrize("kid", [None, "unknown-kid", 42, ["a", "b"]])
def test_a_token_signed_with_our_key_but_naming_another_kid_or_none_is_refused(
    clock: SteppingClock, kid: object
) -> None:
    keys = SwitchableKeys(a_ring(clock))
    now = int(clock.now().timestamp())
    claims = {"iss": "orderline", "sub": str(ALICE), "iat": now, "exp": now + 600}
    header = {"alg": "HS256", "typ": "JWT"} | ({} if kid is None else {"kid": kid})
    token = signed(header, claims, keys.keys.current.secret)

    with pytest.raises(Unauthenticated):
        tokens_of(keys, clock).verify(token)


def test_a_hand_written_token_naming_the_current_kid_is_accepted(clock: SteppingClock) -> None:
    """The refusals above are about the kid, not about how the tokens were written."""
    keys = SwitchableKeys(a_ring(clock))
    now = int(clock.now().timestamp())
    claims = {"iss": "orderline", "sub": str(ALICE), "iat": now, "exp": now + 600}
    token = signed({"alg": "HS256", "typ": "JWT", "kid": keys.keys.current.kid}, claims, keys.keys.current.secret)

    assert tokens_of(keys, clock).verify(token).subject == str(ALICE)


def test_a_token_of_a_key_no_longer_in_the_ring_is_refused(clock: SteppingClock) -> None:
    keys = SwitchableKeys(a_ring(clock))
    tokens = tokens_of(keys, clock)
    token, _ = tokens.issue(ALICE, frozenset(), clock.now())

    keys.keys = keys.keys.rotated(SigningKey(new_secret(), clock.now()), clock.now(), LIFETIME).without_previous()

    with pytest.raises(Unauthenticated):
        tokens.verify(token)


def test_keys_from_the_environment_accept_the_previous_secrets_tokens(clock: SteppingClock) -> None:
    old = FixedKeys(KeyRing(SigningKey("o" * 32)))
    token, _ = JwtTokens(old, LIFETIME, clock).issue(ALICE, frozenset(), clock.now())
    new = FixedKeys(KeyRing(SigningKey("n" * 32), (SigningKey("o" * 32),)))

    claims = JwtTokens(new, LIFETIME, clock).verify(token)

    assert claims.subject == str(ALICE)
