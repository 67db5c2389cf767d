"""The command line: serve, migrate, keys and users. Names and flags are a contract other scripts call."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar
from uuid import UUID

import asyncpg
import structlog
import typer
import uvicorn

from orderline import bootstrap, logs
from orderline.application.api_keys import parse_scopes
from orderline.application.demo import DEMO_PETS
from orderline.application.errors import ApplicationError
from orderline.application.principal import SYSTEM
from orderline.application.use_cases import UseCases
from orderline.application.users import Registration
from orderline.config import Settings, SettingsError
from orderline.domain.errors import DomainError
from orderline.domain.user import Role
from orderline.http.app import create_app
from orderline.storage.database import DatabaseUrl, DatabaseUrlError
from orderline.storage.migrate import upgrade

T = TypeVar("T")

cli = typer.Typer(no_args_is_help=True, add_completion=False, help="orderline order service")
keys = typer.Typer(no_args_is_help=True, help="API keys for machine clients")
users = typer.Typer(no_args_is_help=True, help="user accounts")
cli.add_typer(keys, name="keys")
cli.add_typer(users, name="users")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="default: $ORDERLINE_DATABASE_URL or sqlite:///./orderline.db"),
]
log = structlog.get_logger("orderline")


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings.load(**overrides)
        DatabaseUrl.parse(settings.database_url)
    except (SettingsError, DatabaseUrlError) as exc:
        _fail(str(exc))
    logs.configure(settings.log_level, settings.log_format)
    return settings


def _fail(message: str) -> NoReturn:
    typer.echo(f"orderline: {message}", err=True)
    raise typer.Exit(code=1)


def _with_use_cases(settings: Settings, work: Callable[[UseCases], Awaitable[T]]) -> T:
    async def run() -> T:
        use_cases = await bootstrap.build(settings)
        try:
            return await work(use_cases)
        finally:
            await use_cases.close()

    try:
        return asyncio.run(run())
    except (bootstrap.SchemaOutdated, ApplicationError) as exc:
        _fail(str(exc))
    except (OSError, sqlite3.OperationalError, asyncpg.PostgresError) as exc:
        _fail(f"the database {DatabaseUrl.parse(settings.database_url)} failed: {exc}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on [default: 8000]")] = None,
    database_url: DatabaseOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="add a demo catalogue to an empty shop")] = False,
) -> None:
    """Run the HTTP service. An embedded SQLite database is migrated first; PostgreSQL must be."""
    settings = _settings(host=host, port=port, database_url=database_url)
    _with_use_cases(settings, lambda use_cases: asyncio.sleep(0))  # migrate SQLite, check PostgreSQL

    async def open_use_cases() -> UseCases:
        use_cases = await bootstrap.build(settings)
        if demo:
            added = await use_cases.catalogue.add_unless_stocked(SYSTEM, DEMO_PETS)
            log.info("demo catalogue", pets_added=added)
        return use_cases

    app = create_app(settings, open_use_cases)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Logging (issue 8, operations): uvicorn's lines in our format; the access line is ours, with the request id.
        log_config=logs.uvicorn_log_config(settings.log_level, settings.log_format),
        access_log=False,
    )


@cli.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Bring the database to the newest schema."""
    settings = _settings(database_url=database_url)
    url = DatabaseUrl.parse(settings.database_url)
    try:
        upgrade(url)
    except OSError as exc:
        _fail(f"cannot reach the database {url}: {exc}")
    typer.echo(f"{url} is at the newest schema")


@keys.command("create")
def create_key(
    scopes: Annotated[str, typer.Option(help="comma-separated, e.g. read:orders,write:orders")],
    name: Annotated[str, typer.Option(help="what the key is for")] = "unnamed",
    database_url: DatabaseOption = None,
) -> None:
    """Create a key; the key itself is printed once, alone on the last line."""
    settings = _settings(database_url=database_url)
    try:
        wanted = parse_scopes(scopes.split(","))
    except ApplicationError as exc:
        _fail(str(exc))
    key, secret = _with_use_cases(settings, lambda s: s.api_keys.create(name, wanted))
    typer.echo(f"created API key {key.id} ({name}) with scopes {','.join(sorted(key.scopes))}")
    typer.echo("store it now: it cannot be shown again")
    typer.echo(secret)


@keys.command("list")
def list_keys(database_url: DatabaseOption = None) -> None:
    """List keys (never their secrets)."""
    settings = _settings(database_url=database_url)
    found = _with_use_cases(settings, lambda s: s.api_keys.list())
    typer.echo(f"{'id':36}  {'prefix':10}  {'status':7}  {'name':20}  scopes")
    for key in found:
        status = "revoked" if key.revoked_at else "active"
        scopes = ",".join(sorted(key.scopes))
        typer.echo(f"{key.id!s:36}  {key.prefix:10}  {status:7}  {key.name:20}  {scopes}")


@keys.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="the key's id")], database_url: DatabaseOption = None
) -> None:
    """Revoke a key; requests with it are refused from then on."""
    settings = _settings(database_url=database_url)
    try:
        parsed = UUID(key_id)
    except ValueError:
        _fail(f"{key_id!r} is not a key id (a UUID; see `orderline keys list`)")
    _with_use_cases(settings, lambda s: s.api_keys.revoke(parsed))
    typer.echo(f"revoked API key {parsed}")


@users.command("create")
def create_user(
    username: Annotated[str, typer.Option(help="3 to 32 letters, digits, '.', '_' or '-'")],
    email: Annotated[str, typer.Option(help="the account's email address")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input (required)")
    ] = False,
    admin: Annotated[bool, typer.Option("--admin", help="an administrator (scope admin), e.g. the first one")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create an account; the password comes from standard input, never from the command line."""
    if not password_stdin:
        _fail("pass --password-stdin and send the password on standard input (it must not appear in `ps`)")
    password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings(database_url=database_url)
    registration = Registration(username, email, password)
    role = Role.ADMIN if admin else Role.CUSTOMER
    try:
        user = _with_use_cases(settings, lambda s: s.users.register(SYSTEM, registration, role))
    except DomainError as exc:
        _fail(str(exc))
    typer.echo(f"created {user.role.value.lower()} {user.username} ({user.id})")


def main() -> None:
    cli(prog_name="orderline")


if __name__ == "__main__":
    main()
