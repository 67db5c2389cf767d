"""Where the signing keys come from: the environment, else a key file; never the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from orderline.config import Settings, previous_secrets
from orderline.security import key_file
from orderline.security.key_file import KeyFile
from orderline.security.signing_keys import FixedKeys, KeyRing, KeySource, KeysUnavailable, SigningKey


@dataclass(frozen=True, slots=True)
class Keys:
    tokens: KeySource
    test_gateway_secret: str


def load_keys(settings: Settings, default_file: Path | None, now: datetime) -> Keys:
    """The keys of this configuration. ``default_file`` is the key file beside an SQLite database (None for
    PostgreSQL); it is created on first use, while a file named by ORDERLINE_KEYS_FILE must exist."""
    if settings.jwt_secret and settings.test_gateway_secret:
        return Keys(FixedKeys(environment_ring(settings)), settings.test_gateway_secret)
    path = key_file_path(settings, default_file)
    if not settings.keys_file:
        key_file.create(path, now)
    file = KeyFile(path)
    tokens = FixedKeys(environment_ring(settings)) if settings.jwt_secret else file
    return Keys(tokens, settings.test_gateway_secret or file.test_gateway_secret)


def environment_ring(settings: Settings) -> KeyRing:
    assert settings.jwt_secret is not None
    return KeyRing(SigningKey(settings.jwt_secret), tuple(SigningKey(s) for s in previous_secrets(settings)))


def key_file_path(settings: Settings, default_file: Path | None) -> Path:
    if settings.keys_file:
        return Path(settings.keys_file)
    if default_file is not None:
        return default_file
    # Several processes on several hosts share a PostgreSQL database: a key file each one made for itself
    # would sign tokens the others refuse, so the keys must come from the operator.
    missing = [
        name
        for name, value in (("ORDERLINE_JWT_SECRET", settings.jwt_secret),
                            ("ORDERLINE_TEST_GATEWAY_SECRET", settings.test_gateway_secret))
        if not value
    ]  # fmt: skip
    raise KeysUnavailable(
        f"PostgreSQL keeps no signing keys: set {' and '.join(missing)}, or ORDERLINE_KEYS_FILE to a key file"
        " every process reads (make it with `orderline signing-keys rotate`)"
    )


def token_key_file(settings: Settings, default_file: Path | None) -> Path:
    if settings.jwt_secret:
        raise KeysUnavailable(
            "tokens are signed with ORDERLINE_JWT_SECRET, not a key file: to rotate, move its value into"
            " ORDERLINE_JWT_PREVIOUS_SECRETS, set a new ORDERLINE_JWT_SECRET and restart every process"
        )
    if not settings.keys_file and default_file is None:
        raise KeysUnavailable("PostgreSQL has no key file beside it: set ORDERLINE_KEYS_FILE to the file to rotate")
    return key_file_path(settings, default_file)
