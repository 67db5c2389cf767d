"""Users' checked fields: each is normalised first and checked as it will be stored, so it always fits."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderline.domain.errors import InvalidUser
from orderline.domain.user import MAX_EMAIL, Role, User, UserStatus, check_email, check_username

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# Characters whose lower case is longer than they are ("İ" becomes "i̇"), mixed into the usual ones.
GROWING = st.text(st.sampled_from("İI@.abc-") | st.characters(), max_size=300)


@given(GROWING)
def test_a_checked_email_fits_its_column_and_is_already_normalised(email: str) -> None:
    try:
        stored = check_email(email)
    except InvalidUser:
        return

    assert len(stored) <= MAX_EMAIL
    assert check_email(stored) == stored


def test_an_email_that_outgrows_the_limit_once_lowered_is_refused() -> None:
    email = "a@" + "İ" * 200 + ".com"  # 206 characters; "İ".lower() is two code points: 406

    with pytest.raises(InvalidUser, match="in lower case"):
        check_email(email)


@given(st.text(max_size=100))
def test_a_checked_username_fits_its_column_and_is_already_normalised(username: str) -> None:
    try:
        stored = check_username(username)
    except InvalidUser:
        return

    assert len(stored) <= 32
    assert check_username(stored) == stored


@pytest.mark.parametrize("username", ["İbrahim", "\u212aelvin", "ﬀoo"], ids=["dotted-i", "kelvin-sign", "ligature"])
def test_a_username_is_ascii_as_written_not_only_once_lowered(username: str) -> None:
    with pytest.raises(InvalidUser):
        check_username(username)


def test_an_account_is_not_closed_by_setting_its_status() -> None:
    user = User(UUID(int=1), "carol", "carol@example.com", "hash", Role.CUSTOMER, UserStatus.ACTIVE, NOW, NOW)

    with pytest.raises(InvalidUser):
        user.change_status(UserStatus.DELETED, None, NOW)

    assert (user.status, user.email) == (UserStatus.ACTIVE, "carol@example.com")
