"""ORDERLINE_SANDBOX and ORDERLINE_PRODUCTION: sandbox controls are off unless asked for, and never in production."""

from __future__ import annotations

import pytest

from orderline.config import Settings, SettingsError


def test_sandbox_controls_and_production_mode_are_off_unless_set() -> None:
    settings = Settings.load({})

    assert (settings.sandbox, settings.production) == (False, False)


def test_sandbox_controls_are_turned_on_from_the_environment() -> None:
    assert Settings.load({"ORDERLINE_SANDBOX": "true"}).sandbox is True


def test_sandbox_controls_are_turned_on_by_a_flag() -> None:
    assert Settings.load({}, sandbox=True).sandbox is True


def test_production_mode_alone_is_accepted() -> None:
    assert Settings.load({"ORDERLINE_PRODUCTION": "true"}).production is True


def test_sandbox_controls_in_production_mode_are_refused_naming_both_variables() -> None:
    with pytest.raises(SettingsError, match=r"^ORDERLINE_SANDBOX=true is refused in production \(ORDERLINE_PRODUCTION"):
        Settings.load({"ORDERLINE_SANDBOX": "true", "ORDERLINE_PRODUCTION": "true"})


def test_the_sandbox_flag_in_production_mode_is_refused_too() -> None:
    with pytest.raises(SettingsError, match="refused in production"):
        Settings.load({"ORDERLINE_PRODUCTION": "1"}, sandbox=True)
