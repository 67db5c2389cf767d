"""The command line against real processes: serve, migrate, keys and users, and what each says about its database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest

from orderline import __version__
from tests.e2e.process import ORDERLINE, free_port, run, serving, started
from tests.support import TEST_GATEWAY_SECRET, TEST_JWT_SECRET

# PostgreSQL keeps no signing keys: a server on it is given them, as an operator must (ADR 0015).
POSTGRES_KEYS = {"ORDERLINE_JWT_SECRET": TEST_JWT_SECRET, "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET}


def test_serve_with_demo_starts_on_a_fresh_sqlite_file_with_a_catalogue(tmp_path: Path) -> None:
    with serving("--demo", cwd=tmp_path) as server:
        pets = httpx.get(f"{server.base}/v1/pets", params={"limit": 100}).json()["data"]
        schema = httpx.get(f"{server.base}/schema/openapi.json")

    assert (tmp_path / "orderline.db").exists()
    assert len(pets) >= 8
    assert len({pet["species"] for pet in pets}) >= 3
    assert any(pet["stock"] > 1 for pet in pets)
    assert schema.json()["openapi"].startswith("3.1")


def test_demo_is_added_only_to_an_empty_catalogue(tmp_path: Path) -> None:
    with serving("--demo", cwd=tmp_path) as server:
        first = len(httpx.get(f"{server.base}/v1/pets", params={"limit": 100}).json()["data"])
    with serving("--demo", cwd=tmp_path) as server:
        second = len(httpx.get(f"{server.base}/v1/pets", params={"limit": 100}).json()["data"])

    assert first == second


def test_a_created_key_works_until_it_is_revoked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    created = run(
        "keys", "create", "--scopes", "read:orders,write:orders", "--name", "ci", "--database-url", url, cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    listed = run("keys", "list", "--database-url", url, cwd=tmp_path)
    key_id = next(line.split()[0] for line in listed.stdout.splitlines() if " ci " in line)

    with serving("--database-url", url, cwd=tmp_path) as server:
        before = httpx.get(f"{server.base}/v1/orders", headers={"Authorization": f"Bearer {secret}"})
        revoked = run("keys", "revoke", key_id, "--database-url", url, cwd=tmp_path)
        after = httpx.get(f"{server.base}/v1/orders", headers={"Authorization": f"Bearer {secret}"})

    assert before.status_code == 200
    assert revoked.returncode == 0, revoked.stderr
    assert after.status_code == 401
    assert "active" in listed.stdout
    assert secret not in listed.stdout


def test_the_database_url_comes_from_the_environment(tmp_path: Path) -> None:
    env = os.environ | {"ORDERLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'from-env.db'}"}

    result = run("keys", "create", "--scopes", "admin", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env.db").exists()


@pytest.mark.parametrize("scopes", ["read:everything", ""])
def test_an_unknown_scope_is_refused_with_a_clear_message(tmp_path: Path, scopes: str) -> None:
    result = run("keys", "create", "--scopes", scopes, "--database-url", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)

    assert result.returncode == 1
    assert "scope" in result.stderr


def test_a_bad_database_url_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    result = run("migrate", "--database-url", "mysql://localhost/shop", cwd=tmp_path)

    assert result.returncode == 1
    assert "unsupported database" in result.stderr


@contextmanager
def a_new_postgresql_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of an empty, never migrated database of this test's own, dropped afterwards."""
    name = f"{prefix}_{os.getpid()}"

    async def sql(statement: str) -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(sql(f"DROP DATABASE IF EXISTS {name}"))
    asyncio.run(sql(f"CREATE DATABASE {name}"))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.mark.postgres
def test_serve_refuses_an_unmigrated_postgresql_until_migrate_runs(tmp_path: Path, postgres_server_url: str) -> None:
    with a_new_postgresql_database(postgres_server_url, "orderline_cli") as url:
        refused = run(
            "serve", "--database-url", url, "--port", str(free_port()), cwd=tmp_path, env=os.environ | POSTGRES_KEYS
        )
        migrated = run("migrate", "--database-url", url, cwd=tmp_path)
        with serving("--database-url", url, "--demo", cwd=tmp_path, env=POSTGRES_KEYS) as server:
            pets = httpx.get(f"{server.base}/v1/pets").json()["data"]

    assert refused.returncode == 1
    assert "orderline migrate" in refused.stderr
    assert migrated.returncode == 0, migrated.stderr
    assert pets


def test_support_staff_are_created_from_the_command_line_with_a_role(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    create = ["users", "create", "--username", "helpdesk", "--email", "help@example.com", "--database-url", url]

    both = run(*create, "--admin", "--role", "support", "--password-stdin", cwd=tmp_path, stdin="a long passphrase\n")
    made = run(*create, "--role", "support", "--password-stdin", cwd=tmp_path, stdin="a long passphrase\n")
    listed = run("users", "list", "--role", "support", "--database-url", url, cwd=tmp_path)

    assert both.returncode == 1
    assert "two roles" in both.stderr
    assert made.returncode == 0, made.stderr
    assert "support helpdesk" in made.stdout
    assert "helpdesk" in listed.stdout


def test_the_first_admin_is_created_from_the_command_line_with_the_password_on_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    create = ["users", "create", "--username", "root-admin", "--email", "ops@example.com", "--database-url", url]

    without_stdin = run(*create, "--admin", cwd=tmp_path)
    weak = run(*create, "--admin", "--password-stdin", cwd=tmp_path, stdin="short\n")
    made = run(*create, "--admin", "--password-stdin", cwd=tmp_path, stdin="a long admin passphrase\n")
    with serving("--database-url", url, cwd=tmp_path) as server:
        token = httpx.post(
            f"{server.base}/v1/auth/tokens", json={"username": "root-admin", "password": "a long admin passphrase"}
        ).json()["token"]
        dashboard = httpx.get(f"{server.base}/v1/admin/dashboard", headers={"Authorization": f"Bearer {token}"})

    assert without_stdin.returncode == 1
    assert "--password-stdin" in without_stdin.stderr
    assert weak.returncode == 1
    assert "too weak" in weak.stderr
    assert made.returncode == 0, made.stderr
    assert "admin root-admin" in made.stdout
    assert dashboard.status_code == 200


def test_processes_migrating_a_new_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"

    processes = [
        subprocess.Popen(
            [*ORDERLINE, "migrate", "--database-url", url], cwd=tmp_path, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=60)[1] for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors


@pytest.mark.postgres
def test_processes_migrating_a_new_postgresql_database_at_once_all_succeed(postgres_server_url: str) -> None:
    with a_new_postgresql_database(postgres_server_url, "orderline_race") as url:
        processes = [
            subprocess.Popen([*ORDERLINE, "migrate", "--database-url", url], stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        errors = [process.communicate(timeout=120)[1] for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors


def test_servers_started_at_once_on_a_new_sqlite_file_all_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"

    with ExitStack() as stack:
        servers = [stack.enter_context(started("--database-url", url, cwd=tmp_path)) for _ in range(4)]
        for server in servers:
            server.wait_until_ready()
            answers = httpx.get(f"{server.base}/v1/healthz")

            assert answers.status_code == 200


USER = ["users", "create", "--username", "ops", "--email", "ops@example.com", "--password-stdin"]
DATABASE_COMMANDS = {
    "migrate": ["migrate"],
    "keys create": ["keys", "create", "--scopes", "admin"],
    "keys list": ["keys", "list"],
    "users create": USER,
}


@pytest.mark.parametrize("command", DATABASE_COMMANDS.values(), ids=DATABASE_COMMANDS.keys())
def test_each_command_names_the_database_it_used(tmp_path: Path, command: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'named.db'}"

    result = run(*command, "--database-url", url, cwd=tmp_path, stdin="a long enough passphrase\n")

    assert result.returncode == 0, result.stderr
    assert url in result.stdout


def test_revoking_a_key_names_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'named.db'}"
    created = run("keys", "create", "--scopes", "admin", "--database-url", url, cwd=tmp_path)
    key_id = created.stdout.split()[3]

    revoked = run("keys", "revoke", key_id, "--database-url", url, cwd=tmp_path)
    unknown = run("keys", "revoke", "01a22aff-74db-7760-a13f-5b2bec68c9e5", "--database-url", url, cwd=tmp_path)

    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked API key {key_id} in {url}" in revoked.stdout
    assert unknown.returncode == 1
    assert url in unknown.stderr


@pytest.mark.parametrize(
    "command", [*DATABASE_COMMANDS.values(), ["serve", "--port", "0"]], ids=[*DATABASE_COMMANDS.keys(), "serve"]
)
def test_a_sqlite_file_in_a_missing_folder_is_refused_in_one_line(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no" / "such" / "folder"

    result = run(*command, "--database-url", f"sqlite:///{missing / 'shop.db'}", cwd=tmp_path, stdin="a passphrase\n")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"orderline: cannot use the database sqlite:///{missing / 'shop.db'}: the folder {missing} does not exist;"
        " create it, or choose another path"
    ]
    assert not (tmp_path / "no").exists()


def test_serve_logs_its_version_database_and_address_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"

    with serving("--database-url", url, cwd=tmp_path) as server:
        output = server.output()

    assert f"starting                       database={url} version={__version__}" in output
    assert f"listening                      address=http://127.0.0.1:{server.port}" in output


@pytest.mark.postgres
def test_serve_logs_its_postgresql_database_without_the_password(tmp_path: Path, postgres_database: str) -> None:
    with_password = postgres_database.replace("://postgres@", "://postgres:hunter2@", 1)
    assert with_password != postgres_database

    with serving("--database-url", with_password, cwd=tmp_path, env=POSTGRES_KEYS) as server:
        output = server.output()

    assert "database=postgresql://postgres:***@127.0.0.1" in output
    assert "hunter2" not in output


def test_serve_help_shows_every_default(tmp_path: Path) -> None:
    result = run("serve", "--help", cwd=tmp_path, env=os.environ | {"COLUMNS": "250", "NO_COLOR": "1"})

    options = [line for line in result.stdout.splitlines() if line.lstrip("│ ").startswith("--")]
    assert {line.lstrip("│ ").split()[0] for line in options} == {
        "--host",
        "--port",
        "--database-url",
        "--demo",
        "--worker",
        "--workers",
        "--sandbox",
        "--help",
    }
    assert all("[default: " in line for line in options if "--help" not in line), result.stdout
    for setting in ("REQUEST_TIMEOUT=10", "MAX_CONNECTIONS", "SHUTDOWN_GRACE=30", "TRUSTED_PROXIES"):
        assert f"ORDERLINE_{setting}" in result.stdout


def _without_orderline_variables() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("ORDERLINE_")}


def _an_admin(url: str, cwd: Path) -> None:
    create = ["users", "create", "--username", "root-admin", "--email", "ops@example.com", "--admin"]
    made = run(*create, "--password-stdin", "--database-url", url, cwd=cwd, stdin="a long admin passphrase\n")
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

    with serving("--database-url", url, cwd=tmp_path) as server:
        before = _log_in(server.base)
        rotated = run("signing-keys", "rotate", "--database-url", url, cwd=tmp_path)
        after = _log_in(server.base)
        statuses = (_dashboard(server.base, before), _dashboard(server.base, after))

    assert rotated.returncode == 0, rotated.stderr
    assert f"rotated the key file {tmp_path / 'shop.db.keys'}" in rotated.stdout
    assert f"signing from now on: {jwt.get_unverified_header(after)['kid']}" in rotated.stdout
    assert f"still accepted until its tokens expire: {jwt.get_unverified_header(before)['kid']}" in rotated.stdout
    assert statuses == (200, 200)


def test_signing_keys_are_listed_by_id_never_by_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    for _ in range(2):
        run("signing-keys", "rotate", "--database-url", url, cwd=tmp_path)

    listed = run("signing-keys", "list", "--database-url", url, cwd=tmp_path)

    secrets = [key["secret"] for key in json.loads((tmp_path / "shop.db.keys").read_text())["signing_keys"]]
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[1] for line in listed.stdout.splitlines()[2:]] == ["current", "retired"]
    assert not any(secret in listed.stdout for secret in secrets)


def test_serve_refuses_a_key_file_other_users_may_read_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    run("signing-keys", "rotate", "--database-url", url, cwd=tmp_path)
    (tmp_path / "shop.db.keys").chmod(0o644)

    refused = run("serve", "--database-url", url, "--port", str(free_port()), cwd=tmp_path)

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

    refused = run("serve", "--database-url", postgres_database, "--port", str(free_port()), cwd=tmp_path, env=env)

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "orderline: PostgreSQL keeps no signing keys: set ORDERLINE_JWT_SECRET and ORDERLINE_TEST_GATEWAY_SECRET,"
        " or ORDERLINE_KEYS_FILE to a key file every process reads (make it with `orderline signing-keys rotate`)"
    ]
