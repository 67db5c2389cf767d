"""The background recovery loop: a database outage is two log lines, not one traceback a round."""

from __future__ import annotations

import asyncio
import contextlib

from structlog.testing import capture_logs

from orderline.application.errors import DatabaseUnavailable
from orderline.application.recovery import Recovery


class Rounds(Recovery):
    """Recovery whose rounds fail as told, then stop the loop."""

    def __init__(self, outcomes: list[BaseException | None]) -> None:
        self._outcomes = outcomes

    async def run_once(self) -> None:
        if not self._outcomes:
            raise asyncio.CancelledError
        outcome = self._outcomes.pop(0)
        if outcome is not None:
            raise outcome


async def test_a_database_outage_is_logged_when_it_starts_and_when_it_ends_only() -> None:
    down = DatabaseUnavailable.timed_out(5)
    rounds = Rounds([down, down, down, None, None])

    with capture_logs() as lines, contextlib.suppress(asyncio.CancelledError):
        await rounds.run(0)

    assert [line["event"] for line in lines] == [
        "recovery waits: the database is unavailable",
        "recovery goes on: the database answers again",
    ]


async def test_another_failure_is_logged_with_its_traceback_every_round() -> None:
    rounds = Rounds([RuntimeError("a bug"), RuntimeError("a bug")])

    with capture_logs() as lines, contextlib.suppress(asyncio.CancelledError):
        await rounds.run(0)

    assert [line["event"] for line in lines] == ["recovery round failed; trying again next round"] * 2
    assert all(line["log_level"] == "error" for line in lines)
