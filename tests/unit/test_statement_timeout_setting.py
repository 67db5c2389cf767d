"""ORDERLINE_DB_STATEMENT_TIMEOUT: seconds, more than zero and at most an hour; anything else is refused."""

from __future__ import annotations

import pytest

from orderline.config import Settings, SettingsError


def test_the_statement_timeout_is_five_seconds_unless_set() -> None:
    assert Settings.load({}).db_statement_timeout == 5.0


def test_the_statement_timeout_is_read_in_seconds_from_the_environment() -> None:
    assert Settings.load({"ORDERLINE_DB_STATEMENT_TIMEOUT": "0.25"}).db_statement_timeout == 0.25


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon"])
def test_a_statement_timeout_that_would_not_bound_anything_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match=f"^ORDERLINE_DB_STATEMENT_TIMEOUT={value} is not accepted"):
        Settings.load({"ORDERLINE_DB_STATEMENT_TIMEOUT": value})


def test_an_empty_statement_timeout_counts_as_unset() -> None:
    assert Settings.load({"ORDERLINE_DB_STATEMENT_TIMEOUT": ""}).db_statement_timeout == 5.0
