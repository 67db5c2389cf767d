"""The e2e tier's reused apps (tests/e2e/conftest.py, Apps): one app per configuration, each start on the
database and clock of the test that starts it, and nothing of one test's counts seen by the next."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import pytest

from orderline.application.principal import PUBLIC
from orderline.bootstrap import build
from orderline.config import Settings
from tests.e2e.conftest import Apps
from tests.e2e.lifespan import lifespan_of
from tests.support import FAST_HASHER, TEST_GATEWAY_SECRET, SteppingClock, a_pet, engine_settings


async def test_an_app_started_again_opens_the_database_of_the_test_that_starts_it(
    apps: Apps, sqlite_template: Path, tmp_path: Path, clock: SteppingClock
) -> None:
    first, second = (_settings_on_a_copy(sqlite_template, tmp_path / name) for name in ("first.db", "second.db"))

    app = apps.app(first, lambda: build(first, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(app):
        pet = await a_pet(app.state.use_cases)
        there = await app.state.use_cases.catalogue.list_pets(PUBLIC, limit=10)
    again = apps.app(second, lambda: build(second, clock=clock, hasher=FAST_HASHER))
    async with lifespan_of(again):
        elsewhere = await again.state.use_cases.catalogue.list_pets(PUBLIC, limit=10)

    assert again is app
    assert [p.id for p in there.items] == [pet.id]
    assert elsewhere.items == []


def _settings_on_a_copy(template: Path, path: Path) -> Settings:
    shutil.copyfile(template, path)
    return engine_settings(f"sqlite:///{path}", refund_poll_seconds=0, test_gateway_secret=TEST_GATEWAY_SECRET)


@pytest.mark.parametrize("own", [{"metrics_token": "scrape-me-0123456789abcdef"}, {"redis_url": "redis://127.0.0.1:1"}])
def test_an_app_that_keeps_counts_or_a_circuit_of_its_own_is_never_reused(
    apps: Apps, settings: Settings, clock: SteppingClock, own: dict[str, str]
) -> None:
    settings = msgspec.structs.replace(settings, **own)

    def opened() -> object:
        return apps.app(settings, lambda: build(settings, clock=clock, hasher=FAST_HASHER))

    assert opened() is not opened()
