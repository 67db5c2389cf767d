"""A user (customer, support staff or administrator): profile rules, status, and what a weak password is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from orderline.domain.errors import InvalidUser, WeakPassword
from orderline.domain.text import SPACE

# The patterns the OpenAPI document states too, so they use only what Python and ECMA-262 read alike.
USERNAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$"
# Deliberately plain: one @, a dot in the domain, no whitespace. Deliverability is not checkable here.
_NOT_SPACE_OR_AT = f"[^@{SPACE}]"
EMAIL_PATTERN = f"^{_NOT_SPACE_OR_AT}{{1,64}}@{_NOT_SPACE_OR_AT}+\\.{_NOT_SPACE_OR_AT}{{2,}}$"
MAX_EMAIL = 254  # characters of the address in lower case, as stored (RFC 5321's limit)
PHONE_PATTERN = r"^\+?[0-9 ()-]{5,20}$"
_USERNAME = re.compile(USERNAME_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)
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
    SUPPORT = "SUPPORT"  # the shop's support staff: every order, to read and act on; never erase, users or keys


def check_username(username: str) -> str:
    """A valid username, in lower case: usernames are unique whatever their case (ASCII, so as long)."""
    if not _USERNAME.fullmatch(username):
        raise InvalidUser(
            "a username is 3 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="username",
        )
    return username.lower()


def check_email(email: str) -> str:
    """The address in lower case, checked as it will be stored: "İ".lower() is two code points, so an
    address can grow past the limit only once lowered."""
    lowered = email.lower()
    if not _EMAIL.fullmatch(lowered):
        raise InvalidUser(f"{email!r} is not an email address", field="email")
    if len(lowered) > MAX_EMAIL:
        raise InvalidUser(f"an email address has at most {MAX_EMAIL} characters in lower case", field="email")
    return lowered


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
        """Suspend or reactivate. Deleting is ``delete``, which also scrubs the personal data."""
        if self.status is UserStatus.DELETED:
            raise InvalidUser("a deleted account cannot change status", field="status")
        if status is UserStatus.DELETED:
            raise InvalidUser("an account is closed by deleting it, not by setting its status", field="status")
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
