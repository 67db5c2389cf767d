"""What every command shares: its settings, the database it names, the use cases, and one-line failures."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import asyncpg
import structlog
import typer

from orderline import bootstrap, logs
from orderline.application.errors import ApplicationError
from orderline.application.use_cases import UseCases
from orderline.config import Settings, SettingsError
from orderline.security.signing_keys import KeysUnavailable
from orderline.storage.database import DatabaseUrl, DatabaseUrlError

T = TypeVar("T")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB",
        show_default="$ORDERLINE_DATABASE_URL or sqlite:///./orderline.db",
    ),
]
log = structlog.get_logger("orderline")


def settings_of(**overrides: Any) -> Settings:
    """The environment's settings with the command's flags on top; a refusal is one line and exit 1."""
    try:
        settings = Settings.load(**overrides)
        DatabaseUrl.parse(settings.database_url)
    except (SettingsError, DatabaseUrlError) as exc:
        fail(str(exc))
    logs.configure(settings.log_level, settings.log_format)
    return settings


def fail(message: str) -> NoReturn:
    typer.echo(f"orderline: {message}", err=True)
    raise typer.Exit(code=1)


def database_of(settings: Settings) -> DatabaseUrl:
    """The database ``settings`` name (checked by ``settings_of``); it prints without its password."""
    return DatabaseUrl.parse(settings.database_url)


def with_use_cases(settings: Settings, work: Callable[[UseCases], Awaitable[T]]) -> T:
    """Open the use cases on the settings' database, do ``work``, close them; refusals are one line."""

    async def run() -> T:
        use_cases = await bootstrap.build(settings)
        try:
            return await work(use_cases)
        finally:
            await use_cases.close()

    try:
        return asyncio.run(run())
    except (bootstrap.SchemaOutdated, KeysUnavailable) as exc:
        fail(str(exc))
    except ApplicationError as exc:
        fail(f"{exc} (in {database_of(settings)})")
    except (OSError, sqlite3.OperationalError, asyncpg.PostgresError) as exc:
        fail(f"cannot use the database {database_of(settings)}: {exc}")
