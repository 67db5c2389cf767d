"""Signing keys through the real app on both engines: a database backup mints no token, and rotating the key
file keeps earlier tokens valid until they expire and refuses keys that were never ours or are gone."""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orderline.application.errors import Unauthenticated
from orderline.application.principal import PUBLIC, SYSTEM, PrincipalKind
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.bootstrap import build, default_key_file
from orderline.config import Settings
from orderline.domain.user import Role
from orderline.security import key_file
from orderline.security.key_sources import token_key_file
from orderline.storage.database import DatabaseUrl
from tests.e2e.http import as_owner, assert_problem, bearer, make_pet, place, register
from tests.e2e.test_payments_api import payment
from tests.support import FAST_HASHER, START, TEST_GATEWAY_SECRET, SteppingClock, engine_settings

LIFETIME = timedelta(seconds=86400)  # the default token lifetime
ADMIN_ONLY = "/v1/admin/dashboard"
PASSWORD = "correct horse battery"
UNLIMITED = "default=100000/60,auth=100000/60"  # the attacker's hundreds of tries must reach the check


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Keys from a key file on both engines: beside the SQLite database, made on first start; for PostgreSQL
    the file ORDERLINE_KEYS_FILE names, which the operator made once with a rotation."""
    keys_file: str | None = None
    if database_url.startswith("postgresql"):
        keys_file = str(tmp_path / "orderline.keys")
        key_file.rotate(Path(keys_file), START, LIFETIME)
    return Settings(database_url=database_url, keys_file=keys_file, refund_poll_seconds=0, rate_limits=UNLIMITED)


@pytest.fixture
def keys(settings: Settings) -> Path:
    return token_key_file(settings, default_key_file(DatabaseUrl.parse(settings.database_url)))


def forged(secret: str, kid: str, subject: uuid.UUID, clock: SteppingClock, *, scope: str = "admin") -> str:
    """A fresh token for ``subject``, signed with ``secret`` as if it were the key named ``kid``."""
    now = int(clock.now().timestamp())
    claims = {"iss": "orderline", "sub": str(subject), "scope": scope, "iat": now, "exp": now + 600,
              "jti": str(uuid.uuid4())}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)  # the attacker tries short values too
        return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def an_admin(use_cases: UseCases, username: str = "root-admin") -> uuid.UUID:
    registration = Registration(username, f"{username}@example.com", PASSWORD)
    return (await use_cases.users.register(SYSTEM, registration, Role.ADMIN)).id


async def log_in(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post("/v1/auth/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def a_busy_shop(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """Customers with tokens, orders placed, paid and cancelled, a voucher, API keys: what a backup holds."""
    alice = await register(client, "alice")
    await register(client, "bob")
    voucher = await client.post("/v1/admin/vouchers", json={"code": "spring10", "percentOff": 10}, headers=admin)
    assert voucher.status_code == 201, voucher.text
    pet = await make_pet(client, admin, stock=5)
    await place(client, pet["id"], headers=alice)
    anonymous = await place(client, pet["id"])
    url = f"/v1/orders/{anonymous['id']}"
    paid = await client.post(f"{url}/payment", json=payment(anonymous), headers=as_owner(anonymous))
    assert paid.status_code == 200, paid.text
    retried = as_owner(anonymous) | {"Idempotency-Key": "cancel-1"}
    cancelled = await client.post(f"{url}/cancel", json={"reason": "CUSTOMER_REQUEST"}, headers=retried)
    assert cancelled.status_code == 200, cancelled.text


def _values(connection: Connection) -> set[str]:
    found: set[str] = set()
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):
            for value in row:
                if value is not None:
                    found.update(_texts(value))
    return found


def _texts(value: Any) -> Iterator[str]:
    """The value as text, and every string inside it when it is JSON (a secret could hide in a document)."""
    as_text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
    yield as_text
    try:
        document = json.loads(as_text)
    except ValueError:
        return
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend(item)


async def every_value_in(database_url: str) -> set[str]:
    """What anyone holding a backup reads: every value of every table there is, as text."""
    engine = create_async_engine(DatabaseUrl.parse(database_url).sqlalchemy_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_values)
    finally:
        await engine.dispose()


# An attacker with a backup


async def test_no_value_in_a_database_backup_signs_an_admin_token_the_service_accepts(
    client: httpx.AsyncClient,
    app_use_cases: UseCases,
    admin: dict[str, str],
    settings: Settings,
    keys: Path,
    clock: SteppingClock,
) -> None:
    root = await an_admin(app_use_cases)
    await log_in(client, "root-admin")
    await a_busy_shop(client, admin)
    key_file.rotate(keys, clock.now(), LIFETIME)  # a retired key, still accepted, is worth stealing too
    await log_in(client, "alice")
    ring = key_file.read(keys).ring
    genuine = await client.get(ADMIN_ONLY, headers=bearer(forged(ring.current.secret, ring.current.kid, root, clock)))
    assert genuine.status_code == 200, "forging with the real key must work, or this test proves nothing"

    backup = await every_value_in(settings.database_url)
    accepted = [
        value
        for value in sorted(backup)
        for key in ring.keys
        if (await client.get(ADMIN_ONLY, headers=bearer(forged(value, key.kid, root, clock)))).status_code != 401
    ]

    assert len(backup) > 100  # the backup holds the shop: users, tokens, orders, payments, keys, audit
    assert str(root) in backup or root.hex in backup
    assert accepted == []


# Rotating the key file


async def test_a_token_issued_before_a_rotation_is_accepted_after_it_until_it_expires(
    client: httpx.AsyncClient, keys: Path, clock: SteppingClock
) -> None:
    alice = await register(client, "alice")

    key_file.rotate(keys, clock.now(), LIFETIME)

    assert (await client.get("/v1/users/me", headers=alice)).status_code == 200
    clock.advance(LIFETIME)
    assert_problem(await client.get("/v1/users/me", headers=alice), 401, "unauthorized")


async def test_tokens_issued_after_a_rotation_are_signed_with_the_new_key(
    client: httpx.AsyncClient, keys: Path, clock: SteppingClock
) -> None:
    before = kid_of((await register(client, "alice"))["Authorization"].split()[1])

    rotation = key_file.rotate(keys, clock.now(), LIFETIME)

    token = await log_in(client, "alice")
    assert kid_of(token) == rotation.after.current.kid != before
    assert (await client.get("/v1/users/me", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize("kid", ["not-a-key-of-ours", ""])
async def test_a_token_naming_a_key_we_do_not_have_is_refused(
    client: httpx.AsyncClient, app_use_cases: UseCases, keys: Path, clock: SteppingClock, kid: str
) -> None:
    root = await an_admin(app_use_cases)
    current = key_file.read(keys).ring.current

    response = await client.get(ADMIN_ONLY, headers=bearer(forged(current.secret, kid, root, clock)))

    assert_problem(response, 401, "unauthorized")


async def test_a_key_retired_for_longer_than_a_token_lives_is_removed_and_its_tokens_refused(
    client: httpx.AsyncClient, app_use_cases: UseCases, keys: Path, clock: SteppingClock
) -> None:
    root = await an_admin(app_use_cases)
    old = key_file.read(keys).ring.current
    key_file.rotate(keys, clock.now(), LIFETIME)
    while_retired = await client.get(ADMIN_ONLY, headers=bearer(forged(old.secret, old.kid, root, clock)))
    clock.advance(LIFETIME)

    rotation = key_file.rotate(keys, clock.now(), LIFETIME)

    response = await client.get(ADMIN_ONLY, headers=bearer(forged(old.secret, old.kid, root, clock)))
    assert while_retired.status_code == 200
    assert old.kid not in {key.kid for key in rotation.after.keys}
    assert_problem(response, 401, "unauthorized")


async def test_a_rotation_that_drops_previous_keys_refuses_their_tokens_at_once(
    client: httpx.AsyncClient, keys: Path, clock: SteppingClock
) -> None:
    alice = await register(client, "alice")

    key_file.rotate(keys, clock.now(), LIFETIME, drop_previous=True)

    assert_problem(await client.get("/v1/users/me", headers=alice), 401, "unauthorized")


async def test_a_token_already_accepted_is_refused_at_once_when_its_key_is_dropped(
    client: httpx.AsyncClient, keys: Path, clock: SteppingClock
) -> None:
    # Verified tokens are remembered (ADR 0033, round 2): a changed key ring must forget them.
    alice = await register(client, "alice")
    assert (await client.get("/v1/users/me", headers=alice)).status_code == 200

    key_file.rotate(keys, clock.now(), LIFETIME, drop_previous=True)

    assert_problem(await client.get("/v1/users/me", headers=alice), 401, "unauthorized")


# Rotating a secret in the environment


FIRST, SECOND = "first-secret-" + "a" * 32, "second-secret-" + "b" * 32


@asynccontextmanager
async def running_with(
    database_url: str, clock: SteppingClock, current: str, previous: str = ""
) -> AsyncIterator[UseCases]:
    """The service (re)started with ORDERLINE_JWT_SECRET=current and ORDERLINE_JWT_PREVIOUS_SECRETS=previous."""
    settings = engine_settings(database_url, jwt_secret=current, jwt_previous_secrets=previous,
                               test_gateway_secret=TEST_GATEWAY_SECRET)  # fmt: skip
    use_cases = await build(settings, clock=clock, hasher=FAST_HASHER)
    try:
        yield use_cases
    finally:
        await use_cases.close()


async def test_a_token_of_a_previous_environment_secret_is_accepted_until_that_secret_is_removed(
    database_url: str, clock: SteppingClock
) -> None:
    async with running_with(database_url, clock, FIRST) as use_cases:
        await use_cases.users.register(SYSTEM, Registration("alice", "alice@example.com", PASSWORD))
        token = (await use_cases.users.issue_token(PUBLIC, "alice", PASSWORD)).token

    async with running_with(database_url, clock, SECOND, previous=FIRST) as use_cases:
        rotated = await use_cases.authenticator.authenticate(token)
    async with running_with(database_url, clock, SECOND) as use_cases:
        with pytest.raises(Unauthenticated):
            await use_cases.authenticator.authenticate(token)

    assert rotated.kind == PrincipalKind.USER
