"""ORDERLINE_DIALECTS: which other order APIs are mounted; a name orderline does not speak is refused."""

from __future__ import annotations

import pytest

from orderline.config import DIALECTS, Settings, SettingsError, parse_dialects


def test_the_dialects_named_are_mounted_in_the_order_given_each_once() -> None:
    assert parse_dialects(" SFOX, drf ,sfox") == ["sfox", "drf"]


def test_an_empty_list_mounts_none() -> None:
    assert parse_dialects("") == []


def test_every_dialect_orderline_speaks_can_be_named() -> None:
    assert parse_dialects(",".join(DIALECTS)) == list(DIALECTS)


def test_a_dialect_orderline_does_not_speak_is_refused_naming_the_variable_and_the_choices() -> None:
    with pytest.raises(SettingsError, match=r"^ORDERLINE_DIALECTS: no dialect 'stripe'; the dialects are shoplazza, "):
        Settings.load({"ORDERLINE_DIALECTS": "sfox,stripe"})
