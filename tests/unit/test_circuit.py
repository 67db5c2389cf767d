"""The circuit breaker's state machine, on a clock that moves only when a test says so."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs
from structlog.typing import EventDict

from orderline.http.circuit import CircuitBreaker, CircuitOpen, CircuitState

COOLDOWN = 5.0


class ManualClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Dependency:
    """A remote call that answers or fails as the test says, and counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.failing = False

    async def __call__(self) -> str:
        self.calls += 1
        if self.failing:
            raise ConnectionError("no answer")
        return "answer"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def breaker(clock: ManualClock) -> CircuitBreaker:
    return CircuitBreaker("test dependency", cooldown=COOLDOWN, failures=(ConnectionError,), clock=clock)


@pytest.fixture
def dependency() -> Dependency:
    return Dependency()


@pytest.fixture
def logs() -> Iterator[list[EventDict]]:
    """What the breaker logs, debug lines included, whatever level the run is configured for."""
    configured = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as captured:
            yield captured
    finally:
        structlog.configure(wrapper_class=configured)


async def fail_once(breaker: CircuitBreaker, dependency: Dependency) -> None:
    dependency.failing = True
    with pytest.raises(ConnectionError):
        await breaker.call(dependency)
    dependency.failing = False


async def test_a_new_breaker_is_closed_and_lets_calls_through(breaker: CircuitBreaker, dependency: Dependency) -> None:
    answer = await breaker.call(dependency)

    assert answer == "answer"
    assert breaker.state is CircuitState.CLOSED


async def test_a_failure_opens_the_circuit(breaker: CircuitBreaker, dependency: Dependency) -> None:
    await fail_once(breaker, dependency)

    assert breaker.state is CircuitState.OPEN


async def test_a_failure_while_calls_made_after_it_are_answered_leaves_the_circuit_closed(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    fail_now = asyncio.Event()

    async def failing_late() -> str:
        await fail_now.wait()
        raise ConnectionError("no answer in time")

    late = asyncio.create_task(breaker.call(failing_late))
    await asyncio.sleep(0)
    clock.now += 0.01
    await breaker.call(Dependency())
    clock.now += 0.04

    fail_now.set()
    with pytest.raises(ConnectionError):
        await late

    assert breaker.state is CircuitState.CLOSED


async def test_a_failure_opens_the_circuit_when_nothing_was_answered_since_the_failed_call_began(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock
) -> None:
    await breaker.call(dependency)
    clock.now += 0.01

    await fail_once(breaker, dependency)

    assert breaker.state is CircuitState.OPEN


async def test_a_failure_while_other_calls_wait_opens_the_circuit_once_they_have_all_failed_too(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    fail_now = asyncio.Event()

    async def failing_later() -> str:
        await fail_now.wait()
        raise ConnectionError("no answer")

    waiting = asyncio.create_task(breaker.call(failing_later))
    await asyncio.sleep(0)
    clock.now += 0.01
    await fail_once(breaker, Dependency())
    states = [breaker.state]

    fail_now.set()
    with pytest.raises(ConnectionError):
        await waiting
    states.append(breaker.state)

    assert states == [CircuitState.CLOSED, CircuitState.OPEN]


async def test_a_failure_is_forgiven_when_a_call_that_waited_with_it_is_answered(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    answer_now = asyncio.Event()

    async def answering_later() -> str:
        await answer_now.wait()
        return "answer"

    waiting = asyncio.create_task(breaker.call(answering_later))
    await asyncio.sleep(0)
    clock.now += 0.01
    await fail_once(breaker, Dependency())

    answer_now.set()
    await waiting

    assert breaker.state is CircuitState.CLOSED


async def test_an_open_circuit_refuses_calls_without_making_them(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock
) -> None:
    await fail_once(breaker, dependency)
    clock.now += COOLDOWN - 0.001

    with pytest.raises(CircuitOpen):
        await breaker.call(dependency)

    assert dependency.calls == 1


async def test_the_circuit_is_half_open_once_the_cooldown_has_passed(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock
) -> None:
    await fail_once(breaker, dependency)

    clock.now += COOLDOWN

    assert breaker.state is CircuitState.HALF_OPEN


async def test_a_half_open_circuit_lets_one_trial_call_through_and_refuses_the_others_at_once(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    await fail_once(breaker, Dependency())
    clock.now += COOLDOWN
    answer_the_trial = asyncio.Event()

    async def slow_answer() -> str:
        await answer_the_trial.wait()
        return "answer"

    trial = asyncio.create_task(breaker.call(slow_answer))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):
        await breaker.call(slow_answer)
    answer_the_trial.set()

    assert await trial == "answer"


async def test_a_successful_trial_closes_the_circuit(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock
) -> None:
    await fail_once(breaker, dependency)
    clock.now += COOLDOWN

    await breaker.call(dependency)

    assert breaker.state is CircuitState.CLOSED
    assert await breaker.call(dependency) == "answer"


async def test_a_failed_trial_opens_the_circuit_for_another_cooldown(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock
) -> None:
    await fail_once(breaker, dependency)
    clock.now += COOLDOWN

    await fail_once(breaker, dependency)
    states = [breaker.state]
    clock.now += COOLDOWN - 0.001
    states.append(breaker.state)
    clock.now += 0.001
    states.append(breaker.state)

    assert states == [CircuitState.OPEN, CircuitState.OPEN, CircuitState.HALF_OPEN]


async def test_a_trial_that_ends_without_an_answer_leaves_the_next_call_to_try(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock
) -> None:
    await fail_once(breaker, dependency)
    clock.now += COOLDOWN
    trial = asyncio.create_task(breaker.call(asyncio.Event().wait))
    await asyncio.sleep(0)

    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    after_the_trial = breaker.state

    assert after_the_trial is CircuitState.HALF_OPEN
    assert await breaker.call(dependency) == "answer"
    assert breaker.state is CircuitState.CLOSED


async def test_an_error_that_is_not_a_failure_of_the_dependency_leaves_the_circuit_closed(
    breaker: CircuitBreaker,
) -> None:
    async def mistaken() -> str:
        raise ValueError("a bug of ours, not the dependency's failure")

    with pytest.raises(ValueError, match="a bug of ours"):
        await breaker.call(mistaken)

    assert breaker.state is CircuitState.CLOSED


async def test_calls_that_fail_together_open_the_circuit_once(
    breaker: CircuitBreaker, clock: ManualClock, logs: list[EventDict]
) -> None:
    fail_now = asyncio.Event()

    async def failing_together() -> str:
        await fail_now.wait()
        raise ConnectionError("no answer")

    calls = [asyncio.create_task(breaker.call(failing_together)) for _ in range(10)]
    await asyncio.sleep(0)

    fail_now.set()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    clock.now += COOLDOWN - 0.001

    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    assert breaker.state is CircuitState.OPEN
    assert [log["event"] for log in logs] == ["circuit open: calls fail fast until a trial call succeeds"]


async def test_a_late_answer_of_a_call_made_before_the_circuit_opened_leaves_it_open(
    breaker: CircuitBreaker, clock: ManualClock
) -> None:
    fail_waiter, answer_late = asyncio.Event(), asyncio.Event()

    async def failing_later() -> str:
        await fail_waiter.wait()
        raise ConnectionError("no answer")

    async def answering_late() -> str:
        await answer_late.wait()
        return "late answer"

    waiter = asyncio.create_task(breaker.call(failing_later))
    await asyncio.sleep(0)
    clock.now += 0.01
    await fail_once(breaker, Dependency())
    late = asyncio.create_task(breaker.call(answering_late))
    await asyncio.sleep(0)
    fail_waiter.set()
    with pytest.raises(ConnectionError):
        await waiter

    answer_late.set()

    assert await late == "late answer"
    assert breaker.state is CircuitState.OPEN


def events(logs: list[EventDict]) -> list[tuple[str, str]]:
    return [(log["log_level"], log["event"]) for log in logs]


async def test_an_outage_logs_one_error_when_it_starts_and_one_line_when_it_ends(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock, logs: list[EventDict]
) -> None:
    await fail_once(breaker, dependency)
    for _ in range(3):
        for _ in range(5):
            with pytest.raises(CircuitOpen):
                await breaker.call(dependency)
        clock.now += COOLDOWN
        await fail_once(breaker, dependency)
    clock.now += COOLDOWN

    for _ in range(5):
        await breaker.call(dependency)

    assert [event for event in events(logs) if event[0] != "debug"] == [
        ("error", "circuit open: calls fail fast until a trial call succeeds"),
        ("info", "circuit closed: calls go through again"),
    ]
    assert logs[0]["circuit"] == "test dependency"
    assert logs[0]["error"] == "ConnectionError: no answer"


async def test_each_trial_and_its_failure_are_logged_once_at_debug_level(
    breaker: CircuitBreaker, dependency: Dependency, clock: ManualClock, logs: list[EventDict]
) -> None:
    await fail_once(breaker, dependency)
    clock.now += COOLDOWN

    await fail_once(breaker, dependency)
    with pytest.raises(CircuitOpen):
        await breaker.call(dependency)

    assert events(logs) == [
        ("error", "circuit open: calls fail fast until a trial call succeeds"),
        ("debug", "circuit half-open: one trial call"),
        ("debug", "circuit open again: the trial call failed"),
    ]
