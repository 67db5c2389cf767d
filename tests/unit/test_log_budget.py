"""The log budget and the event loop's exception handler on it: a flood of one error becomes a few lines."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
import uvloop

from orderline.server.log_budget import MAX_KINDS, LogBudget
from orderline.server.loop_errors import log_loop_errors_within


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_line_of_a_kind_goes_out_and_repeats_within_the_interval_are_held_back() -> None:
    budget = LogBudget(10, ManualClock())

    decisions = [budget.allow("accept failed") for _ in range(5)]

    assert decisions == [0, None, None, None, None]


def test_the_first_line_after_the_interval_counts_the_lines_held_back() -> None:
    clock = ManualClock()
    budget = LogBudget(10, clock)
    for _ in range(5):
        budget.allow("accept failed")

    clock.now += 10

    assert budget.allow("accept failed") == 4
    assert budget.allow("accept failed") is None


def test_each_kind_has_its_own_budget() -> None:
    budget = LogBudget(10, ManualClock())
    budget.allow("accept failed")

    assert budget.allow("connection limit") == 0


def test_the_budget_forgets_kinds_rather_than_grow_without_bound() -> None:
    budget = LogBudget(10, ManualClock())
    for kind in range(MAX_KINDS * 3):
        budget.allow(f"kind {kind}")

    assert len(budget) <= MAX_KINDS


LOOPS: list[Callable[[], asyncio.AbstractEventLoop]] = [asyncio.new_event_loop, uvloop.new_event_loop]


@pytest.mark.parametrize("new_loop", LOOPS, ids=["asyncio", "uvloop"])
def test_a_flood_of_one_event_loop_error_logs_one_line_per_interval(
    new_loop: Callable[[], asyncio.AbstractEventLoop], caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    loop = new_loop()
    try:
        log_loop_errors_within(LogBudget(10, clock), loop)
        flood = {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many open files")}

        with caplog.at_level(logging.ERROR, logger="asyncio"):
            for _ in range(1000):
                loop.call_exception_handler(flood)
            clock.now += 10
            loop.call_exception_handler(flood)
    finally:
        loop.close()

    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "socket.accept() out of system resource",
        "socket.accept() out of system resource (999 more like this in the last 10 s, not logged)",
    ]
