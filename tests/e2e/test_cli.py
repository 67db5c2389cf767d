"""The command line against a real server process on a real port: serve, migrate and keys."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support import TEST_GATEWAY_SECRET, TEST_JWT_SECRET

ORDERLINE = [sys.executable, "-m", "orderline"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORDERLINE, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


@contextmanager
def _serving(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [*ORDERLINE, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"serve exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{base}/v1/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("serve did not become ready in 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()


def test_serve_with_demo_starts_on_a_fresh_sqlite_file_with_a_catalogue(tmp_path: Path) -> None:
    with _serving("--demo", cwd=tmp_path) as base:
        pets = httpx.get(f"{base}/v1/pets", params={"limit": 100}).json()["data"]
        schema = httpx.get(f"{base}/schema/openapi.json")

    assert (tmp_path / "orderline.db").exists()
    assert len(pets) >= 8
    assert len({pet["species"] for pet in pets}) >= 3
    assert any(pet["stock"] > 1 for pet in pets)
    assert schema.json()["openapi"].startswith("3.1")


def test_demo_is_added_only_to_an_empty_catalogue(tmp_path: Path) -> None:
    with _serving("--demo", cwd=tmp_path) as base:
        first = len(httpx.get(f"{base}/v1/pets", params={"limit": 100}).json()["data"])
    with _serving("--demo", cwd=tmp_path) as base:
        second = len(httpx.get(f"{base}/v1/pets", params={"limit": 100}).json()["data"])

    assert first == second


def test_a_created_key_works_until_it_is_revoked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    created = _run(
        "keys", "create", "--scopes", "read:orders,write:orders", "--name", "ci", "--database-url", url, cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    listed = _run("keys", "list", "--database-url", url, cwd=tmp_path)
    key_id = next(line.split()[0] for line in listed.stdout.splitlines() if " ci " in line)

    with _serving("--database-url", url, cwd=tmp_path) as base:
        before = httpx.get(f"{base}/v1/orders", headers={"Authorization": f"Bearer {secret}"})
        revoked = _run("keys", "revoke", key_id, "--database-url", url, cwd=tmp_path)
        after = httpx.get(f"{base}/v1/orders", headers={"Authorization": f"Bearer {secret}"})

    assert before.status_code == 200
    assert revoked.returncode == 0, revoked.stderr
    assert after.status_code == 401
    assert "active" in listed.stdout
    assert secret not in listed.stdout


def test_the_database_url_comes_from_the_environment(tmp_path: Path) -> None:
    env = os.environ | {"ORDERLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'from-env.db'}"}

    result = _run("keys", "create", "--scopes", "admin", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()


@pytest.mark.parametrize("scopes", ["read:everything", ""])
def test_an_unknown_scope_is_refused_with_a_clear_message(tmp_path: Path, scopes: str) -> None:
    result = _run(
        "keys", "create", "--scopes", scopes, "--database-url", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path
    )

    assert result.returncode == 1
    assert "scope" in result.stderr


def test_a_bad_database_url_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    result = _run("migrate", "--database-url", "mysql://localhost/shop", cwd=tmp_path)

    assert result.returncode == 1
    assert "unsupported database" in result.stderr


@pytest.mark.postgres
def test_serve_refuses_an_unmigrated_postgresql_until_migrate_runs(tmp_path: Path, postgres_server_url: str) -> None:
    import asyncio

    import asyncpg

    name = f"orderline_cli_{os.getpid()}"

    async def sql(statement: str) -> None:
        connection = await asyncpg.connect(postgres_server_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(sql(f"DROP DATABASE IF EXISTS {name}"))
    asyncio.run(sql(f"CREATE DATABASE {name}"))
    url = postgres_server_url.rsplit("/", 1)[0] + "/" + name
    env = os.environ | {"ORDERLINE_JWT_SECRET": TEST_JWT_SECRET, "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET}
    try:
        refused = _run("serve", "--database-url", url, "--port", str(_free_port()), cwd=tmp_path, env=env)
        migrated = _run("migrate", "--database-url", url, cwd=tmp_path)
        with _serving("--database-url", url, "--demo", cwd=tmp_path, env=env) as base:
            pets = httpx.get(f"{base}/v1/pets").json()["data"]
    finally:
        asyncio.run(sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    assert refused.returncode == 1
    assert "orderline migrate" in refused.stderr
    assert migrated.returncode == 0, migrated.stderr
    assert pets


def test_the_first_admin_is_created_from_the_command_line_with_the_password_on_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    create = ["users", "create", "--username", "root-admin", "--email", "ops@example.com", "--database-url", url]

    without_stdin = _run(*create, "--admin", cwd=tmp_path)
    weak = _run(*create, "--admin", "--password-stdin", cwd=tmp_path, stdin="short\n")
    made = _run(*create, "--admin", "--password-stdin", cwd=tmp_path, stdin="a long admin passphrase\n")
    with _serving("--database-url", url, cwd=tmp_path) as base:
        token = httpx.post(
            f"{base}/v1/auth/tokens", json={"username": "root-admin", "password": "a long admin passphrase"}
        ).json()["token"]
        dashboard = httpx.get(f"{base}/v1/admin/dashboard", headers={"Authorization": f"Bearer {token}"})

    assert without_stdin.returncode == 1
    assert "--password-stdin" in without_stdin.stderr
    assert weak.returncode == 1
    assert "too weak" in weak.stderr
    assert made.returncode == 0, made.stderr
    assert "admin root-admin" in made.stdout
    assert dashboard.status_code == 200


def _without_orderline_variables() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")}


def _an_admin(url: str, cwd: Path) -> None:
    create = ["users", "create", "--username", "root-admin", "--email", "ops@example.com", "--admin"]
    made = _run(*create, "--password-stdin", "--database-url", url, cwd=cwd, stdin="a long admin passphrase\n")
    assert made.returncode == 0, made.stderr


def _log_in(base: str) -> str:
    body = {"username": "root-admin", "password": "a long admin passphrase"}
    token: str = httpx.post(f"{base}/v1/auth/tokens", json=body).json()["token"]
    return token


def _dashboard(base: str, token: str) -> int:
    return httpx.get(f"{base}/v1/admin/dashboard", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_rotation_from_the_command_line_reaches_a_running_server_and_keeps_earlier_tokens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _an_admin(url, tmp_path)

    with _serving("--database-url", url, cwd=tmp_path) as base:
        before = _log_in(base)
        rotated = _run("signing-keys", "rotate", "--database-url", url, cwd=tmp_path)
        after = _log_in(base)
        statuses = (_dashboard(base, before), _dashboard(base, after))

    assert rotated.returncode == 0, rotated.stderr
    assert f"rotated the key file {tmp_path / 'shop.db.keys'}" in rotated.stdout
    assert f"signing from now on: {jwt.get_unverified_header(after)['kid']}" in rotated.stdout
    assert f"still accepted until its tokens expire: {jwt.get_unverified_header(before)['kid']}" in rotated.stdout
    assert statuses == (200, 200)


def test_signing_keys_are_listed_by_id_never_by_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    for _ in range(2):
        _run("signing-keys", "rotate", "--database-url", url, cwd=tmp_path)

    listed = _run("signing-keys", "list", "--database-url", url, cwd=tmp_path)

    secrets = [key["secret"] for key in json.loads((tmp_path / "shop.db.keys").read_text())["signing_keys"]]
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[1] for line in listed.stdout.splitlines()[2:]] == ["current", "retired"]
    assert not any(secret in listed.stdout for secret in secrets)


def test_serve_refuses_a_key_file_other_users_may_read_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _run("signing-keys", "rotate", "--database-url", url, cwd=tmp_path)
    (tmp_path / "shop.db.keys").chmod(0o644)

    refused = _run("serve", "--database-url", url, "--port", str(_free_port()), cwd=tmp_path)

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"orderline: the key file {tmp_path / 'shop.db.keys'} is open to other users (mode 0644); it must be"
        f" 0600: chmod 600 {tmp_path / 'shop.db.keys'}"
    ]


@pytest.mark.postgres
def test_serve_on_postgresql_without_signing_keys_refuses_in_one_line_naming_the_variables(
    tmp_path: Path, postgres_database: str
) -> None:
    env = _without_orderline_variables()

    refused = _run("serve", "--database-url", postgres_database, "--port", str(_free_port()), cwd=tmp_path, env=env)

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "orderline: PostgreSQL keeps no signing keys: set ORDERLINE_JWT_SECRET and ORDERLINE_TEST_GATEWAY_SECRET,"
        " or ORDERLINE_KEYS_FILE to a key file every process reads (make it with `orderline signing-keys rotate`)"
    ]
