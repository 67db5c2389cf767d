"""A user (customer or administrator): profile rules, status, and what a weak password is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from orderline.domain.errors import InvalidUser, WeakPassword

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,31}")
# Deliberately plain: one @, a dot in the domain, no spaces. Deliverability is not checkable here.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
_PHONE = re.compile(r"\+?[0-9 ()-]{5,20}")
MIN_PASSWORD = 10
MAX_PASSWORD = 128
_COMMON = frozenset(
    {"password", "passw0rd", "1234567890", "qwertyuiop", "letmein123", "iloveyou12", "password12",
     "administrator", "welcome123", "changeme12", "0123456789", "qwerty1234", "1q2w3e4r5t"}
)  # fmt: skip


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DELETED = "DELETED"


class Role(StrEnum):
    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"


def check_username(username: str) -> str:
    """A valid username, in lower case: usernames are unique whatever their case."""
    if not _USERNAME.fullmatch(username):
        raise InvalidUser(
            "a username is 3 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="username",
        )
    return username.lower()


def check_email(email: str) -> str:
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidUser(f"{email!r} is not an email address", field="email")
    return email.lower()


def check_phone(phone: str | None) -> str | None:
    if phone is not None and not _PHONE.fullmatch(phone):
        raise InvalidUser(f"{phone!r} is not a phone number", field="phone")
    return phone


def check_password(password: str, username: str) -> str:
    """Long enough, not a well-known password, not the username, not one character repeated."""
    lowered = password.lower()
    if len(password) < MIN_PASSWORD:
        reason = f"it needs at least {MIN_PASSWORD} characters"
    elif len(password) > MAX_PASSWORD:
        reason = f"it may have at most {MAX_PASSWORD} characters"
    elif lowered in _COMMON or len(set(password)) < 4:
        reason = "it is too easy to guess"
    elif username.lower() in lowered:
        reason = "it contains the username"
    else:
        return password
    raise WeakPassword(f"the password is too weak: {reason}", field="password")


@dataclass(slots=True)
class User:
    id: UUID
    username: str
    email: str
    password_hash: str
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    status_reason: str | None = None
    version: int = 1

    @property
    def is_active(self) -> bool:
        return self.status is UserStatus.ACTIVE

    def change_status(self, status: UserStatus, reason: str | None, now: datetime) -> None:
        if self.status is UserStatus.DELETED:
            raise InvalidUser("a deleted account cannot change status", field="status")
        self.status = status
        self.status_reason = reason
        self._touch(now)

    def delete(self, now: datetime) -> None:
        """Close the account: credentials stop working; personal data is scrubbed, the id stays."""
        self.status = UserStatus.DELETED
        self.email = f"deleted-{self.id}@invalid"
        self.username = f"deleted-{self.id.hex[:20]}"
        self.first_name = self.last_name = self.phone = None
        self.password_hash = ""
        self._touch(now)

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
