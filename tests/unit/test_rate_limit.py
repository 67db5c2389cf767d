"""Rate limits without a server: the settings, the in-memory fixed window, route groups and identities."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from orderline.application.errors import Unauthenticated
from orderline.application.principal import ANONYMOUS, Principal, PrincipalKind
from orderline.config import RATE_LIMIT_GROUPS, Settings, SettingsError, parse_rate_limits
from orderline.http.auth import identity_of
from orderline.http.counters import Decision, MemoryLimiter
from orderline.http.rate_limit import group_of


class ManualClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def a_scope(outcome: Principal | Unauthenticated | None, address: str | None = "198.51.100.7") -> Any:
    return {
        "type": "http",
        "client": (address, 40000) if address else None,
        "state": {} if outcome is None else {"principal": outcome},
    }


# Settings


def test_the_default_limits_apply_when_none_are_set() -> None:
    assert parse_rate_limits("") == RATE_LIMIT_GROUPS


def test_named_groups_override_their_default_and_the_others_keep_theirs() -> None:
    limits = parse_rate_limits(" auth = 5/300 , default=100/60")

    assert limits == {"default": (100, 60), "write": RATE_LIMIT_GROUPS["write"], "auth": (5, 300)}


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("default", "is not GROUP=REQUESTS/SECONDS"),
        ("default=100", "is not GROUP=REQUESTS/SECONDS"),
        ("default=0/60", "is not GROUP=REQUESTS/SECONDS"),
        ("default=100/0", "is not GROUP=REQUESTS/SECONDS"),
        ("default=100/86401", "is not GROUP=REQUESTS/SECONDS"),
        ("default=-1/60", "is not GROUP=REQUESTS/SECONDS"),
        ("default=²/60", "is not GROUP=REQUESTS/SECONDS"),
        ("login=5/60", "no group 'login'"),
        ("auth=5/60,auth=6/60", "'auth' is given twice"),
    ],
)
def test_an_unusable_rate_limit_setting_is_refused_at_start_up(value: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint):
        Settings.load({"ORDERLINE_RATE_LIMITS": value})


def test_a_redis_url_must_name_redis() -> None:
    with pytest.raises(SettingsError, match="ORDERLINE_REDIS_URL"):
        Settings.load({"ORDERLINE_REDIS_URL": "http://127.0.0.1:6379"})


def test_an_empty_redis_url_means_no_redis() -> None:
    settings = Settings.load({"ORDERLINE_REDIS_URL": ""})

    assert not settings.redis_url


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORDERLINE_REDIS_TIMEOUT", "0"),
        ("ORDERLINE_REDIS_TIMEOUT", "-0.05"),
        ("ORDERLINE_REDIS_TIMEOUT", "10.5"),
        ("ORDERLINE_REDIS_TIMEOUT", "soon"),
        ("ORDERLINE_REDIS_COOLDOWN", "0"),
        ("ORDERLINE_REDIS_COOLDOWN", "3601"),
    ],
)
def test_a_redis_timeout_or_cooldown_out_of_range_is_refused_at_start_up(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}={value} is not accepted"):
        Settings.load({variable: value})


def test_the_redis_timeout_and_cooldown_are_read_in_seconds() -> None:
    settings = Settings.load({"ORDERLINE_REDIS_TIMEOUT": "0.02", "ORDERLINE_REDIS_COOLDOWN": "30"})

    assert (settings.redis_timeout, settings.redis_cooldown) == (0.02, 30.0)


# The in-memory fixed window


async def test_requests_up_to_the_limit_are_allowed_and_the_next_is_refused() -> None:
    limiter = MemoryLimiter(ManualClock())

    decisions = [await limiter.hit("k", 3, 60) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert {d.limit for d in decisions} == {3}


async def test_the_reset_counts_down_to_the_end_of_the_window_in_whole_seconds() -> None:
    clock = ManualClock()
    limiter = MemoryLimiter(clock)
    first = await limiter.hit("k", 3, 60)

    clock.now += 20.5
    later = await limiter.hit("k", 3, 60)

    assert first.reset_after == 60
    assert later.reset_after == 40


async def test_a_new_window_opens_when_the_last_one_ends() -> None:
    clock = ManualClock()
    limiter = MemoryLimiter(clock)
    for _ in range(2):
        await limiter.hit("k", 1, 60)

    clock.now += 60
    reopened = await limiter.hit("k", 1, 60)

    assert reopened == Decision(allowed=True, limit=1, remaining=0, reset_after=60)


async def test_each_key_has_a_window_of_its_own() -> None:
    limiter = MemoryLimiter(ManualClock())
    await limiter.hit("one", 1, 60)

    other = await limiter.hit("other", 1, 60)

    assert other.allowed


async def test_concurrent_hits_allow_exactly_the_limit() -> None:
    limiter = MemoryLimiter(ManualClock())

    decisions = await asyncio.gather(*(limiter.hit("k", 5, 60) for _ in range(20)))

    assert sum(d.allowed for d in decisions) == 5


async def test_ended_windows_are_dropped_so_memory_stays_bounded() -> None:
    clock = ManualClock()
    limiter = MemoryLimiter(clock, sweep_every=60)
    for caller in range(100):
        await limiter.hit(f"caller-{caller}", 10, 30)

    clock.now += 61
    await limiter.hit("someone-new", 10, 30)

    assert len(limiter) == 1


# Route groups and identities


@pytest.mark.parametrize(
    ("method", "path", "group"),
    [
        ("POST", "/v1/auth/tokens", "auth"),
        ("POST", "/v1/users", "auth"),
        ("GET", "/v1/users/{user_id}", "default"),
        ("GET", "/v1/orders", "default"),
        ("HEAD", "/v1/pets", "default"),
        ("POST", "/v1/orders", "write"),
        ("PUT", "/v1/pets/{pet_id}", "write"),
        ("DELETE", "/v1/orders/{order_id}", "write"),
    ],
)
def test_each_route_belongs_to_one_group(method: str, path: str, group: str) -> None:
    assert group_of(method, path) == group


def test_a_principal_is_counted_by_kind_and_id() -> None:
    key_id = uuid.uuid4()

    identity = identity_of(a_scope(Principal(PrincipalKind.API_KEY, key_id)))

    assert identity == f"api_key:{key_id}"


@pytest.mark.parametrize(
    "outcome",
    [ANONYMOUS, Unauthenticated("the API key is unknown or has been revoked"), None],
    ids=["anonymous", "refused credential", "not authenticated yet"],
)
def test_everyone_else_is_counted_by_address(outcome: Principal | Unauthenticated | None) -> None:
    assert identity_of(a_scope(outcome)) == "address:198.51.100.7"


def test_a_request_without_a_client_address_shares_one_bucket() -> None:
    assert identity_of(a_scope(ANONYMOUS, address=None)) == "address:unknown"


def test_the_headers_say_the_limit_what_is_left_and_when_it_resets() -> None:
    decision = Decision.of(count=4, limit=3, seconds_left=0.2)

    assert decision.headers() == {"RateLimit-Limit": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "1"}
