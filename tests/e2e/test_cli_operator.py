"""The operator's commands: --version, -h everywhere, `config show`, clear setting errors, `users list` and
`users set-password`. Run through the real Typer application in-process (the process tests are in test_cli.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner, Result

from orderline import __version__
from orderline.application.principal import PUBLIC
from orderline.application.use_cases import UseCases
from orderline.cli import cli
from orderline.config import Settings
from orderline.http.app import create_app
from tests.support import TEST_GATEWAY_SECRET, TEST_JWT_SECRET

SECRET = TEST_JWT_SECRET
PASSWORD = "a long admin passphrase"
COMMANDS = [
    [],
    ["serve"],
    ["migrate"],
    ["worker"],
    ["keys"],
    ["keys", "create"],
    ["keys", "list"],
    ["keys", "revoke"],
    ["users"],
    ["users", "create"],
    ["users", "list"],
    ["users", "set-password"],
    ["signing-keys"],
    ["signing-keys", "rotate"],
    ["signing-keys", "list"],
    ["config"],
    ["config", "show"],
]


def orderline(*args: str, database_url: str | None = None, stdin: str | None = None, **env: str) -> Result:
    """One command line, with the test's database and (as PostgreSQL needs) signing secrets in the environment."""
    environment = {"ORDERLINE_JWT_SECRET": SECRET, "ORDERLINE_TEST_GATEWAY_SECRET": TEST_GATEWAY_SECRET, **env}
    if database_url is not None:
        environment["ORDERLINE_DATABASE_URL"] = database_url
    return CliRunner().invoke(cli, list(args), input=stdin, env=environment, prog_name="orderline")


async def _no_use_cases() -> UseCases:
    raise AssertionError("the OpenAPI document needs no database")


def test_the_version_is_printed_and_is_the_one_the_api_document_states() -> None:
    printed = orderline("--version")

    document = create_app(Settings(), _no_use_cases).openapi_schema.to_schema()
    assert printed.exit_code == 0
    assert printed.stdout.strip() == f"orderline {__version__}"
    assert document["info"]["version"] == __version__


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "orderline")
def test_dash_h_shows_help_for_every_command(command: list[str]) -> None:
    shown = orderline(*command, "-h")

    assert shown.exit_code == 0, shown.output
    assert "Usage: orderline" in shown.stdout


def test_config_show_prints_every_setting_with_its_source_and_masks_secrets(database_url: str) -> None:
    with_password = "redis://:hunter2-redis@127.0.0.1:6379/0"

    shown = orderline("config", "show", database_url=database_url, ORDERLINE_REDIS_URL=with_password,
                      ORDERLINE_PORT="9100")  # fmt: skip

    lines = dict(line.split("=", 1) for line in shown.stdout.splitlines())
    assert shown.exit_code == 0, shown.output
    assert set(lines) == {f"ORDERLINE_{field.upper()}" for field in Settings.__struct_fields__}
    assert lines["ORDERLINE_PORT"].split() == ["9100", "#", "environment"]
    assert lines["ORDERLINE_HOST"].split() == ["127.0.0.1", "#", "default"]
    assert lines["ORDERLINE_REDIS_URL"].split()[0] == "redis://:***@127.0.0.1:6379/0"
    assert lines["ORDERLINE_JWT_SECRET"].split()[:2] == ["********", "(set)"]
    assert SECRET not in shown.stdout
    assert "hunter2" not in shown.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ORDERLINE_CUSTOMER_ERASURE", "yes", "ORDERLINE_CUSTOMER_ERASURE=yes is not accepted: expected true or false"),
        ("ORDERLINE_PORT", "70000", "ORDERLINE_PORT=70000 is not accepted: expected a whole number from 0 to 65535"),
        ("ORDERLINE_LOG_LEVEL", "loud", "ORDERLINE_LOG_LEVEL=loud is not accepted: expected one of debug, error"),
        ("ORDERLINE_REQUEST_TIMEOUT", "0", "ORDERLINE_REQUEST_TIMEOUT=0 is not accepted: expected a number above 0"),
        ("ORDERLINE_RATE_LIMITS", "fast", "ORDERLINE_RATE_LIMITS: 'fast' is not GROUP=REQUESTS/SECONDS"),
        ("ORDERLINE_JWT_SECRET", "short", "ORDERLINE_JWT_SECRET: a secret of 5 bytes is too short"),
    ],
)
def test_a_refused_setting_is_one_line_naming_the_variable_and_what_it_accepts(
    variable: str, value: str, message: str
) -> None:
    refused = orderline("config", "show", **{variable: value})

    assert refused.exit_code == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"orderline: {message}"), line
    assert "$." not in line  # never msgspec's internal field path


def test_a_refused_flag_is_named_as_the_flag() -> None:
    refused = orderline("serve", "--port", "70000")

    assert refused.exit_code == 1
    assert refused.stderr.strip() == "orderline: --port=70000 is not accepted: expected a whole number from 0 to 65535"


def test_a_secret_that_is_refused_is_never_echoed() -> None:
    refused = orderline("config", "show", ORDERLINE_JWT_SECRET="tooshort-but-secret")

    assert refused.exit_code == 1
    assert "tooshort-but-secret" not in refused.output


def _create(database_url: str, username: str, *extra: str) -> None:
    made = orderline("users", "create", "--username", username, "--email", f"{username}@example.com",
                     "--password-stdin", *extra, database_url=database_url, stdin=PASSWORD + "\n")  # fmt: skip
    assert made.exit_code == 0, made.output


def test_users_list_shows_every_account_with_its_role_and_status_never_a_password(database_url: str) -> None:
    _create(database_url, "root-admin", "--admin")
    _create(database_url, "alice")

    listed = orderline("users", "list", database_url=database_url)
    admins = orderline("users", "list", "--role", "admin", database_url=database_url)

    rows = [line.split() for line in listed.stdout.splitlines()[2:]]
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[0].startswith("users in ")
    assert sorted((row[1], row[2], row[3]) for row in rows) == [("alice", "CUSTOMER", "ACTIVE"),
                                                                ("root-admin", "ADMIN", "ACTIVE")]  # fmt: skip
    assert [line.split()[1] for line in admins.stdout.splitlines()[2:]] == ["root-admin"]
    assert "argon2" not in listed.stdout
    assert PASSWORD not in listed.stdout


def test_set_password_gives_an_account_a_new_password_read_from_stdin(database_url: str) -> None:
    _create(database_url, "root-admin", "--admin")

    changed = orderline("users", "set-password", "root-admin", "--password-stdin", database_url=database_url,
                        stdin="another long passphrase\n")  # fmt: skip

    assert changed.exit_code == 0, changed.output
    assert changed.stdout.startswith("set a new password for root-admin (")
    assert _can_log_in(database_url, "root-admin", "another long passphrase")
    assert not _can_log_in(database_url, "root-admin", PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["nobody", "--password-stdin"], "another long passphrase\n", "user nobody was not found"),
        (["root-admin", "--password-stdin"], "short\n", "the password is too weak"),
        (["root-admin"], None, "pass --password-stdin"),
    ],
)
def test_set_password_refusals_are_one_line_and_change_nothing(
    database_url: str, args: list[str], stdin: str | None, message: str
) -> None:
    _create(database_url, "root-admin", "--admin")

    refused = orderline("users", "set-password", *args, database_url=database_url, stdin=stdin)

    assert refused.exit_code == 1
    assert message in refused.stderr
    assert _can_log_in(database_url, "root-admin", PASSWORD)


def _can_log_in(database_url: str, username: str, password: str) -> bool:
    import asyncio

    from orderline.application.errors import Unauthenticated
    from orderline.bootstrap import build

    async def log_in() -> bool:
        settings = Settings(database_url=database_url, jwt_secret=SECRET, test_gateway_secret=TEST_GATEWAY_SECRET)
        use_cases = await build(settings)
        try:
            await use_cases.users.issue_token(PUBLIC, username, password)
        except Unauthenticated:
            return False
        finally:
            await use_cases.close()
        return True

    return asyncio.run(log_in())
