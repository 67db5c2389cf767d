"""A logger built once (logs.CachedLogger) for a line written at every request: built again whenever the logging
is configured again, writing wherever sys.stderr then points."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

from orderline import logs


@pytest.fixture(autouse=True)
def configured_back() -> Iterator[None]:
    yield
    logs.configure("info", "console")


def test_it_is_built_once_while_the_configuration_stands() -> None:
    logger = logs.CachedLogger("orderline.test")

    assert logger.get() is logger.get()


def test_it_follows_each_new_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logs.CachedLogger("orderline.test")

    logs.configure("warning", "json")
    logger.get().info("hidden")
    logs.configure("info", "json")
    logger.get().info("shown", n=1)

    (line,) = capsys.readouterr().err.splitlines()
    assert (json.loads(line)["event"], json.loads(line)["n"]) == ("shown", 1)


def test_it_follows_structlogs_own_configure_and_capture_logs() -> None:
    logger = logs.CachedLogger("orderline.test")
    logger.get().debug("before")  # built at info

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    with capture_logs() as lines:
        logger.get().debug("after")

    assert [line["event"] for line in lines] == ["after"]


def test_it_writes_to_sys_stderr_as_it_is_at_each_line(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logs.CachedLogger("orderline.test")
    logs.configure("info", "json")
    logger.get().info("first")
    later = io.StringIO()

    monkeypatch.setattr(sys, "stderr", later)
    logger.get().info("second")

    assert [json.loads(line)["event"] for line in later.getvalue().splitlines()] == ["second"]
