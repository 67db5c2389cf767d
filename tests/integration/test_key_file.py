"""The key file on a real file system: private from birth, refused when others may read it, rotated safely
by several processes at once, and where the keys must come from when there is no key file."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orderline.config import Settings
from orderline.security import key_file
from orderline.security.key_file import KeyFile, KeyFileError
from orderline.security.key_sources import load_keys, token_key_file
from orderline.security.signing_keys import FixedKeys, KeysUnavailable
from tests.support import START, TEST_GATEWAY_SECRET, TEST_JWT_SECRET

LIFETIME = timedelta(hours=24)
POSTGRES = "postgresql://orderline@db.internal/shop"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "shop.db.keys"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away, so only the code can make the file private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# Creation


@pytest.mark.usefixtures("open_umask")
def test_a_new_key_file_is_readable_by_its_owner_only(path: Path) -> None:
    created = key_file.create(path, START)

    assert created
    assert mode_of(path) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == [path.name]  # no draft left behind


def test_a_key_file_that_exists_is_not_replaced(path: Path) -> None:
    key_file.create(path, START)
    before = path.read_bytes()

    created = key_file.create(path, START)

    assert not created
    assert path.read_bytes() == before


def _create_at(path: Path, at: float) -> str:
    time.sleep(max(0.0, at - time.time()))
    key_file.create(path, datetime.now(UTC))
    return key_file.read(path).ring.current.kid


def test_processes_starting_together_on_a_new_database_all_get_the_same_key(path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as separate `serve` processes are
    with ProcessPoolExecutor(6, mp_context=spawn) as pool:
        start = time.time() + 2  # after every worker has imported orderline
        kids = list(pool.map(_create_at, [path] * 6, [start] * 6))

    assert len(set(kids)) == 1
    assert [entry.name for entry in path.parent.iterdir()] == [path.name]


# Refusals


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o610], ids=oct)
def test_a_key_file_other_users_may_open_is_refused(path: Path, mode: int) -> None:
    key_file.create(path, START)
    path.chmod(mode)

    with pytest.raises(KeyFileError, match=f"is open to other users \\(mode {mode:04o}\\).*chmod 600 {path}"):
        KeyFile(path)


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700], ids=oct)
def test_a_key_file_only_its_owner_may_open_is_used(path: Path, mode: int) -> None:
    key_file.create(path, START)
    path.chmod(mode)

    assert KeyFile(path).ring().current.secret


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"", "is not an orderline key file"),
        (b'{"format": 2, "signing_keys": [], "test_gateway_secret": ""}', "is not an orderline key file"),
        (b'{"format": 1, "signing_keys": [], "test_gateway_secret": "whsec_"}', "one current signing key"),
        (
            b'{"format": 1, "signing_keys": [{"secret": "short", "created_at": "2026-01-01T00:00:00Z"}],'
            b' "test_gateway_secret": "' + TEST_GATEWAY_SECRET.encode() + b'"}',
            "shorter than 32 bytes",
        ),
    ],
)
def test_a_file_that_is_not_a_usable_key_file_is_refused(path: Path, content: bytes, complaint: str) -> None:
    path.write_bytes(content)
    path.chmod(0o600)

    with pytest.raises(KeyFileError, match=complaint):
        KeyFile(path)


def test_a_missing_key_file_named_by_the_operator_is_refused_and_not_created(path: Path) -> None:
    settings = Settings(database_url=POSTGRES, keys_file=str(path))

    with pytest.raises(KeysUnavailable, match="does not exist: create it with `orderline signing-keys rotate`"):
        load_keys(settings, None, START)

    assert not path.exists()


# Where the keys come from


@pytest.mark.parametrize(
    ("secrets", "missing"),
    [
        ({}, "set ORDERLINE_JWT_SECRET and ORDERLINE_TEST_GATEWAY_SECRET, or ORDERLINE_KEYS_FILE"),
        ({"jwt_secret": TEST_JWT_SECRET}, "set ORDERLINE_TEST_GATEWAY_SECRET, or ORDERLINE_KEYS_FILE"),
        ({"test_gateway_secret": TEST_GATEWAY_SECRET}, "set ORDERLINE_JWT_SECRET, or ORDERLINE_KEYS_FILE"),
    ],
)
def test_postgresql_without_keys_from_the_operator_is_refused_naming_the_variables(
    secrets: dict[str, Any], missing: str
) -> None:
    settings = Settings(database_url=POSTGRES, **secrets)

    with pytest.raises(KeysUnavailable, match=missing):
        load_keys(settings, None, START)


def test_postgresql_with_both_secrets_in_the_environment_needs_no_key_file() -> None:
    settings = Settings(database_url=POSTGRES, jwt_secret=TEST_JWT_SECRET, test_gateway_secret=TEST_GATEWAY_SECRET)

    keys = load_keys(settings, None, START)

    assert isinstance(keys.tokens, FixedKeys)
    assert keys.test_gateway_secret == TEST_GATEWAY_SECRET


def test_postgresql_reads_the_key_file_the_operator_names(path: Path) -> None:
    key_file.create(path, START)
    settings = Settings(database_url=POSTGRES, keys_file=str(path))

    keys = load_keys(settings, None, START)

    assert keys.tokens.ring() == key_file.read(path).ring
    assert keys.test_gateway_secret == key_file.read(path).test_gateway_secret


def test_sqlite_creates_its_key_file_beside_the_database_on_first_start(path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{path.with_suffix('')}")

    keys = load_keys(settings, path, START)

    assert mode_of(path) == 0o600
    assert keys.tokens.ring() == key_file.read(path).ring


def test_a_secret_in_the_environment_signs_even_beside_a_key_file(path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{path.with_suffix('')}", jwt_secret=TEST_JWT_SECRET)

    keys = load_keys(settings, path, START)

    assert keys.tokens.ring().current.secret == TEST_JWT_SECRET
    assert keys.test_gateway_secret == key_file.read(path).test_gateway_secret  # the one the environment lacks


def test_rotating_a_key_file_is_refused_while_the_environment_signs(path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{path.with_suffix('')}", jwt_secret=TEST_JWT_SECRET)

    with pytest.raises(KeysUnavailable, match="move its value into ORDERLINE_JWT_PREVIOUS_SECRETS"):
        token_key_file(settings, path)


# Rotation


def test_a_rotation_keeps_the_callback_secret_and_the_file_private(path: Path) -> None:
    key_file.create(path, START)
    before = key_file.read(path)

    rotation = key_file.rotate(path, START + timedelta(hours=1), LIFETIME)

    after = key_file.read(path)
    assert rotation.before == before.ring
    assert after.ring == rotation.after
    assert after.ring.previous[0].kid == before.ring.current.kid
    assert after.test_gateway_secret == before.test_gateway_secret
    assert mode_of(path) == 0o600


def test_rotating_where_there_is_no_key_file_creates_one(path: Path) -> None:
    rotation = key_file.rotate(path, START, LIFETIME)

    assert rotation.before is None
    assert key_file.read(path).ring == rotation.after


def test_a_rotation_that_drops_previous_keys_keeps_only_the_new_one(path: Path) -> None:
    key_file.create(path, START)

    rotation = key_file.rotate(path, START + timedelta(hours=1), LIFETIME, drop_previous=True)

    assert key_file.read(path).ring.keys == (rotation.after.current,)


def _rotate_at(path: Path, at: float) -> str:
    time.sleep(max(0.0, at - time.time()))
    return key_file.rotate(path, datetime.now(UTC), LIFETIME).after.current.kid


def test_rotations_by_several_processes_at_once_lose_no_key(path: Path) -> None:
    key_file.create(path, START)
    first = key_file.read(path).ring.current.kid
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(6, mp_context=spawn) as pool:
        start = time.time() + 2
        new_kids = list(pool.map(_rotate_at, [path] * 6, [start] * 6))

    ring = key_file.read(path).ring
    assert {key.kid for key in ring.keys} == {first, *new_kids}
    assert ring.current.kid in new_kids
    assert len(ring.keys) == 7


def test_a_running_service_sees_a_rotation_made_by_another_process(path: Path) -> None:
    key_file.create(path, START)
    keys = KeyFile(path)
    before = keys.ring()

    rotation = key_file.rotate(path, START + timedelta(hours=1), LIFETIME)

    assert keys.ring() == rotation.after != before


def test_a_running_service_keeps_its_keys_when_the_file_becomes_unusable(path: Path) -> None:
    key_file.create(path, START)
    keys = KeyFile(path)
    before = keys.ring()

    path.chmod(0o644)
    while_open = keys.ring()
    path.unlink()
    while_gone = keys.ring()

    assert while_open == while_gone == before
