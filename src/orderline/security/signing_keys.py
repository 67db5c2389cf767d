"""Our token-signing keys: secrets named by a key id (kid), one current, earlier ones still accepted."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol


class KeysUnavailable(RuntimeError):
    """No usable signing keys: none configured where they must be, or a key file that cannot be used."""


def key_id(secret: str) -> str:
    """A kid derived from the secret, so every process names a key alike without storing the name.

    It reveals nothing a token's own HS256 signature does not already: both are one-way functions of the
    secret that can only be attacked by guessing it, which its length (at least 32 bytes) prevents.
    """
    digest = hashlib.sha256(b"orderline signing key id\x00" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def new_secret() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class SigningKey:
    secret: str
    created_at: datetime | None = None  # None for a key from the environment: its age is not known
    retired_at: datetime | None = None

    @property
    def kid(self) -> str:
        return key_id(self.secret)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The current key signs; every key of the ring (current included) verifies the tokens it signed."""

    current: SigningKey
    previous: tuple[SigningKey, ...] = ()

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        return (self.current, *self.previous)

    def find(self, kid: str) -> SigningKey | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def rotated(self, new: SigningKey, now: datetime, keep_for: timedelta) -> KeyRing:
        """``new`` signs from ``now``; the current key is retired; keys retired ``keep_for`` ago or longer
        are dropped, since every token they signed has expired by then."""
        retired = (replace(self.current, retired_at=now), *self.previous)
        kept = tuple(key for key in retired if key.retired_at is None or now - key.retired_at < keep_for)
        return KeyRing(new, kept)

    def without_previous(self) -> KeyRing:
        """Only the current key: every token the others signed is refused (for a key that leaked)."""
        return KeyRing(self.current)


class KeySource(Protocol):
    def ring(self) -> KeyRing:
        """The keys as they stand now (a key file may have been rotated since the last call)."""
        ...


@dataclass(frozen=True, slots=True)
class FixedKeys:
    """Keys that do not change while the process runs (from the environment)."""

    keys: KeyRing

    def ring(self) -> KeyRing:
        return self.keys
