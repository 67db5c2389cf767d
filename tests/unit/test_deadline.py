"""Deadlines for remote calls, timed by a process that may stall: fake remote calls, short real waits.

The deadlines here are 50 ms, and a stall is the test blocking its own event loop with time.sleep, as a
busy loop or a garbage collection would.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from orderline.http.deadline import Deadline, DeadlineExceeded, NoFreeSlot

SECONDS = 0.05


class Remote:
    """A remote call that answers when the test says so, and remembers whether it was made and cancelled."""

    def __init__(self) -> None:
        self.answer_now = asyncio.Event()
        self.called = False
        self.cancelled = False

    async def __call__(self) -> str:
        self.called = True
        try:
            await self.answer_now.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return "answer"


async def test_an_answer_within_the_deadline_is_returned() -> None:
    remote = Remote()
    remote.answer_now.set()

    answer = await Deadline(SECONDS, slots=1).run(remote)

    assert answer == "answer"


async def test_a_call_not_answered_by_the_deadline_is_cancelled() -> None:
    remote = Remote()

    with pytest.raises(DeadlineExceeded, match=r"no answer within 0\.05 s"):
        await Deadline(SECONDS, slots=1).run(remote)

    assert remote.cancelled


async def test_an_error_of_the_call_is_raised_as_it_is() -> None:
    async def refused() -> str:
        raise ConnectionRefusedError("nothing listens there")

    with pytest.raises(ConnectionRefusedError, match="nothing listens there"):
        await Deadline(SECONDS, slots=1).run(refused)


async def test_an_answer_that_came_due_with_the_deadline_wins() -> None:
    loop = asyncio.get_running_loop()
    remote = Remote()
    call = asyncio.create_task(Deadline(SECONDS, slots=1).run(remote))
    await asyncio.sleep(0)
    loop.call_later(SECONDS / 2, remote.answer_now.set)

    time.sleep(SECONDS * 1.2)  # noqa: ASYNC251  # a stall shorter than half the deadline past it
    answer = await call

    assert answer == "answer"


async def test_a_deadline_the_process_overslept_is_given_once_more() -> None:
    async def answers_after_a_turn_of_the_loop() -> str:
        await asyncio.sleep(0.001)
        return "answer"

    call = asyncio.create_task(Deadline(SECONDS, slots=1).run(answers_after_a_turn_of_the_loop))
    await asyncio.sleep(0)

    time.sleep(SECONDS * 4)  # noqa: ASYNC251  # the stall, before the call could even start
    answer = await call

    assert answer == "answer"


async def test_a_wait_for_a_slot_the_process_overslept_is_given_once_more() -> None:
    loop = asyncio.get_running_loop()
    deadline = Deadline(SECONDS, slots=1)
    holding, waiting = Remote(), Remote()
    waiting.answer_now.set()
    calls = [asyncio.create_task(deadline.run(remote)) for remote in (holding, waiting)]
    await asyncio.sleep(0)
    loop.call_later(SECONDS / 2, holding.answer_now.set)

    time.sleep(SECONDS * 4)  # noqa: ASYNC251  # the stall, in which the slot became free
    answers = await asyncio.gather(*calls)

    assert answers == ["answer", "answer"]


async def test_a_call_that_found_no_free_slot_in_time_is_told_so_and_never_made() -> None:
    deadline = Deadline(SECONDS, slots=1)
    holding, next_in_line, too_late = Remote(), Remote(), Remote()
    calls = [asyncio.create_task(deadline.run(remote)) for remote in (holding, next_in_line, too_late)]

    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    assert isinstance(outcomes[0], DeadlineExceeded)
    assert isinstance(outcomes[2], NoFreeSlot)
    assert str(outcomes[2]) == "all 1 slots stayed in use for 0.05 s"
    assert not too_late.called


async def test_a_call_takes_the_slot_another_call_leaves() -> None:
    deadline = Deadline(SECONDS, slots=1)
    first, second = Remote(), Remote()
    calls = [asyncio.create_task(deadline.run(remote)) for remote in (first, second)]
    await asyncio.sleep(0)

    first.answer_now.set()
    second.answer_now.set()

    assert await asyncio.gather(*calls) == ["answer", "answer"]
