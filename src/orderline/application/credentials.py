"""Bearer secrets we mint (API keys, anonymous order tokens): made random, shown once, kept as a hash."""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX = "olk_"
ORDER_TOKEN_PREFIX = "olo_"  # noqa: S105 - a prefix, not a secret


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # A secret carries 256 random bits, so a fast hash is enough: nothing to brute-force, and a
    # slow password hash (argon2) would cost every request tens of milliseconds.
    return hashlib.sha256(secret.encode()).hexdigest()
